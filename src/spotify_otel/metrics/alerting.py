"""``AlertManager``: push alerts from application code to a real Alertmanager (API v2).

Example (the seed's call works as written)::

    from spotify_otel.metrics import AlertManager

    alerts = AlertManager()            # ALERTMANAGER_URL, default http://localhost:9093
    alerts.trigger_alert("high_latency", severity="warning", tenant_id="tenant_1")
    alerts.resolve_alert("high_latency", tenant_id="tenant_1")

Repeats of a firing alert within ``dedup_seconds`` are not re-sent. Each post is retried a bounded
number of times within ``timeout`` seconds; when Alertmanager is down the call returns ``False``, logs
and counts the failure (``spotify.alerts.notifications{outcome="failed"}``) and never raises.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from opentelemetry import metrics

from spotify_otel.metrics._labels import label_value, tenant_value
from spotify_otel.tenant import current_tenant

_logger = logging.getLogger("spotify_otel.alerts")
SEVERITIES = ("critical", "warning", "info", "security")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AlertManager:
    """Client for Alertmanager's ``POST /api/v2/alerts`` with dedup and bounded retry."""

    def __init__(self, url: str | None = None, timeout: float = 2.0, retries: int = 2, dedup_seconds: float = 60.0,
                 service: str | None = None) -> None:
        from spotify_otel._settings import resolve
        from spotify_otel._telemetry import get_telemetry

        telemetry = get_telemetry()
        settings = telemetry.settings if telemetry is not None else resolve({})
        self.url = (url or settings.alertmanager_url).rstrip("/")
        self.service = service or settings.service_name
        self.timeout = timeout
        self.retries = retries
        self.dedup_seconds = dedup_seconds
        self._sent: dict[frozenset[tuple[str, str]], float] = {}
        self._lock = threading.Lock()
        self.failures = 0
        self._notifications = metrics.get_meter("spotify_otel.alerts").create_counter(
            "spotify.alerts.notifications", unit="{notification}", description="Alerts posted to Alertmanager.")

    def _labels(self, name: str, severity: str, tenant_id: str | None, extra: dict[str, str] | None
                ) -> dict[str, str]:
        labels = {"alertname": name, "severity": severity if severity in SEVERITIES else "warning",
                  "service": self.service}
        tenant = tenant_id if tenant_id is not None else current_tenant()
        if tenant is not None:
            labels["tenant_id"] = tenant_value("spotify.alerts.notifications", tenant)
        for key, value in (extra or {}).items():
            if key.isidentifier() and key not in labels:
                labels[key] = str(value)[:256]
        return labels

    def trigger_alert(self, name: str, severity: str = "warning", tenant_id: str | None = None,
                      summary: str | None = None, description: str | None = None,
                      labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> bool:
        """Fire (or keep firing) an alert; returns True when Alertmanager accepted it or it was a repeat."""
        alert_labels = self._labels(name, severity, tenant_id, labels)
        key = frozenset(alert_labels.items())
        now = time.monotonic()
        with self._lock:
            last = self._sent.get(key)
            if last is not None and now - last < self.dedup_seconds:
                self._count(alert_labels, "deduplicated")
                return True
        alert_annotations = {"summary": summary or f"{name} ({alert_labels['severity']})"}
        if description:
            alert_annotations["description"] = description
        alert_annotations.update({k: str(v) for k, v in (annotations or {}).items()})
        ok = self._post([{"labels": alert_labels, "annotations": alert_annotations, "startsAt": _now()}])
        if ok:
            with self._lock:
                self._sent[key] = now
        self._count(alert_labels, "sent" if ok else "failed")
        return ok

    def resolve_alert(self, name: str, severity: str = "warning", tenant_id: str | None = None,
                      labels: dict[str, str] | None = None) -> bool:
        """Resolve an alert (``endsAt`` = now). Never raises."""
        alert_labels = self._labels(name, severity, tenant_id, labels)
        with self._lock:
            self._sent.pop(frozenset(alert_labels.items()), None)
        ok = self._post([{"labels": alert_labels, "endsAt": _now()}])
        self._count(alert_labels, "sent" if ok else "failed")
        return ok

    def _count(self, labels: dict[str, str], outcome: str) -> None:
        try:
            self._notifications.add(1, {"alertname": label_value("spotify.alerts", "alertname", labels["alertname"]),
                                        "severity": labels["severity"], "outcome": outcome})
        except Exception:
            _logger.debug("alert counter failed", exc_info=True)

    def _post(self, payload: list[dict[str, Any]]) -> bool:
        body = json.dumps(payload).encode()
        deadline = time.monotonic() + self.timeout
        error = ""
        for attempt in range(self.retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            request = urllib.request.Request(f"{self.url}/api/v2/alerts", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=remaining) as response:
                    if 200 <= response.status < 300:
                        return True
                    error = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                if 400 <= exc.code < 500:  # a client error will not get better by retrying
                    break
            except (OSError, ValueError) as exc:
                error = str(exc)
            pause = min(0.2 * 2**attempt, max(0.0, deadline - time.monotonic()))
            if attempt < self.retries and pause > 0:
                time.sleep(pause)
        self.failures += 1
        _logger.error("spotify-otel: could not post alert to %s: %s", self.url, error)
        return False
