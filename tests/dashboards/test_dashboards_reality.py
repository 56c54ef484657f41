"""Every panel query against real data: the example FastAPI app (real uvicorn, real OTLP) driven by
examples/traffic.py, its metrics rendered by the receiver as the collector's prometheus exporter would,
scraped by a real Prometheus every second; each query evaluated with the variables substituted."""

from __future__ import annotations

import time
from typing import Any

import pytest
from _support import free_port, poll
from dashboards_support import ALL_VARIABLES, SCRAPE_JOB, Prometheus, Query, queries, substitute
from fastapi_servers import uvicorn

from examples.traffic import TENANTS, drive
from spotify_otel.receiver import OTLPReceiver

pytestmark = pytest.mark.slow
Json = dict[str, Any]
SERVICE = "spotify/music-api"  # job = "<service.namespace>/<service.name>"
TENANT = "acme"

# Panels that cannot have data on this machine, with the reason. Everything else must return series.
NO_DATA_HERE: dict[tuple[str, str], str] = {
    **{("spotify-pipeline", title): "the collector's own otelcol_* metrics: no collector binary here"
       for title in (
        "Collector accepted", "Collector refused", "Collector processors dropped", "Exporter sent",
        "Exporter failures", "Exporter queue utilisation", "Collector memory", "Collector CPU")},
    **{(uid, "annotation: Critical alerts firing"): "ALERTS: no alert rules are loaded in this Prometheus"
       for uid in ("spotify-overview", "spotify-tenants", "spotify-performance", "spotify-infrastructure",
                   "spotify-business", "spotify-security", "spotify-cost", "spotify-slo", "spotify-ml",
                   "spotify-pipeline")},
}


def _scrapes_after(prom: Prometheus, moment: float) -> int:
    """Scrapes of the receiver's endpoint that Prometheus took after ``moment`` (epoch seconds)."""
    result = prom.query(f'up{{job="{SCRAPE_JOB}"}}[1m]')["data"]["result"]
    return sum(1 for series in result for stamp, _ in series["values"] if float(stamp) > moment)


@pytest.fixture(scope="module")
def demo(receiver_with_prometheus: tuple[OTLPReceiver, Prometheus]) -> Prometheus:
    """The example app under uvicorn, driven by two rounds of examples/traffic.py with a scrape between
    them (so counters have a previous sample and rates are not all zero), then two more scrapes."""
    rx, prom = receiver_with_prometheus
    server = uvicorn(rx.grpc_endpoint, SPOTIFY_OTEL_SYSTEM_METRICS="true",
                     OTEL_RESOURCE_ATTRIBUTES="service.namespace=spotify,deployment.environment.name=test",
                     SPOTIFY_OTEL_ALERTMANAGER_URL=f"http://127.0.0.1:{free_port()}")  # closed port: 'failed'
    try:
        assert poll(lambda: _scrapes_after(prom, 0) > 0, 20, interval=0.2), prom.output()
        statuses: dict[str, int] = {}
        for scrapes in (1, 2):
            for status, count in drive(server.base_url, rounds=1).items():
                statuses[status] = statuses.get(status, 0) + count
            done = time.time() + 0.5  # the SDK exports every 300 ms in tests

            def scraped(moment: float = done, wanted: int = scrapes) -> bool:
                return _scrapes_after(prom, moment) >= wanted

            assert poll(scraped, 20, interval=0.2), prom.output()
        assert {"200", "401", "403", "404", "500"} <= set(statuses), statuses
    finally:
        server.stop()
    return prom


def _evaluate(prom: Prometheus, query: Query, values: dict[str, str]) -> tuple[str | None, list[Json]]:
    body = prom.query(substitute(query.expr, values))
    if body["status"] != "success":
        return f"{body.get('errorType')}: {body.get('error')}", []
    result: list[Json] = body["data"]["result"]
    return None, result


def test_every_query_returns_series_with_all_tenants(dashboards: dict[str, Json], demo: Prometheus) -> None:
    errors, empty, unexpectedly_full = [], [], []
    for query in queries(dashboards):
        error, result = _evaluate(demo, query, ALL_VARIABLES)
        key = (query.dashboard, query.panel)
        if error:
            errors.append(f"{key} {query.ref}: {error}")
        elif not result and key not in NO_DATA_HERE:
            empty.append(f"{key} {query.ref}: {query.expr}")
        elif result and key in NO_DATA_HERE:
            unexpectedly_full.append(f"{key} {query.ref}: remove it from NO_DATA_HERE")
    assert errors == []
    assert empty == []
    assert unexpectedly_full == []


def test_a_single_service_and_tenant_filter_to_that_tenant(dashboards: dict[str, Json],
                                                           demo: Prometheus) -> None:
    values = {**ALL_VARIABLES, "service": SERVICE, "tenant": TENANT}
    errors, leaks, per_tenant = [], [], 0
    for query in queries(dashboards):
        error, result = _evaluate(demo, query, values)
        if error:
            errors.append(f"{query.dashboard} / {query.panel} {query.ref}: {error}")
        tenants = {series["metric"]["tenant_id"] for series in result if "tenant_id" in series["metric"]}
        if tenants and query.kind == "panel":
            per_tenant += 1
            if tenants != {TENANT}:
                leaks.append(f"{query.dashboard} / {query.panel} {query.ref}: {sorted(tenants)}")
    assert errors == []
    assert leaks == []
    assert per_tenant >= 20


def test_the_tenant_variable_offers_the_demo_tenants(dashboards: dict[str, Json], demo: Prometheus) -> None:
    tenant_variable = next(q for q in queries(dashboards) if q.panel == "$tenant")
    _, result = _evaluate(demo, tenant_variable, ALL_VARIABLES)
    assert {series["metric"]["tenant_id"] for series in result} >= {*TENANTS, "unknown"}


def test_no_data_here_only_lists_what_this_machine_cannot_produce(dashboards: dict[str, Json]) -> None:
    by_key: dict[tuple[str, str], list[str]] = {}
    for query in queries(dashboards):
        by_key.setdefault((query.dashboard, query.panel), []).append(query.expr)
    for key in NO_DATA_HERE:
        assert key in by_key, f"{key} no longer exists"
        assert all("otelcol_" in expr or expr.startswith("ALERTS{") for expr in by_key[key]), key
