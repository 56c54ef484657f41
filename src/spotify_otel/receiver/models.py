"""Plain, typed records of what the receiver decoded from OTLP.

Every record is a frozen dataclass holding Python values only (no protobuf objects), so tests can
compare them with ``==`` and the console can serialise them with :func:`to_json_dict`:

- attribute values keep their OTLP type: ``str``, ``bool``, ``int``, ``float``, ``bytes``,
  arrays as ``tuple``, key/value lists as ``dict``, an empty value as ``None``;
- trace and span ids are lower-case hex strings (32 and 16 characters), ``""`` when absent;
- enums are short upper-case names (``"SERVER"``, ``"ERROR"``) or lower-case kinds (``"sum"``).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Transport = Literal["grpc", "http"]
Signal = Literal["traces", "metrics", "logs"]

TENANT_KEY = "tenant.id"


def _tenant(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get(TENANT_KEY)
    return None if value is None else str(value)


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as received: ids in hex, kind/status as names, attributes as Python values."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status_code: str
    status_message: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    resource: dict[str, Any]
    scope_name: str
    transport: Transport
    scope_version: str = ""
    trace_state: str = ""
    links: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        """Span duration in milliseconds (0 when the end precedes the start)."""
        return max(self.end_ns - self.start_ns, 0) / 1e6

    @property
    def tenant(self) -> str | None:
        """The ``tenant.id`` attribute of the span itself, or None."""
        return _tenant(self.attributes)

    @property
    def service_name(self) -> str:
        """The resource's ``service.name`` ("" when missing)."""
        return str(self.resource.get("service.name", ""))

    @property
    def is_root(self) -> bool:
        """True when the span has no parent."""
        return not self.parent_span_id


@dataclass(frozen=True)
class ReceivedLog:
    """One log record; ``timestamp_ns`` falls back to the observed time when the event time is 0."""

    timestamp_ns: int
    severity_text: str
    severity_number: int
    body: Any
    attributes: dict[str, Any]
    trace_id: str
    span_id: str
    resource: dict[str, Any]
    scope_name: str
    transport: Transport
    observed_timestamp_ns: int = 0
    event_name: str = ""

    @property
    def tenant(self) -> str | None:
        """The ``tenant.id`` attribute of the record itself, or None."""
        return _tenant(self.attributes)

    @property
    def service_name(self) -> str:
        """The resource's ``service.name`` ("" when missing)."""
        return str(self.resource.get("service.name", ""))


@dataclass(frozen=True)
class ReceivedPoint:
    """One metric data point, flattened with its metric's name, unit, kind and temporality.

    ``value`` is set for sums and gauges; ``count``/``sum``/``bucket_counts``/``explicit_bounds``
    for histograms (for exponential histograms ``bucket_counts`` are the positive buckets, see
    ``scale``/``positive_offset``/``zero_count``); ``quantiles`` for summaries.
    """

    name: str
    unit: str
    description: str
    kind: str
    monotonic: bool | None
    temporality: str | None
    attributes: dict[str, Any]
    value: int | float | None
    count: int | None
    sum: float | None
    bucket_counts: tuple[int, ...]
    explicit_bounds: tuple[float, ...]
    exemplars: int
    time_ns: int
    resource: dict[str, Any]
    scope_name: str
    transport: Transport
    start_time_ns: int = 0
    scope_version: str = ""
    scope_schema_url: str = ""
    scope_attributes: dict[str, Any] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    flags: int = 0
    scale: int | None = None
    zero_count: int | None = None
    positive_offset: int | None = None
    negative_offset: int | None = None
    negative_bucket_counts: tuple[int, ...] = ()
    quantiles: tuple[tuple[float, float], ...] = ()
    exemplar_trace_ids: tuple[str, ...] = ()

    @property
    def tenant(self) -> str | None:
        """The ``tenant.id`` attribute of the point itself, or None."""
        return _tenant(self.attributes)

    @property
    def no_recorded_value(self) -> bool:
        """True when the point carries the FLAG_NO_RECORDED_VALUE flag (a staleness marker)."""
        return bool(self.flags & 1)


Record = ReceivedSpan | ReceivedLog | ReceivedPoint


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def to_json_dict(record: Record) -> dict[str, Any]:
    """Return a JSON-serialisable dict of ``record`` with a ``signal`` field (span, log or metric).

    Bytes become base64 strings, tuples become lists; derived properties (``duration_ms``,
    ``tenant``) are included for convenience.
    """
    signal = {ReceivedSpan: "span", ReceivedLog: "log", ReceivedPoint: "metric"}[type(record)]
    data: dict[str, Any] = {"signal": signal}
    for f in dataclasses.fields(record):
        data[f.name] = _jsonable(getattr(record, f.name))
    data["tenant"] = record.tenant
    if isinstance(record, ReceivedSpan):
        data["duration_ms"] = record.duration_ms
    return data
