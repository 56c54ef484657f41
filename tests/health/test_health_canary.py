"""The end-to-end canary: OTLP receiver -> Jaeger stand-in, real Prometheus, Elasticsearch stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from spotify_otel.receiver import OTLPReceiver

RunJson = Callable[..., tuple[int, dict[str, Any]]]
RunCli = Callable[..., tuple[int, str, str]]
Flags = Callable[[dict[str, str]], list[str]]


def _signals(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["signal"]: s for s in document["canary"]["signals"]}


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_canary_is_found_in_every_backend_with_delays(
    protocol: str, stack: dict[str, str], endpoint_flags: Flags, run_json: RunJson, receiver: OTLPReceiver
) -> None:
    code, document = run_json("--canary", "--canary-timeout", "15", "--protocol", protocol, *endpoint_flags(stack))

    canary = document["canary"]
    signals = _signals(document)
    assert code == 0 and document["healthy"] is True
    assert canary["protocol"] == protocol and canary["healthy"] is True
    assert {s: sent["ok"] for s, sent in canary["sent"].items()} == {"traces": True, "metrics": True, "logs": True}
    for signal, backend in (("traces", "jaeger"), ("metrics", "prometheus"), ("logs", "elasticsearch")):
        assert signals[signal]["backend"] == backend
        assert signals[signal]["found"] is True, signals[signal]
        assert 0 < signals[signal]["delay_ms"] < 15_000
    canary_id = canary["canary_id"]
    assert signals["metrics"]["details"]["labels"]["canary_id"] == canary_id
    assert signals["metrics"]["details"]["labels"]["tenant_id"] == "canary"
    # the receiver really got the tagged signals over the chosen transport
    transport = "grpc" if protocol == "grpc" else "http"
    spans = [s for s in receiver.store.spans() if s.attributes.get("canary.id") == canary_id]
    logs = [r for r in receiver.store.logs() if r.attributes.get("canary.id") == canary_id]
    points = [
        p
        for p in receiver.store.metric_points("spotify.canary.timestamp")
        if p.attributes.get("canary.id") == canary_id
    ]
    assert [(s.service_name, s.attributes["tenant.id"], s.transport) for s in spans] == [
        ("spotify-otel-canary", "canary", transport)
    ]
    assert len(logs) == 1 and canary_id in logs[0].body and logs[0].trace_id == spans[0].trace_id
    assert len(points) == 1 and points[0].unit == "s" and points[0].attributes["tenant.id"] == "canary"
    assert signals["traces"]["details"]["trace_id"] == spans[0].trace_id


def test_signal_missing_in_a_backend_is_reported_and_exits_1_within_the_timeout(
    stack: dict[str, str], jaeger: Any, endpoint_flags: Flags, run_json: RunJson
) -> None:
    jaeger.routes["/api/v3/traces"] = lambda r: (404, {"error": {"httpCode": 404, "message": "No traces found"}})

    start = time.monotonic()
    code, document = run_json("--canary", "--canary-timeout", "3", *endpoint_flags(stack))
    elapsed = time.monotonic() - start

    signals = _signals(document)
    assert code == 1 and document["healthy"] is False
    assert all(c["status"] == "healthy" for c in document["checks"])
    assert signals["traces"]["found"] is False and signals["traces"]["delay_ms"] is None
    assert signals["traces"]["reason"] == "not found in jaeger within 3.0 s"
    assert signals["traces"]["details"]["polls"] >= 2
    assert signals["metrics"]["found"] is True and signals["logs"]["found"] is True
    assert 3.0 <= elapsed < 3.0 + 2.0
    assert any(r.path == "/api/v3/traces" and "query.start_time_min" in r.query for r in jaeger.requests)


def test_human_output_lists_each_signal(
    stack: dict[str, str], elasticsearch: Any, endpoint_flags: Flags, run_cli: RunCli
) -> None:
    elasticsearch.routes["*"] = lambda r: (200, {"hits": {"total": {"value": 0}, "hits": []}})

    code, out, _ = run_cli("--canary", "--canary-timeout", "2", *endpoint_flags(stack))

    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert code == 1
    assert "NOT FOUND" in rows["logs"] and "elasticsearch" in rows["logs"]
    assert "found" in rows["traces"] and " ms" in rows["traces"]
    assert out.rstrip().splitlines()[-1] == "UNHEALTHY: canary signals not found: logs"


def test_canary_that_cannot_be_sent_is_not_polled(
    stack: dict[str, str], dead_url: str, jaeger: Any, endpoint_flags: Flags, run_json: RunJson
) -> None:
    endpoints = {**stack, "otlp-grpc": dead_url}

    start = time.monotonic()
    code, document = run_json("--canary", "--canary-timeout", "10", "--require", "none", *endpoint_flags(endpoints))

    signals = _signals(document)
    assert code == 1
    assert time.monotonic() - start < 5  # nothing to wait for
    port = dead_url.rsplit(":", 1)[1]
    for signal in ("traces", "metrics", "logs"):
        assert document["canary"]["sent"][signal]["ok"] is False
        assert signals[signal]["reason"] == f"not sent: connection refused to 127.0.0.1:{port}"
    assert not any(r.path == "/api/v3/traces" for r in jaeger.requests)


def test_unselected_signals_are_skipped_and_do_not_fail(
    stack: dict[str, str], endpoint_flags: Flags, run_json: RunJson
) -> None:
    endpoints = {k: v for k, v in stack.items() if k != "elasticsearch"}  # default port: nothing there

    code, document = run_json(
        "--canary", "--canary-signals", "traces", "--canary-timeout", "10", *endpoint_flags(endpoints)
    )

    signals = _signals(document)
    assert code == 0
    assert signals["traces"]["found"] is True
    assert (signals["logs"]["status"], signals["metrics"]["status"]) == ("skipped", "skipped")
    assert set(document["canary"]["sent"]) == {"traces"}
