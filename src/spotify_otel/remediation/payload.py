"""Parse and validate Alertmanager webhook payloads (version 4) into typed alerts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_FINGERPRINT = re.compile(r"[0-9a-fA-F]{1,64}")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
MAX_ALERTS = 1000


class PayloadError(ValueError):
    """The request body is not a valid Alertmanager webhook payload; the message says where."""


@dataclass(frozen=True)
class Alert:
    """One alert of a webhook notification."""

    status: str  # "firing" or "resolved"
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    fingerprint: str
    starts_at: str

    @property
    def alertname(self) -> str:
        """The ``alertname`` label ("" when absent)."""
        return self.labels.get("alertname", "")


def parse_payload(body: bytes) -> list[Alert]:
    """Decode ``body`` (JSON) and return its alerts; raises :class:`PayloadError`."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PayloadError("body must be a JSON object (Alertmanager webhook payload)")
    if document.get("version") != "4":
        raise PayloadError(f"version: {document.get('version')!r} is not supported; accepted: \"4\"")
    alerts = document.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: must be a list")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"alerts: {len(alerts)} alerts in one notification; at most {MAX_ALERTS}")
    return [_alert(item, f"alerts[{index}]") for index, item in enumerate(alerts)]


def _alert(item: Any, where: str) -> Alert:
    if not isinstance(item, dict):
        raise PayloadError(f"{where}: must be an object")
    status = item.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}.status: {status!r}; accepted: firing, resolved")
    labels = _strings(item.get("labels"), f"{where}.labels", check_names=True)
    if not labels.get("alertname"):
        raise PayloadError(f"{where}.labels: no alertname")
    annotations = _strings(item.get("annotations", {}), f"{where}.annotations", check_names=False)
    fingerprint = item.get("fingerprint")
    if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
        raise PayloadError(f"{where}.fingerprint: {fingerprint!r} is not a hexadecimal fingerprint")
    starts_at = item.get("startsAt", "")
    if not isinstance(starts_at, str):
        raise PayloadError(f"{where}.startsAt: must be a string")
    return Alert(status, labels, annotations, fingerprint.lower(), starts_at)


def _strings(value: Any, where: str, check_names: bool) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: must be an object of strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}.{key}: must be a string, got {type(item).__name__}")
        if check_names and not _LABEL_NAME.fullmatch(key):
            raise PayloadError(f"{where}: {key!r} is not a label name")
    return dict(value)
