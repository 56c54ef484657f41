"""Fault injection: refused data is never stored, exporters retry, and "hang" never blocks stop()."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

import grpc
import pytest
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spotify_otel.receiver import OTLPReceiver

TRANSPORTS = ["grpc", "http"]


def _finished_spans(name: str = "op") -> Any:
    memory = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(memory))
    with tp.get_tracer("faults").start_as_current_span(name, attributes={"tenant.id": "acme"}):
        pass
    return memory.get_finished_spans()


def _post(rx: OTLPReceiver, body: bytes, timeout: float | None = 5.0) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", rx.http_port, timeout=timeout)
    conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
    return conn.getresponse()


def _rejected(rx: OTLPReceiver, transport: str) -> int:
    return int(rx.store.counts()["rejected"]["traces"][transport])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_exporter_retries_through_unavailable_and_succeeds_once_cleared(receiver: OTLPReceiver, sdk, transport):
    exporter = sdk.span_exporter(transport, timeout=10)
    spans = _finished_spans()
    receiver.store.set_fault("unavailable")
    results: list[SpanExportResult] = []
    worker = threading.Thread(target=lambda: results.append(exporter.export(spans)))
    worker.start()
    try:
        assert receiver.store.wait_for(lambda s: _rejected(receiver, transport) >= 2, timeout=5)
        assert receiver.store.spans() == []  # refused data is not stored
    finally:
        receiver.store.set_fault(None)
        worker.join(10)
    assert results == [SpanExportResult.SUCCESS]
    assert [s.name for s in receiver.store.spans()] == ["op"]
    assert receiver.store.counts()["requests"]["traces"][transport] == 1
    exporter.shutdown()


def test_persistent_unavailable_makes_the_grpc_exporter_fail_without_storing(receiver: OTLPReceiver, sdk):
    exporter = sdk.span_exporter("grpc", timeout=1)
    receiver.store.set_fault("unavailable")
    assert exporter.export(_finished_spans()) == SpanExportResult.FAILURE
    assert _rejected(receiver, "grpc") >= 2  # it did retry
    assert receiver.store.counts()["spans"] == 0
    exporter.shutdown()


def test_grpc_resource_exhausted_carries_retry_info(receiver: OTLPReceiver):
    receiver.store.set_fault("resource_exhausted")
    with grpc.insecure_channel(f"127.0.0.1:{receiver.grpc_port}") as channel, pytest.raises(grpc.RpcError) as caught:
        TraceServiceStub(channel).Export(ExportTraceServiceRequest(), timeout=5)
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    retry = RetryInfo.FromString(dict(error.trailing_metadata())["google.rpc.retryinfo-bin"])
    assert retry.retry_delay.ToTimedelta().total_seconds() == pytest.approx(0.1)


@pytest.mark.parametrize(("mode", "status", "code"), [("unavailable", 503, 14), ("resource_exhausted", 429, 8)])
def test_http_faults_answer_status_retry_after_and_rpc_status(receiver: OTLPReceiver, mode, status, code):
    receiver.store.set_fault(mode)
    response = _post(receiver, ExportTraceServiceRequest().SerializeToString())
    assert response.status == status
    assert response.getheader("Retry-After") == "0.1"
    assert response.getheader("Content-Type") == "application/x-protobuf"
    assert Status.FromString(response.read()).code == code
    assert _rejected(receiver, "http") == 1


def test_hang_parks_requests_and_stop_returns_promptly():
    rx = OTLPReceiver(retry_after=0.1).start()
    rx.store.set_fault("hang")
    outcomes: dict[str, Any] = {}

    def http_call() -> None:
        try:
            outcomes["http"] = _post(rx, ExportTraceServiceRequest().SerializeToString(), timeout=None).status
        except (OSError, http.client.HTTPException) as exc:
            outcomes["http"] = type(exc).__name__

    def grpc_call() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{rx.grpc_port}") as channel:
            try:
                TraceServiceStub(channel).Export(ExportTraceServiceRequest())  # no deadline
                outcomes["grpc"] = "OK"
            except grpc.RpcError as exc:
                outcomes["grpc"] = exc.code()  # type: ignore[attr-defined]

    workers = [threading.Thread(target=http_call), threading.Thread(target=grpc_call)]
    for worker in workers:
        worker.start()
    assert rx.store.wait_for(lambda s: s.counts()["held"] == 2, timeout=5)
    assert outcomes == {}  # both are still waiting for an answer

    started = time.monotonic()
    rx.stop(grace=0.5)
    assert time.monotonic() - started < 3
    for worker in workers:
        worker.join(5)
        assert not worker.is_alive()
    assert outcomes["http"] in (503, "RemoteDisconnected", "ConnectionResetError")
    assert outcomes["grpc"] in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert rx.store.counts()["spans"] == 0


def test_clearing_hang_answers_parked_requests_as_unavailable(receiver: OTLPReceiver):
    receiver.store.set_fault("hang")
    statuses: list[int] = []
    worker = threading.Thread(target=lambda: statuses.append(_post(receiver, b"", timeout=10).status))
    worker.start()
    assert receiver.store.wait_for(lambda s: s.counts()["held"] == 1, timeout=5)
    receiver.store.set_fault(None)
    worker.join(5)
    assert statuses == [503]
    assert receiver.store.counts()["held"] == 0
    assert _rejected(receiver, "http") == 1


def test_grpc_client_deadline_releases_a_parked_call(receiver: OTLPReceiver, sdk):
    exporter = sdk.span_exporter("grpc", timeout=0.5)
    receiver.store.set_fault("hang")
    assert exporter.export(_finished_spans()) == SpanExportResult.FAILURE
    assert receiver.store.wait_for(lambda s: s.counts()["held"] == 0, timeout=5)
    assert receiver.store.counts()["spans"] == 0
    exporter.shutdown()


def test_unknown_fault_mode_is_rejected(receiver: OTLPReceiver):
    with pytest.raises(ValueError, match="unknown fault mode 'slow'"):
        receiver.store.set_fault("slow")  # type: ignore[arg-type]
