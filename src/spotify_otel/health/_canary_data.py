"""The canary's telemetry, built directly as OTLP protobuf requests.

One span, one gauge point and one log record, all carrying ``canary.id=<uuid>`` and
``tenant.id="canary"`` under the resource ``service.name="spotify-otel-canary"``. The gauge
``spotify.canary.timestamp`` (unit ``s``, value = send time in Unix seconds) becomes
``spotify_canary_timestamp_seconds{canary_id="<uuid>", tenant_id="canary"}`` after the collector's
Prometheus translation; the log body contains the canary id and the record links to the span.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

SERVICE_NAME = "spotify-otel-canary"
TENANT = "canary"
ID_ATTRIBUTE = "canary.id"
METRIC_NAME = "spotify.canary.timestamp"
METRIC_UNIT = "s"
PROMETHEUS_METRIC = "spotify_canary_timestamp_seconds"
PROMETHEUS_LABEL = "canary_id"
SCOPE = InstrumentationScope(name="spotify_otel.health.canary", version="1")


@dataclass(frozen=True)
class Canary:
    """Identity of one canary run: a unique id plus the trace/span ids of its span."""

    canary_id: str
    trace_id: bytes
    span_id: bytes
    created_ns: int

    @classmethod
    def new(cls) -> Canary:
        """A fresh canary with random ids."""
        return cls(str(uuid.uuid4()), os.urandom(16), os.urandom(8), time.time_ns())

    @property
    def trace_id_hex(self) -> str:
        """The trace id as 32 lowercase hex digits."""
        return self.trace_id.hex()


def _attrs(**values: str) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()]


def _record_attrs(canary: Canary) -> list[KeyValue]:
    return _attrs(**{ID_ATTRIBUTE: canary.canary_id, "tenant.id": TENANT})


def _resource() -> Resource:
    return Resource(attributes=_attrs(**{"service.name": SERVICE_NAME, "tenant.id": TENANT}))


def trace_request(canary: Canary, now_ns: int) -> ExportTraceServiceRequest:
    """One finished INTERNAL span named 'spotify-otel canary'."""
    span = Span(
        trace_id=canary.trace_id,
        span_id=canary.span_id,
        name="spotify-otel canary",
        kind=Span.SpanKind.SPAN_KIND_INTERNAL,
        start_time_unix_nano=now_ns - 1_000_000,
        end_time_unix_nano=now_ns,
        attributes=_record_attrs(canary),
        status=Status(code=Status.StatusCode.STATUS_CODE_OK),
    )
    scope = ScopeSpans(scope=SCOPE, spans=[span])
    resource_spans = ResourceSpans(resource=_resource(), scope_spans=[scope])
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def metrics_request(canary: Canary, now_ns: int) -> ExportMetricsServiceRequest:
    """One gauge point ``spotify.canary.timestamp`` (unit s) whose value is the send time."""
    point = NumberDataPoint(time_unix_nano=now_ns, as_double=now_ns / 1e9, attributes=_record_attrs(canary))
    metric = Metric(
        name=METRIC_NAME,
        unit=METRIC_UNIT,
        description="Send time of the spotify-otel health canary",
        gauge=Gauge(data_points=[point]),
    )
    scope = ScopeMetrics(scope=SCOPE, metrics=[metric])
    return ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(resource=_resource(), scope_metrics=[scope])])


def logs_request(canary: Canary, now_ns: int) -> ExportLogsServiceRequest:
    """One INFO log record whose body contains the canary id, linked to the canary span."""
    record = LogRecord(
        time_unix_nano=now_ns,
        observed_time_unix_nano=now_ns,
        severity_number=SeverityNumber.SEVERITY_NUMBER_INFO,
        severity_text="INFO",
        body=AnyValue(string_value=f"spotify-otel canary {canary.canary_id}"),
        attributes=_record_attrs(canary),
        trace_id=canary.trace_id,
        span_id=canary.span_id,
    )
    scope = ScopeLogs(scope=SCOPE, log_records=[record])
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=_resource(), scope_logs=[scope])])


def build(signal: str, canary: Canary, now_ns: int | None = None) -> Message:
    """The export request for ``signal`` ('traces', 'metrics' or 'logs')."""
    now = time.time_ns() if now_ns is None else now_ns
    builders = {"traces": trace_request, "metrics": metrics_request, "logs": logs_request}
    return builders[signal](canary, now)
