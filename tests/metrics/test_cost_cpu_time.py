"""``cost_cpu_time``: each request's thread CPU time read around it (two clock reads) and exported as
``spotify.cost.cpu_time``, or, switched off, not read at all and not exported. Real FastAPI app in
process, real OTLP to a real receiver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from spotify_otel import init_telemetry
from spotify_otel._telemetry import _reset_for_tests
from spotify_otel.receiver import OTLPReceiver

REQUESTS = 5
BURN_S = 0.004


@pytest.fixture
def reset() -> Iterator[None]:
    _reset_for_tests()
    yield
    _reset_for_tests()


@pytest.fixture
def clock_reads(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``time.thread_time()`` read made from now on (the clock still works)."""
    reads: list[float] = []
    real: Callable[[], float] = time.thread_time

    def counting() -> float:
        value = real()
        reads.append(value)
        return value

    monkeypatch.setattr(time, "thread_time", counting)
    return reads


def burning_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/work")
    async def work() -> dict[str, bool]:
        # this thread's CPU time, read with clock_gettime (time.thread_time is the one being counted)
        until = time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) + BURN_S
        while time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) < until:
            pass
        return {"done": True}

    return app


async def hit(app: FastAPI) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return [(await client.get("/api/work", headers={"X-Tenant-ID": "acme"})).status_code
                for _ in range(REQUESTS)]


def _serve(receiver: OTLPReceiver, **options: object) -> None:
    app = burning_app()
    telemetry = init_telemetry("cpu-cost", app=app, endpoint=receiver.grpc_endpoint, system_metrics=False,
                               logs_enabled=False, metric_export_interval_ms=60_000, **options)
    assert asyncio.run(hit(app)) == [200] * REQUESTS
    assert telemetry.force_flush(10)


def _latest(receiver: OTLPReceiver, name: str) -> float | None:
    points = [p for p in receiver.store.metric_points(name) if p.tenant == "acme"]
    return points[-1].value if points else None


def test_cpu_time_is_read_around_each_request_and_exported(reset: None, receiver: OTLPReceiver,
                                                          clock_reads: list[float]) -> None:
    _serve(receiver)
    assert len(clock_reads) == 2 * REQUESTS  # a start and an end read per request, in turn
    per_request = [end - start for start, end in zip(clock_reads[::2], clock_reads[1::2], strict=True)]
    assert all(spent >= BURN_S for spent in per_request)  # the view's burn is inside the window
    assert _latest(receiver, "spotify.cost.cpu_time") == pytest.approx(sum(per_request))
    assert _latest(receiver, "spotify.cost.requests") == REQUESTS


def test_switched_off_nothing_is_read_and_the_metric_is_absent(reset: None, receiver: OTLPReceiver,
                                                              clock_reads: list[float]) -> None:
    _serve(receiver, cost_cpu_time=False, cost_per_cpu_second=1000.0, cost_per_request=0.5)
    assert clock_reads == []
    assert receiver.store.metric_points("spotify.cost.cpu_time") == []
    assert _latest(receiver, "spotify.cost.requests") == REQUESTS  # the rest of the accounting goes on
    assert _latest(receiver, "spotify.cost.estimated") == pytest.approx(REQUESTS * 0.5)  # no CPU part


def test_the_setting_comes_from_the_environment(reset: None, receiver: OTLPReceiver, clock_reads: list[float],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_OTEL_COST_CPU_TIME", "false")
    _serve(receiver)
    assert clock_reads == [] and receiver.store.metric_points("spotify.cost.cpu_time") == []
