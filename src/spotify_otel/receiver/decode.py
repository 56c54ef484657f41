"""Turn OTLP export requests (``opentelemetry.proto``) into :mod:`.models` records.

Pure functions, no I/O: both transports decode with the same code, so a span looks the same
whether it came over gRPC or HTTP (only ``transport`` differs).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from spotify_otel.receiver.models import ReceivedLog, ReceivedPoint, ReceivedSpan, Transport

_SPAN_KINDS = {
    Span.SPAN_KIND_UNSPECIFIED: "UNSPECIFIED",
    Span.SPAN_KIND_INTERNAL: "INTERNAL",
    Span.SPAN_KIND_SERVER: "SERVER",
    Span.SPAN_KIND_CLIENT: "CLIENT",
    Span.SPAN_KIND_PRODUCER: "PRODUCER",
    Span.SPAN_KIND_CONSUMER: "CONSUMER",
}
_STATUS_CODES = {
    Status.STATUS_CODE_UNSET: "UNSET",
    Status.STATUS_CODE_OK: "OK",
    Status.STATUS_CODE_ERROR: "ERROR",
}
_TEMPORALITIES = {1: "delta", 2: "cumulative"}


def any_value(value: AnyValue) -> Any:
    """Convert an OTLP ``AnyValue`` to a Python value (arrays become tuples, kvlists dicts)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return tuple(any_value(v) for v in value.array_value.values)
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, which)


def attributes(kvs: Any) -> dict[str, Any]:
    """Convert repeated ``KeyValue`` to a dict (a repeated key keeps its last value)."""
    out: dict[str, Any] = {}
    kv: KeyValue
    for kv in kvs:
        out[kv.key] = any_value(kv.value)
    return out


def _hex(raw: bytes) -> str:
    return raw.hex() if any(raw) else ""


def decode_spans(request: ExportTraceServiceRequest, transport: Transport) -> list[ReceivedSpan]:
    """Flatten an ``ExportTraceServiceRequest`` into spans."""
    out: list[ReceivedSpan] = []
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for span in ss.spans:
                out.append(
                    ReceivedSpan(
                        trace_id=_hex(span.trace_id),
                        span_id=_hex(span.span_id),
                        parent_span_id=_hex(span.parent_span_id),
                        name=span.name,
                        kind=_SPAN_KINDS.get(span.kind, str(span.kind)),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_code=_STATUS_CODES.get(span.status.code, str(span.status.code)),
                        status_message=span.status.message,
                        attributes=attributes(span.attributes),
                        events=[(e.name, attributes(e.attributes)) for e in span.events],
                        resource=resource,
                        scope_name=ss.scope.name,
                        transport=transport,
                        scope_version=ss.scope.version,
                        trace_state=span.trace_state,
                        links=[(_hex(ln.trace_id), _hex(ln.span_id), attributes(ln.attributes)) for ln in span.links],
                    )
                )
    return out


def decode_logs(request: ExportLogsServiceRequest, transport: Transport) -> list[ReceivedLog]:
    """Flatten an ``ExportLogsServiceRequest`` into log records."""
    out: list[ReceivedLog] = []
    for rl in request.resource_logs:
        resource = attributes(rl.resource.attributes)
        for sl in rl.scope_logs:
            for rec in sl.log_records:
                out.append(
                    ReceivedLog(
                        timestamp_ns=rec.time_unix_nano or rec.observed_time_unix_nano,
                        severity_text=rec.severity_text,
                        severity_number=int(rec.severity_number),
                        body=any_value(rec.body),
                        attributes=attributes(rec.attributes),
                        trace_id=_hex(rec.trace_id),
                        span_id=_hex(rec.span_id),
                        resource=resource,
                        scope_name=sl.scope.name,
                        transport=transport,
                        observed_timestamp_ns=rec.observed_time_unix_nano,
                        event_name=rec.event_name,
                    )
                )
    return out


def _number(dp: Any) -> int | float | None:
    which = dp.WhichOneof("value")
    value: int | float | None = None if which is None else getattr(dp, which)
    return value


def _exemplar_traces(dp: Any) -> tuple[str, ...]:
    return tuple(t for t in (_hex(e.trace_id) for e in dp.exemplars) if t)


def _points(metric: Metric, common: dict[str, Any]) -> list[ReceivedPoint]:
    kind = metric.WhichOneof("data")
    base = {"name": metric.name, "unit": metric.unit, "description": metric.description, **common}
    out: list[ReceivedPoint] = []
    if kind in ("sum", "gauge"):
        data = metric.sum if kind == "sum" else metric.gauge
        monotonic = metric.sum.is_monotonic if kind == "sum" else None
        temporality = _TEMPORALITIES.get(metric.sum.aggregation_temporality) if kind == "sum" else None
        for dp in data.data_points:
            out.append(
                ReceivedPoint(
                    **base,
                    kind=kind,
                    monotonic=monotonic,
                    temporality=temporality,
                    attributes=attributes(dp.attributes),
                    value=_number(dp),
                    count=None,
                    sum=None,
                    bucket_counts=(),
                    explicit_bounds=(),
                    exemplars=len(dp.exemplars),
                    time_ns=dp.time_unix_nano,
                    start_time_ns=dp.start_time_unix_nano,
                    flags=dp.flags,
                    exemplar_trace_ids=_exemplar_traces(dp),
                )
            )
    elif kind == "histogram":
        temporality = _TEMPORALITIES.get(metric.histogram.aggregation_temporality)
        for hp in metric.histogram.data_points:
            out.append(
                ReceivedPoint(
                    **base,
                    kind=kind,
                    monotonic=None,
                    temporality=temporality,
                    attributes=attributes(hp.attributes),
                    value=None,
                    count=hp.count,
                    sum=hp.sum if hp.HasField("sum") else None,
                    bucket_counts=tuple(hp.bucket_counts),
                    explicit_bounds=tuple(hp.explicit_bounds),
                    exemplars=len(hp.exemplars),
                    time_ns=hp.time_unix_nano,
                    start_time_ns=hp.start_time_unix_nano,
                    flags=hp.flags,
                    min=hp.min if hp.HasField("min") else None,
                    max=hp.max if hp.HasField("max") else None,
                    exemplar_trace_ids=_exemplar_traces(hp),
                )
            )
    elif kind == "exponential_histogram":
        temporality = _TEMPORALITIES.get(metric.exponential_histogram.aggregation_temporality)
        for ep in metric.exponential_histogram.data_points:
            out.append(
                ReceivedPoint(
                    **base,
                    kind=kind,
                    monotonic=None,
                    temporality=temporality,
                    attributes=attributes(ep.attributes),
                    value=None,
                    count=ep.count,
                    sum=ep.sum if ep.HasField("sum") else None,
                    bucket_counts=tuple(ep.positive.bucket_counts),
                    explicit_bounds=(),
                    exemplars=len(ep.exemplars),
                    time_ns=ep.time_unix_nano,
                    start_time_ns=ep.start_time_unix_nano,
                    flags=ep.flags,
                    min=ep.min if ep.HasField("min") else None,
                    max=ep.max if ep.HasField("max") else None,
                    scale=ep.scale,
                    zero_count=ep.zero_count,
                    positive_offset=ep.positive.offset,
                    negative_offset=ep.negative.offset,
                    negative_bucket_counts=tuple(ep.negative.bucket_counts),
                    exemplar_trace_ids=_exemplar_traces(ep),
                )
            )
    elif kind == "summary":
        for sp in metric.summary.data_points:
            out.append(
                ReceivedPoint(
                    **base,
                    kind=kind,
                    monotonic=None,
                    temporality=None,
                    attributes=attributes(sp.attributes),
                    value=None,
                    count=sp.count,
                    sum=sp.sum,
                    bucket_counts=(),
                    explicit_bounds=(),
                    exemplars=0,
                    time_ns=sp.time_unix_nano,
                    start_time_ns=sp.start_time_unix_nano,
                    flags=sp.flags,
                    quantiles=tuple((q.quantile, q.value) for q in sp.quantile_values),
                )
            )
    return out


def decode_metrics(request: ExportMetricsServiceRequest, transport: Transport) -> list[ReceivedPoint]:
    """Flatten an ``ExportMetricsServiceRequest`` into one record per data point."""
    out: list[ReceivedPoint] = []
    for rm in request.resource_metrics:
        resource = attributes(rm.resource.attributes)
        for sm in rm.scope_metrics:
            common = {
                "resource": resource,
                "scope_name": sm.scope.name,
                "scope_version": sm.scope.version,
                "scope_schema_url": sm.schema_url,
                "scope_attributes": attributes(sm.scope.attributes),
                "transport": transport,
            }
            for metric in sm.metrics:
                out.extend(_points(metric, common))
    return out
