"""SIGTERM right after a burst, with one or several workers: every buffered span and log record is
delivered, exactly once, by every worker (uvicorn, ``uvicorn --workers``, gunicorn ``--preload``)."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
from _support import BIN, ROOT, ServerProcess, free_port, telemetry_env

from spotify_otel.receiver import OTLPReceiver

BURST = 120
MODES = {
    "uvicorn": ["{bin}/uvicorn", "benchmarks.apps.fastapi_spotify:app", "--port", "{port}"],
    "uvicorn-workers": ["{bin}/uvicorn", "benchmarks.apps.fastapi_spotify:app", "--port", "{port}", "--workers", "2"],
    "gunicorn-preload": ["{bin}/gunicorn", "--preload", "-w", "2", "-b", "127.0.0.1:{port}", "--no-control-socket",
                         "--graceful-timeout", "10", "benchmarks.apps.django_spotify:application"],
}
SERVICE = {"uvicorn": "bench-spotify", "uvicorn-workers": "bench-spotify", "gunicorn-preload": "bench-spotify-django"}


@pytest.mark.parametrize("mode", list(MODES))
def test_sigterm_after_burst_delivers_everything_exactly_once(receiver: OTLPReceiver, mode: str) -> None:
    port = free_port()
    argv = [part.format(bin=BIN, port=port) for part in MODES[mode]]
    if mode.startswith("uvicorn"):
        argv += ["--host", "127.0.0.1", "--no-access-log"]
    # batches are held for 30 s: at SIGTERM everything is still buffered in the workers
    env = telemetry_env(receiver.grpc_endpoint, SPOTIFY_OTEL_BSP_SCHEDULE_DELAY="30000",
                        SPOTIFY_OTEL_BLRP_SCHEDULE_DELAY="30000", SPOTIFY_OTEL_METRIC_EXPORT_INTERVAL="60000")
    server = ServerProcess(argv, env, port, cwd=ROOT).wait_ready()
    try:
        statuses = [server.get(f"/api/tracks/{i}", f"tenant-{i % 3}")[0] for i in range(BURST)]
        assert statuses == [200] * BURST
        assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM), server.output()
    finally:
        server.stop()
    service = SERVICE[mode]
    spans = [s for s in receiver.store.spans() if s.kind == "SERVER" and s.service_name == service
             and str(s.attributes.get("url.path", "")).startswith("/api/tracks/")]
    logs = [r for r in receiver.store.logs() if r.body == "track fetched" and r.service_name == service]
    assert len(spans) == BURST, f"{len(spans)} server spans of {BURST}:\n{server.output()[-3000:]}"
    assert len({s.span_id for s in spans}) == BURST  # none twice (a worker exporting its parent's queue)
    assert len(logs) == BURST, f"{len(logs)} log records of {BURST}"
    assert Counter(s.tenant for s in spans) == Counter(f"tenant-{i % 3}" for i in range(BURST))
    workers = {s.resource.get("service.instance.id") for s in spans}
    assert 1 <= len(workers) <= (1 if mode == "uvicorn" else 2)
    # each log record is in the trace of its own request
    assert {r.trace_id for r in logs} == {s.trace_id for s in spans}
