"""In-process: init_telemetry on a live FastAPI app exporting real OTLP to a real receiver."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from spotify_otel import SpotifyOtelWarning, get_telemetry, init_telemetry
from spotify_otel._telemetry import _reset_for_tests
from spotify_otel.receiver import OTLPReceiver


@pytest.fixture
def reset() -> Iterator[None]:
    _reset_for_tests()
    yield
    _reset_for_tests()


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


async def hit(app: FastAPI, tenants: list[str | None]) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for tenant in tenants:
            headers = {"X-Tenant-ID": tenant} if tenant is not None else {}
            statuses.append((await client.get("/api/items/7", headers=headers)).status_code)
    return statuses


def test_ten_thousand_tenants_keep_series_bounded(reset: None, receiver: OTLPReceiver) -> None:
    app = make_app()  # created before init_telemetry
    telemetry = init_telemetry("bounded", endpoint=receiver.grpc_endpoint, max_tenants=50, system_metrics=False,
                               logs_enabled=False, metric_export_interval_ms=60_000, span_max_queue_size=512)
    statuses = asyncio.run(hit(app, [f"tenant-{i}" for i in range(10_000)]))
    assert statuses == [200] * 10_000
    assert telemetry.force_flush(10)
    points = receiver.store.metric_points("http.server.request.duration")
    tenants = {p.tenant for p in points}
    assert len(tenants) == 51 and "__overflow__" in tenants
    assert sum(p.count or 0 for p in points) == 10_000  # nothing lost, just folded
    overflow = receiver.store.metric_points("spotify.tenant.overflow")
    assert any(p.attributes.get("metric") == "http.server.request.duration" and p.value == 10_000 - 50
               for p in overflow)
    spans = [s for s in receiver.store.spans() if s.kind == "SERVER"]
    assert spans and all(s.tenant == s.tenant.strip() and s.tenant.startswith("tenant-") for s in spans)


def test_app_served_before_init_is_instrumented_with_app_argument(reset: None, receiver: OTLPReceiver) -> None:
    app = make_app()
    assert asyncio.run(hit(app, ["acme"])) == [200]  # middleware stack built, uninstrumented
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        telemetry = init_telemetry("late", app=app, endpoint=receiver.grpc_endpoint, system_metrics=False)
    assert asyncio.run(hit(app, ["acme"])) == [200]
    assert telemetry.force_flush(10)
    assert [s.tenant for s in receiver.store.spans() if s.kind == "SERVER"] == ["acme"]


def test_second_init_warns_and_returns_same_handle(reset: None, receiver: OTLPReceiver) -> None:
    first = init_telemetry("twice", endpoint=receiver.grpc_endpoint, system_metrics=False)
    with pytest.warns(SpotifyOtelWarning, match="already called"):
        second = init_telemetry("twice-again")
    assert second is first and get_telemetry() is first


def test_disabled_is_a_cheap_no_op(reset: None, receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORING_ENABLED", "false")
    app = make_app()
    telemetry = init_telemetry("off", endpoint=receiver.grpc_endpoint)
    assert telemetry.enabled is False
    assert asyncio.run(hit(app, ["acme", None])) == [200, 200]
    assert telemetry.shutdown(1)
    assert receiver.store.counts()["spans"] == 0
    assert type(app.build_middleware_stack).__name__ == "method"
    assert "TenantASGIMiddleware" not in type(app.build_middleware_stack()).__name__


def test_traces_off_adds_no_span_layer_and_keeps_tenant_metrics(reset: None, receiver: OTLPReceiver) -> None:
    app = make_app()
    telemetry = init_telemetry("no-traces", endpoint=receiver.grpc_endpoint, traces_enabled=False,
                               system_metrics=False, logs_enabled=False)
    stack = app.build_middleware_stack()
    assert type(stack).__name__ == "TenantASGIMiddleware"
    assert stack.app is stack.bypass  # the application's own stack, no span middleware in between
    assert asyncio.run(hit(app, ["acme"])) == [200]
    assert telemetry.force_flush(10)
    assert receiver.store.counts()["spans"] == 0
    assert {p.tenant for p in receiver.store.metric_points("http.server.request.duration")} == {"acme"}


def test_shutdown_returns_within_deadline_when_collector_hangs(reset: None, receiver: OTLPReceiver) -> None:
    app = make_app()
    telemetry = init_telemetry("hang", endpoint=receiver.grpc_endpoint, system_metrics=False, export_timeout=30)
    receiver.store.set_fault("hang")
    started = time.monotonic()
    statuses = asyncio.run(hit(app, ["acme"] * 50))
    request_time = time.monotonic() - started
    assert statuses == [200] * 50
    started = time.monotonic()
    finished = telemetry.shutdown(timeout=1.0)
    elapsed = time.monotonic() - started
    assert finished is False  # the export could not complete ...
    assert elapsed < 2.0  # ... yet shutdown returned on time
    assert request_time < 10  # requests never waited for the hanging exporter


def test_bad_keyword_raises_config_error_before_any_setup(reset: None) -> None:
    from spotify_otel import ConfigError

    with pytest.raises(ConfigError, match="protocol"):
        init_telemetry("bad", protocol="carrier-pigeon")
    assert get_telemetry() is None


def test_json_logs_in_seed_format(reset: None, receiver: OTLPReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging

    from spotify_otel import tenant_context

    init_telemetry("jsonlogs", endpoint=receiver.grpc_endpoint, json_logs=True, system_metrics=False)
    with tenant_context("tenant_123"):
        logging.getLogger("music.test").warning("API rate limit exceeded", extra={"user_id": "user_456"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    record: dict[str, Any] = next(r for r in lines if r["message"] == "API rate limit exceeded")
    assert record["level"] == "WARNING" and record["service"] == "jsonlogs"
    assert record["tenant_id"] == "tenant_123" and record["metadata"] == {"user_id": "user_456"}
    assert record["timestamp"].endswith("Z") and "trace_id" in record and "span_id" in record


def test_suppressed_http_instrumentation_gets_no_server_span(reset: None, receiver: OTLPReceiver) -> None:
    """The lean server-span middleware honours the OpenTelemetry suppression keys, like the contrib one."""
    from opentelemetry import context
    from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY

    app = make_app()
    telemetry = init_telemetry("suppressed", endpoint=receiver.grpc_endpoint, system_metrics=False)
    token = context.attach(context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True))
    try:
        assert asyncio.run(hit(app, ["acme"])) == [200]
    finally:
        context.detach(token)
    assert asyncio.run(hit(app, ["globex"])) == [200]
    assert telemetry.force_flush(10)
    assert receiver.store.wait_for(lambda s: any(sp.tenant == "globex" for sp in s.spans()), 10)
    servers = [sp for sp in receiver.store.spans() if sp.service_name == "suppressed" and sp.kind == "SERVER"]
    assert [sp.tenant for sp in servers] == ["globex"]
