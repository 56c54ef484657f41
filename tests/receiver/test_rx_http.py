"""OTLP/HTTP edge cases: JSON encoding, content types, encodings, bad bodies and size caps."""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Iterator

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from spotify_otel.receiver import OTLPReceiver

TRACE_ID = "5B8EFFF798038103D269B633813FC60C"
SPAN_ID = "EEE19B7EC3C1B174"
OTLP_JSON_TRACES = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
            "scopeSpans": [
                {
                    "scope": {"name": "json.scope"},
                    "spans": [
                        {
                            "traceId": TRACE_ID,
                            "spanId": SPAN_ID,
                            "parentSpanId": "",
                            "name": "I'm a server span",
                            "kind": 2,
                            "startTimeUnixNano": "1544712660000000000",
                            "endTimeUnixNano": "1544712661000000000",
                            "attributes": [
                                {"key": "tenant.id", "value": {"stringValue": "acme"}},
                                {"key": "retries", "value": {"intValue": "42"}},
                                {"key": "ids", "value": {"arrayValue": {"values": [{"intValue": 1}, {"intValue": 2}]}}},
                            ],
                            "status": {"code": 2, "message": "boom"},
                        }
                    ],
                }
            ],
        }
    ]
}
OTLP_JSON_LOGS = {
    "resourceLogs": [
        {
            "scopeLogs": [
                {
                    "logRecords": [
                        {
                            "timeUnixNano": "1544712660300000000",
                            "severityNumber": 10,
                            "severityText": "Information",
                            "traceId": TRACE_ID,
                            "spanId": SPAN_ID,
                            "body": {"stringValue": "Example log record"},
                        }
                    ]
                }
            ]
        }
    ]
}
OTLP_JSON_METRICS = {
    "resourceMetrics": [
        {
            "scopeMetrics": [
                {
                    "metrics": [
                        {
                            "name": "my.counter",
                            "unit": "1",
                            "sum": {
                                "aggregationTemporality": 1,
                                "isMonotonic": True,
                                "dataPoints": [{"asDouble": 5, "timeUnixNano": "1544712660300000000"}],
                            },
                        }
                    ]
                }
            ]
        }
    ]
}


@pytest.fixture
def small_receiver() -> Iterator[OTLPReceiver]:
    """A receiver with a 1 KiB body cap."""
    rx = OTLPReceiver(max_body_bytes=1024).start()
    yield rx
    rx.stop(grace=0.1)


def _request(
    rx: OTLPReceiver, path: str, body: bytes | None, headers: dict[str, str], method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", rx.http_port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _valid_request() -> bytes:
    span = Span(trace_id=bytes.fromhex(TRACE_ID), span_id=bytes.fromhex(SPAN_ID), name="pb", kind=Span.SPAN_KIND_CLIENT)
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    return request.SerializeToString()


def test_otlp_json_traces_with_hex_ids_are_decoded_and_answered_in_json(receiver: OTLPReceiver):
    body = json.dumps(OTLP_JSON_TRACES).encode()
    status, headers, answer = _request(
        receiver, "/v1/traces", body, {"Content-Type": "application/json; charset=utf-8"}
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(answer) == {}
    (span,) = receiver.store.spans()
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE_ID.lower(), SPAN_ID.lower(), "")
    assert (span.name, span.kind, span.status_code, span.status_message) == (
        "I'm a server span",
        "SERVER",
        "ERROR",
        "boom",
    )
    assert span.attributes == {"tenant.id": "acme", "retries": 42, "ids": (1, 2)}
    assert (span.start_ns, span.duration_ms) == (1544712660000000000, 1000.0)
    assert span.resource == {"service.name": "json-svc"}
    assert span.scope_name == "json.scope"
    assert span.transport == "http"


def test_otlp_json_logs_and_metrics_are_decoded(receiver: OTLPReceiver):
    for path, doc in (("/v1/logs", OTLP_JSON_LOGS), ("/v1/metrics", OTLP_JSON_METRICS)):
        status, _, _ = _request(receiver, path, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        assert status == 200
    (log,) = receiver.store.logs()
    assert (log.trace_id, log.span_id, log.body, log.severity_number) == (
        TRACE_ID.lower(),
        SPAN_ID.lower(),
        "Example log record",
        10,
    )
    (point,) = receiver.store.metric_points()
    assert (point.name, point.kind, point.temporality, point.monotonic, point.value) == (
        "my.counter",
        "sum",
        "delta",
        True,
        5.0,
    )


def test_protobuf_request_gets_protobuf_export_response(receiver: OTLPReceiver):
    status, headers, answer = _request(
        receiver, "/v1/traces", _valid_request(), {"Content-Type": "application/x-protobuf"}
    )
    assert (status, headers["content-type"]) == (200, "application/x-protobuf")
    assert ExportTraceServiceResponse.FromString(answer) == ExportTraceServiceResponse()
    assert [s.name for s in receiver.store.spans()] == ["pb"]


def test_gzip_and_chunked_bodies_are_accepted(receiver: OTLPReceiver):
    body = gzip.compress(_valid_request())
    conn = http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=5)
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    conn.request("POST", "/v1/traces", body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
    assert conn.getresponse().status == 200
    conn.close()
    assert len(receiver.store.spans()) == 1


def test_keep_alive_connection_serves_several_requests(receiver: OTLPReceiver):
    conn = http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=5)
    for _ in range(3):
        conn.request("POST", "/v1/traces", body=_valid_request(), headers={"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    conn.close()
    assert receiver.store.counts()["requests"]["traces"]["http"] == 3


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"\xff\xff\xff\xff", {"Content-Type": "application/x-protobuf"}, "cannot decode"),
        (b"not gzip", {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}, "corrupt gzip"),
        (b"x", {"Content-Type": "application/x-protobuf", "Content-Encoding": "br"}, "unsupported Content-Encoding"),
    ],
    ids=["garbage-protobuf", "corrupt-gzip", "unknown-encoding"],
)
def test_undecodable_protobuf_bodies_get_400_with_rpc_status(receiver: OTLPReceiver, body, headers, message):
    status, response_headers, answer = _request(receiver, "/v1/traces", body, headers)
    assert status == 400
    assert response_headers["content-type"] == "application/x-protobuf"
    rpc_status = Status.FromString(answer)
    assert rpc_status.code == 3  # INVALID_ARGUMENT
    assert message in rpc_status.message
    assert receiver.store.counts()["invalid"]["traces"]["http"] == 1
    assert receiver.store.spans() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "invalid JSON"),
        (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}).encode(), "not a hex"),
    ],
    ids=["syntax", "non-hex-id"],
)
def test_bad_json_bodies_get_400_with_json_status(receiver: OTLPReceiver, body, message):
    status, headers, answer = _request(receiver, "/v1/traces", body, {"Content-Type": "application/json"})
    assert (status, headers["content-type"]) == (400, "application/json")
    document = json.loads(answer)
    assert document["code"] == 3
    assert message in document["message"]


def test_unknown_content_type_is_415(receiver: OTLPReceiver):
    status, _, answer = _request(receiver, "/v1/logs", b"hello", {"Content-Type": "text/plain"})
    assert status == 415
    assert b"unsupported Content-Type 'text/plain'" in answer


def test_unknown_path_is_404_and_get_on_signal_path_is_405(receiver: OTLPReceiver):
    assert _request(receiver, "/v1/profiles", b"", {"Content-Type": "application/x-protobuf"})[0] == 404
    status, headers, _ = _request(receiver, "/v1/traces", None, {}, method="GET")
    assert (status, headers["allow"]) == (405, "POST")


def test_bodies_over_the_cap_are_413_also_after_decompression(small_receiver: OTLPReceiver):
    headers = {"Content-Type": "application/x-protobuf"}
    assert _request(small_receiver, "/v1/traces", b"\x00" * 2048, headers)[0] == 413
    bomb = gzip.compress(b"\x00" * 100_000)
    assert len(bomb) < 1024
    status = _request(small_receiver, "/v1/traces", bomb, {**headers, "Content-Encoding": "gzip"})[0]
    assert status == 413
    assert small_receiver.store.spans() == []
