"""``cost_cpu_time`` in the Django tenant middleware: two thread CPU-clock reads per request when on,
none when off (a WSGI handler in process, the middleware wired as ``init_telemetry`` wires it)."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _support import configure_django_once
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.test.utils import override_settings
from django.urls import path
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from spotify_otel._http_metrics import HttpServerMetrics
from spotify_otel._tenant_limits import TenantLimits
from spotify_otel._tenant_resolution import TenantResolver
from spotify_otel._tenant_validation import TenantValidator
from spotify_otel.integrations import _django_middleware
from spotify_otel.integrations._server import ServerInstrumentation
from spotify_otel.metrics.accounting import RequestAccounting

BURN_S = 0.003
REQUESTS = 4


def burn_cpu(seconds: float) -> None:
    """Spend ``seconds`` of this thread's CPU time (read with ``clock_gettime``, not the counted
    ``time.thread_time``; CPU time, not wall time: a busy machine may deschedule the thread meanwhile)."""
    until = time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) + seconds
    while time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) < until:
        pass


def work(request: HttpRequest) -> HttpResponse:
    burn_cpu(BURN_S)
    return HttpResponse(b"done")


class Urls:
    urlpatterns = [path("work", work)]


@pytest.fixture(scope="module", autouse=True)
def site() -> Iterator[None]:
    configure_django_once()
    with override_settings(ROOT_URLCONF=Urls, ALLOWED_HOSTS=["testserver"], DEBUG=False,
                           MIDDLEWARE=[_django_middleware.__name__ + ".TenantDjangoMiddleware"]):
        yield


@pytest.fixture
def clock_reads(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    reads: list[float] = []
    real: Callable[[], float] = time.thread_time

    def counting() -> float:
        reads.append(real())
        return reads[-1]

    monkeypatch.setattr(time, "thread_time", counting)  # before the accounting picks its clock
    return reads


def serve(cpu_time: bool) -> InMemoryMetricReader:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    limits = TenantLimits(10)
    metrics = HttpServerMetrics(meter, limits, RequestAccounting(meter, limits, cpu_time=cpu_time))
    _django_middleware.configure(ServerInstrumentation(TenantResolver(TenantValidator()), metrics, ()))
    try:
        handler = WSGIHandler()
        statuses: list[str] = []
        for _ in range(REQUESTS):
            env: dict[str, Any] = {
                "REQUEST_METHOD": "GET", "PATH_INFO": "/work", "QUERY_STRING": "", "SERVER_NAME": "testserver",
                "SERVER_PORT": "80", "HTTP_HOST": "testserver", "HTTP_X_TENANT_ID": "acme",
                "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr}
            body = handler(env, lambda status, headers, exc_info=None: statuses.append(status))
            assert b"".join(body) == b"done"
        assert statuses == ["200 OK"] * REQUESTS
    finally:
        _django_middleware.configure(None)
    return reader


def exported(reader: InMemoryMetricReader) -> dict[str, float]:
    data = reader.get_metrics_data()
    assert data is not None
    return {metric.name: sum(point.value for point in metric.data.data_points)  # type: ignore[attr-defined]
            for rm in data.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
            if metric.name.startswith("spotify.cost.")}


def test_django_reads_the_cpu_clock_around_each_request(clock_reads: list[float]) -> None:
    values = exported(serve(cpu_time=True))
    assert len(clock_reads) == 2 * REQUESTS
    spent = [end - start for start, end in zip(clock_reads[::2], clock_reads[1::2], strict=True)]
    assert all(cpu >= BURN_S for cpu in spent)  # the request's window encloses the view's burn
    assert values["spotify.cost.cpu_time"] == pytest.approx(sum(spent))
    assert values["spotify.cost.requests"] == REQUESTS


def test_django_reads_nothing_when_switched_off(clock_reads: list[float]) -> None:
    values = exported(serve(cpu_time=False))
    assert clock_reads == []
    assert "spotify.cost.cpu_time" not in values and values["spotify.cost.requests"] == REQUESTS
