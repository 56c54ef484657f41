"""Spans and log records sent by the SDK's own OTLP exporters arrive decoded, over gRPC and HTTP."""

from __future__ import annotations

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import SpanKind, Status, StatusCode

from spotify_otel.receiver import OTLPReceiver, ReceivedLog, ReceivedSpan, TelemetryStore

TRANSPORTS = ["grpc", "http"]


def _span_named(store: TelemetryStore, name: str) -> ReceivedSpan:
    matches = [s for s in store.spans() if s.name == name]
    assert len(matches) == 1, [s.name for s in store.spans()]
    return matches[0]


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_span_tree_arrives_with_ids_kinds_attributes_and_tenant(receiver: OTLPReceiver, sdk, transport, gzip):
    tracer = sdk.tracer_provider(transport, gzip=gzip).get_tracer("orders.api", "1.2.3")
    attrs = {"tenant.id": "acme", "http.route": "/orders/{id}", "http.response.status_code": 503, "tags": ["a", "b"]}
    with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER, attributes=attrs) as server:
        server.add_event("cache.miss", {"key": "orders:7"})
        with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as client:
            client.set_attribute("db.rows", 3)
            client.set_attribute("ratio", 0.5)
            client.set_attribute("flag", True)
        server.set_status(Status(StatusCode.ERROR, "upstream down"))

    assert receiver.store.wait_for(lambda s: len(s.spans()) == 2, timeout=5)
    root = _span_named(receiver.store, "GET /orders/{id}")
    child = _span_named(receiver.store, "SELECT orders")
    ctx, child_ctx = server.get_span_context(), client.get_span_context()

    assert root.trace_id == format(ctx.trace_id, "032x")
    assert root.span_id == format(ctx.span_id, "016x")
    assert root.parent_span_id == ""
    assert child.trace_id == root.trace_id
    assert child.span_id == format(child_ctx.span_id, "016x")
    assert child.parent_span_id == root.span_id
    assert (root.kind, child.kind) == ("SERVER", "CLIENT")
    assert (root.status_code, root.status_message) == ("ERROR", "upstream down")
    assert child.status_code == "UNSET"
    assert root.attributes["tags"] == ("a", "b")
    assert root.attributes["http.response.status_code"] == 503
    assert child.attributes == {"db.rows": 3, "ratio": 0.5, "flag": True}
    assert root.tenant == "acme"
    assert child.tenant is None
    assert root.events == [("cache.miss", {"key": "orders:7"})]
    assert root.resource["service.name"] == "checkout"
    assert root.resource["service.instance.id"] == "pod-1"
    assert (root.scope_name, root.scope_version) == ("orders.api", "1.2.3")
    assert root.transport == child.transport == transport
    assert root.start_ns <= child.start_ns <= child.end_ns <= root.end_ns
    assert root.duration_ms == pytest.approx((root.end_ns - root.start_ns) / 1e6)
    assert receiver.store.counts()["requests"]["traces"][transport] == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_log_records_carry_severity_body_attributes_and_trace_context(receiver: OTLPReceiver, sdk, transport):
    logger = sdk.logger_provider(transport).get_logger("payments", "0.1")
    tracer = sdk.tracer_provider(transport).get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        logger.emit(
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body="payment p-1 declined",
            attributes={"tenant.id": "globex", "amount": 12.5},
        )
    logger.emit(severity_number=SeverityNumber.INFO, severity_text="INFO", body={"event": "idle", "n": [1, 2]})

    assert receiver.store.wait_for(lambda s: len(s.logs()) == 2, timeout=5)
    inside, outside = receiver.store.logs()
    assert isinstance(inside, ReceivedLog)
    assert inside.body == "payment p-1 declined"
    assert (inside.severity_text, inside.severity_number) == ("WARN", 13)
    assert inside.tenant == "globex"
    assert inside.attributes["amount"] == 12.5
    assert inside.trace_id == format(span.get_span_context().trace_id, "032x")
    assert inside.span_id == format(span.get_span_context().span_id, "016x")
    assert inside.resource["service.name"] == "checkout"
    assert inside.scope_name == "payments"
    assert inside.transport == transport
    assert inside.timestamp_ns > 0
    assert (outside.trace_id, outside.span_id) == ("", "")
    assert outside.body == {"event": "idle", "n": (1, 2)}
    assert outside.tenant is None


def test_grpc_and_http_decode_the_same_span_identically(receiver: OTLPReceiver, sdk):
    """One span exported through both transports decodes to equal records except ``transport``."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(sdk.span_exporter("grpc")))
    tp.add_span_processor(SimpleSpanProcessor(sdk.span_exporter("http")))
    with tp.get_tracer("same").start_as_current_span("twice", attributes={"tenant.id": "t1", "n": 1}):
        pass
    tp.shutdown()

    assert receiver.store.wait_for(lambda s: len(s.spans()) == 2, timeout=5)
    by_transport = {s.transport: s for s in receiver.store.spans()}
    import dataclasses

    assert dataclasses.replace(by_transport["grpc"], transport="http") == by_transport["http"]
