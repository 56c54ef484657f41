"""The collector misbehaves; the application must not notice, and export must recover on its own.

In process: a FastAPI app driven through ``httpx.ASGITransport``, exporting real OTLP/gRPC to a real
:class:`OTLPReceiver` that is absent, stopped and restarted on the same port, hanging, or refusing.
"""

from __future__ import annotations

import time

import pytest
from _faults_support import failed_items, hit, make_app, server_spans
from _support import free_port, poll

from spotify_otel import init_telemetry
from spotify_otel.receiver import OTLPReceiver

FAST = {"system_metrics": False, "span_schedule_delay_ms": 100, "log_schedule_delay_ms": 100,
        "metric_export_interval_ms": 60_000, "export_timeout": 2.0}


def test_collector_absent_at_start_then_comes_up(reset: None) -> None:
    port = free_port()
    app = make_app()
    telemetry = init_telemetry("absent", endpoint=f"http://127.0.0.1:{port}", **FAST)
    assert hit(app, ["acme"] * 50) == [200] * 50  # nobody listens: requests are served anyway
    # the first exports give up after export_timeout; what they carried is counted, not silently lost
    # (45 s: exports share one process-wide gate with any exporter an earlier test left retrying)
    assert poll(lambda: failed_items(telemetry) > 0, 45)
    with OTLPReceiver(grpc_port=port) as rx:
        # the SDK's gRPC channel reconnects by itself: keep serving until new spans arrive
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not server_spans(rx, "absent"):
            assert hit(app, ["acme"] * 5) == [200] * 5
            rx.store.wait_for(lambda s: bool(server_spans(rx, "absent")), 0.5)
        assert server_spans(rx, "absent"), "export never resumed after the collector came up"
        assert {s.tenant for s in server_spans(rx, "absent")} == {"acme"}
        assert telemetry.force_flush(5)


def test_collector_killed_mid_load_and_restarted(reset: None) -> None:
    port = free_port()
    app = make_app()
    rx = OTLPReceiver(grpc_port=port).start()
    try:
        telemetry = init_telemetry("restart", endpoint=rx.grpc_endpoint, **FAST)
        assert hit(app, ["before"] * 20) == [200] * 20
        assert rx.store.wait_for(lambda s: len(server_spans(rx, "restart")) >= 20, 10)
    finally:
        rx.stop(grace=0)
    assert hit(app, ["during"] * 50) == [200] * 50
    assert telemetry.force_flush(10)  # the outage batch fails (counted) instead of blocking anything
    failed_during_outage = failed_items(telemetry)
    assert failed_during_outage > 0
    with OTLPReceiver(grpc_port=port) as again:

        def resumed() -> bool:
            spans = any(s.tenant == "after" for s in server_spans(again, "restart"))
            logs = any(r.body == "track fetched" and r.tenant == "after" for r in again.store.logs())
            return spans and logs

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not resumed():  # the app is never restarted
            assert hit(app, ["after"] * 5) == [200] * 5
            again.store.wait_for(lambda _store: resumed(), 0.5)
        assert resumed(), "span or log export did not resume after the collector restarted"


@pytest.mark.parametrize("fault", ["unavailable", "resource_exhausted"])
def test_collector_refusing_then_recovering(reset: None, receiver: OTLPReceiver, fault: str) -> None:
    app = make_app()
    telemetry = init_telemetry("refused", endpoint=receiver.grpc_endpoint, **FAST)
    receiver.store.set_fault(fault)  # type: ignore[arg-type]
    assert hit(app, ["refused"] * 30) == [200] * 30
    assert receiver.store.wait_for(lambda s: s.counts()["rejected"]["traces"]["grpc"] >= 1, 10)
    receiver.store.set_fault(None)
    assert hit(app, ["recovered"] * 10) == [200] * 10
    assert receiver.store.wait_for(
        lambda s: any(sp.tenant == "recovered" for sp in server_spans(receiver, "refused")), 20)
    assert telemetry.force_flush(10)
    delivered = {s.span_id for s in server_spans(receiver, "refused") if s.tenant == "refused"}
    # every span of the refused period was either delivered by a retry or counted as failed
    assert len(delivered) + failed_items(telemetry) >= 30


def test_hanging_collector_never_blocks_requests_and_shutdown_keeps_its_deadline(
        reset: None, receiver: OTLPReceiver) -> None:
    app = make_app()
    telemetry = init_telemetry("hang", endpoint=receiver.grpc_endpoint, **{**FAST, "export_timeout": 30.0})
    receiver.store.set_fault("hang")
    assert hit(app, ["acme"] * 20) == [200] * 20
    # an export is now stuck inside the collector ...
    assert receiver.store.wait_for(lambda s: s.counts()["held"] >= 1, 10)
    # ... and requests are still served while it hangs
    assert hit(app, ["acme"] * 200) == [200] * 200
    assert receiver.store.counts()["held"] >= 1
    started = time.monotonic()
    finished = telemetry.shutdown(timeout=1.0)
    elapsed = time.monotonic() - started
    assert finished is False and elapsed < 3.0
    assert server_spans(receiver, "hang") == []  # nothing is stored while hanging
