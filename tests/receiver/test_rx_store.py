"""TelemetryStore: bounded buffers, condition-based waiting, counters, subscribers, lifecycle."""

from __future__ import annotations

import threading
import time

import pytest

from spotify_otel.receiver import OTLPReceiver, ReceivedSpan, TelemetryStore, to_json_dict


def _span(name: str, trace: str = "ab" * 16, **attrs: object) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id=trace, span_id="cd" * 8, parent_span_id="", name=name, kind="SERVER", start_ns=1_000_000,
        end_ns=3_500_000, status_code="OK", status_message="", attributes=dict(attrs), events=[],
        resource={"service.name": "svc"}, scope_name="s", transport="http",
    )  # fmt: skip


def test_buffers_are_bounded_and_drops_are_counted():
    store = TelemetryStore(max_items=3)
    store.add("traces", [_span(f"s{i}") for i in range(5)], "grpc")
    assert [s.name for s in store.spans()] == ["s2", "s3", "s4"]
    counts = store.counts()
    assert counts["spans"] == 3
    assert counts["dropped"] == {"spans": 2, "logs": 0, "points": 0}
    assert counts["requests"]["traces"] == {"grpc": 1, "http": 0}


def test_wait_for_wakes_when_another_thread_adds():
    store = TelemetryStore()
    timer = threading.Timer(0.05, lambda: store.add("traces", [_span("late")], "http"))
    timer.start()
    started = time.monotonic()
    assert store.wait_for(lambda s: any(sp.name == "late" for sp in s.spans()), timeout=5)
    assert time.monotonic() - started < 2
    timer.join()


def test_wait_for_returns_false_after_the_timeout():
    store = TelemetryStore()
    started = time.monotonic()
    assert store.wait_for(lambda s: len(s.spans()) > 0, timeout=0.1) is False
    assert 0.09 <= time.monotonic() - started < 2


def test_clear_forgets_records_and_counters_and_notifies_subscribers():
    store = TelemetryStore()
    seen: list[tuple[str, int]] = []
    unsubscribe = store.subscribe(lambda signal, records: seen.append((signal, len(records))))
    store.add("traces", [_span("a")], "grpc")
    store.clear()
    assert store.spans() == []
    assert store.counts()["requests"]["traces"]["grpc"] == 0
    assert seen == [("traces", 1), ("traces", 0), ("metrics", 0), ("logs", 0)]
    unsubscribe()
    store.add("traces", [_span("b")], "grpc")
    assert len(seen) == 4


def test_a_failing_subscriber_does_not_break_storage(caplog):
    store = TelemetryStore()

    def broken(signal, records):
        raise RuntimeError("boom")

    store.subscribe(broken)
    store.add("traces", [_span("kept")], "grpc")
    assert [s.name for s in store.spans()] == ["kept"]
    assert "subscriber" in caplog.text


def test_metric_points_filter_by_name_and_max_items_must_be_positive():
    with pytest.raises(ValueError, match="max_items"):
        TelemetryStore(max_items=0)
    assert TelemetryStore().metric_points("missing") == []


def test_record_conveniences_and_json_form():
    span = _span("op", **{"tenant.id": "acme", "tags": ("a",)})
    assert span.tenant == "acme"
    assert span.duration_ms == 2.5
    assert span.is_root
    data = to_json_dict(span)
    assert (data["signal"], data["tenant"], data["attributes"]["tags"]) == ("span", "acme", ["a"])
    assert data["duration_ms"] == 2.5


def test_receiver_lifecycle_endpoints_and_double_stop():
    rx = OTLPReceiver(grpc_port=0, http_port=0)
    with pytest.raises(RuntimeError, match="not running"):
        _ = rx.grpc_endpoint
    rx.start()
    assert rx.start() is rx  # idempotent
    assert rx.grpc_endpoint == f"http://127.0.0.1:{rx.grpc_port}"
    assert rx.http_endpoint == f"http://127.0.0.1:{rx.http_port}"
    assert rx.grpc_port != rx.http_port
    rx.stop()
    rx.stop()
    assert not rx.running


def test_busy_port_raises_oserror_and_leaves_nothing_running():
    with OTLPReceiver() as first:
        second = OTLPReceiver(grpc_port=0, http_port=first.http_port)
        with pytest.raises(OSError):
            second.start()
        assert not second.running
        second_grpc = OTLPReceiver(grpc_port=first.grpc_port, http_port=0)
        with pytest.raises(OSError, match="gRPC"):
            second_grpc.start()
