"""The SLO specification (``alerts/slo.yaml``): parsing and validation into frozen dataclasses.

Format::

    version: 1
    slos:
      - name: music-api                 # [a-z0-9-]; the rules use "<name>-<sli>" as the slo label
        service: spotify/music-api      # the Prometheus job: "<service.namespace>/<service.name>"
        description: Music API          # optional
        window: 30d                     # 28d .. 90d (days or weeks)
        tenants: each                   # all (default) | each | [acme, globex]
        objectives:                     # percent of good requests; at least one
          availability: 99.9            # status < 500
          latency: 99                   # faster than the service's slo_latency_threshold_ms
        latency_threshold_ms: 300       # optional, for the alert text; must match the SDK setting
        labels: {team: music}           # optional extra alert labels

Every error names the offending field (``slos[0].objectives.availability``), its value and what is
accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from spotify_otel.slo.windows import parse_duration

SLIS = ("availability", "latency")
RESERVED_LABELS = frozenset(
    {"severity", "service", "slo", "sli", "slo_alert", "slo_window", "job", "tenant_id", "alertname"}
)
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}")
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_MIN_WINDOW_S, _MAX_WINDOW_S = 28 * 86400, 90 * 86400


class SpecError(ValueError):
    """The SLO specification is invalid; the message names the field, the value and what is accepted."""


@dataclass(frozen=True)
class SLO:
    """One service-level objective of one SLI (availability or latency)."""

    name: str  # "<entry name>-<sli>": the value of the ``slo`` label
    service: str
    sli: str
    objective: Decimal  # a ratio, e.g. 0.999
    window: str
    tenants: str | tuple[str, ...]  # "all", "each" or an explicit list
    description: str = ""
    latency_threshold_ms: Decimal | None = None
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def per_tenant(self) -> bool:
        """Whether rules are computed and alerted per tenant."""
        return self.tenants != "all"

    @property
    def error_budget(self) -> Decimal:
        """The allowed ratio of bad requests (1 - objective)."""
        return 1 - self.objective


@dataclass(frozen=True)
class SLOSpec:
    """A validated specification: the SLOs in file order (one per entry and SLI)."""

    slos: tuple[SLO, ...] = field(default_factory=tuple)


def load_spec(path: str | Path) -> SLOSpec:
    """Read and validate the YAML specification at ``path`` (raises :class:`SpecError`)."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - PyYAML ships with the dev extra
        raise SpecError("reading an SLO specification needs PyYAML: pip install pyyaml") from exc
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read SLO specification {path}: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML: {exc}") from exc
    return parse_spec(document)


def parse_spec(document: Any) -> SLOSpec:
    """Validate an already parsed specification document."""
    root = _mapping(document, "the document", {"version", "slos"})
    if root.get("version") != 1:
        raise SpecError(f"version: {root.get('version')!r} is not supported; accepted: 1")
    entries = root.get("slos")
    if not isinstance(entries, list) or not entries:
        raise SpecError("slos: must be a non-empty list of SLO entries")
    slos: list[SLO] = []
    for index, entry in enumerate(entries):
        slos.extend(_parse_entry(entry, f"slos[{index}]"))
    names = [slo.name for slo in slos]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SpecError(f"slos: duplicate SLO names {duplicates}; every entry needs its own name")
    return SLOSpec(tuple(slos))


def _parse_entry(entry: Any, where: str) -> list[SLO]:
    allowed = {
        "name", "service", "description", "window", "tenants", "objectives", "latency_threshold_ms", "labels"
    }
    data = _mapping(entry, where, allowed)
    name = _string(data, "name", where, _NAME, "lower-case letters, digits and '-' (e.g. music-api)")
    service = _string(data, "service", where, _SERVICE, "a job label value such as spotify/music-api")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{where}.description: {description!r} must be a string")
    window = _window(data.get("window", "30d"), f"{where}.window")
    tenants = _tenants(data.get("tenants", "all"), f"{where}.tenants")
    threshold = data.get("latency_threshold_ms")
    threshold_ms = None if threshold is None else _number(threshold, f"{where}.latency_threshold_ms", 0, None)
    labels = _labels(data.get("labels", {}), f"{where}.labels")
    objectives = _mapping(data.get("objectives"), f"{where}.objectives", set(SLIS))
    if not objectives:
        raise SpecError(f"{where}.objectives: give at least one of {', '.join(SLIS)}")
    return [
        SLO(
            name=f"{name}-{sli}",
            service=service,
            sli=sli,
            objective=_number(objectives[sli], f"{where}.objectives.{sli}", 50, 100) / 100,
            window=window,
            tenants=tenants,
            description=description,
            latency_threshold_ms=threshold_ms,
            labels=labels,
        )
        for sli in SLIS
        if sli in objectives
    ]


def _mapping(value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: must be a mapping, got {type(value).__name__}")
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field(s) {unknown}; accepted: {sorted(allowed)}")
    return value


def _string(data: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str], accepted: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise SpecError(f"{where}.{key}: {value!r} is invalid; accepted: {accepted}")
    return value


def _number(value: Any, where: str, low: int, high: int | None) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        number = Decimal(str(value))
    except InvalidOperation:
        raise SpecError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite() or number <= low or (high is not None and number >= high):
        bounds = f"between {low} and {high} (exclusive), e.g. 99.9" if high is not None else f"above {low}"
        raise SpecError(f"{where}: {value!r} is out of range; accepted: a number {bounds}")
    return number


def _window(value: Any, where: str) -> str:
    try:
        seconds = parse_duration(value) if isinstance(value, str) else -1
    except ValueError:
        seconds = -1
    if not _MIN_WINDOW_S <= seconds <= _MAX_WINDOW_S or value[-1] not in "dw":
        raise SpecError(f"{where}: {value!r} is invalid; accepted: 28d to 90d in days or weeks (30d, 4w)")
    return str(value)


def _tenants(value: Any, where: str) -> str | tuple[str, ...]:
    if value in ("all", "each"):
        return str(value)
    if isinstance(value, list) and value and all(isinstance(t, str) and _TENANT.fullmatch(t) for t in value):
        if len(set(value)) != len(value):
            raise SpecError(f"{where}: {value!r} lists a tenant twice")
        return tuple(value)
    raise SpecError(f"{where}: {value!r} is invalid; accepted: all, each, or a non-empty list of tenant ids")


def _labels(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: must be a mapping of label names to string values")
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        if not isinstance(key, str) or not _LABEL_NAME.fullmatch(key) or key.startswith("__"):
            raise SpecError(f"{where}: {key!r} is not a Prometheus label name")
        if key in RESERVED_LABELS:
            raise SpecError(f"{where}: {key!r} is set by the generator; reserved: {sorted(RESERVED_LABELS)}")
        if not isinstance(item, str):
            raise SpecError(f"{where}.{key}: {item!r} must be a string")
        pairs.append((key, item))
    return tuple(sorted(pairs))
