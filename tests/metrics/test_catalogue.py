"""docs/metrics.md against what a real instrumented app really exports over OTLP (and its Prometheus
names after the collector's translation): no undocumented metric, no documented one missing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from _support import ROOT, free_port, http_get
from fastapi_servers import uvicorn

from examples.traffic import drive
from spotify_otel.receiver import OTLPReceiver

DOC = ROOT / "docs" / "metrics.md"
KINDS = {"counter": ("sum", True), "counter (observable)": ("sum", True), "updowncounter": ("sum", False),
         "updowncounter (observable)": ("sum", False),
         "histogram": ("histogram", None), "gauge": ("gauge", None)}


def table(marker: str) -> list[list[str]]:
    text = DOC.read_text()
    body = text.split(f"<!-- {marker}:begin -->")[1].split(f"<!-- {marker}:end -->")[0]
    rows = [line for line in body.strip().splitlines()[2:] if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


DOCUMENTED = {ticked(r[0])[0]: {"kind": r[1], "unit": (ticked(r[2]) or [""])[0], "attributes": set(ticked(r[3])),
                               "tenant_optional": "`tenant.id` (optional)" in r[3], "prometheus": ticked(r[4])[0]}
              for r in table("catalogue")}
SYSTEM = {ticked(r[0])[0]: {"kind": r[1], "unit": (ticked(r[2]) or [""])[0], "prometheus": ticked(r[3])[0]}
          for r in table("system")}


@pytest.fixture(scope="module")
def exported() -> Iterator[OTLPReceiver]:
    rx = OTLPReceiver(prometheus_port=0).start()
    recommender = uvicorn(rx.grpc_endpoint, OTEL_SERVICE_NAME="recommender", SPOTIFY_OTEL_SYSTEM_METRICS="true",
                          SPOTIFY_OTEL_TRUST_INBOUND_BAGGAGE="true", SPOTIFY_OTEL_TENANT_SOURCES="header,baggage")
    app = uvicorn(rx.grpc_endpoint, RECOMMENDER_URL=recommender.base_url, SPOTIFY_OTEL_SYSTEM_METRICS="true",
                  ALERTMANAGER_URL=f"http://127.0.0.1:{free_port()}")  # nothing listens: failures counted
    try:
        drive(app.base_url, rounds=1)
        # the last events of the round, exported by the periodic reader (not left to the exit flush)
        last = {"spotify.security.abuse.events", "spotify.alerts.notifications", "spotify.business.revenue_impact"}
        assert rx.store.wait_for(lambda s: last <= {p.name for p in s.metric_points()}, 30), app.output()[-3000:]
    finally:
        app.stop()
        recommender.stop()
    try:
        yield rx
    finally:
        rx.stop()


def test_every_exported_metric_is_documented_and_every_documented_one_exported(exported: OTLPReceiver) -> None:
    names = {point.name for point in exported.store.metric_points()}
    assert names - set(DOCUMENTED) - set(SYSTEM) == set(), "undocumented metrics"
    assert (set(DOCUMENTED) | set(SYSTEM)) - names == set(), "documented but not exported"


def test_instrument_kind_unit_and_attributes_match(exported: OTLPReceiver) -> None:
    for name, doc in {**DOCUMENTED, **SYSTEM}.items():
        points = exported.store.metric_points(name)
        assert points, name
        kind, monotonic = KINDS[doc["kind"]]
        assert {p.kind for p in points} == {kind}, name
        if monotonic is not None:
            assert {p.monotonic for p in points} == {monotonic}, name
        assert {p.unit for p in points} == {doc["unit"]}, name
        if name in DOCUMENTED:
            seen = set().union(*(p.attributes.keys() for p in points))
            assert seen <= doc["attributes"], (name, seen - doc["attributes"])


def test_prometheus_names_after_collector_translation(exported: OTLPReceiver) -> None:
    assert exported.prometheus_url is not None
    status, body = http_get(exported.prometheus_url)
    assert status == 200
    series = {line.split("{")[0].split(" ")[0] for line in body.decode().splitlines() if line and line[0] != "#"}
    for name, doc in {**DOCUMENTED, **SYSTEM}.items():
        expected = doc["prometheus"].split("/")[0]  # histograms: check the _bucket series
        assert expected in series, (name, expected)


def test_tenant_tagged_metrics_carry_valid_tenants_only(exported: OTLPReceiver) -> None:
    tenant_metrics = [n for n, d in DOCUMENTED.items() if "tenant.id" in d["attributes"] and not d["tenant_optional"]]
    for name in tenant_metrics:
        tenants = {p.tenant for p in exported.store.metric_points(name) if p.tenant is not None}
        assert tenants, name
        assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", t) for t in tenants), (name, tenants)
        assert "not a tenant!" not in tenants


def test_platform_metrics_have_expected_values(exported: OTLPReceiver) -> None:
    def latest(name: str, **attributes: object) -> float:
        matching = [p for p in exported.store.metric_points(name)
                    if all(p.attributes.get(k) == v for k, v in attributes.items())]
        assert matching, (name, attributes)
        point = matching[-1]
        return float(point.value if point.value is not None else point.count or 0)

    assert latest("spotify.security.abuse.events", **{"tenant.id": "globex"}) == 1  # one per window
    assert latest("spotify.security.login.failures", **{"tenant.id": "acme"}) == 1
    assert latest("spotify.alerts.notifications", outcome="failed") >= 1
    drifted = latest("spotify.ml.drift.score", **{"ml.feature": "tempo", "ml.drift.method": "psi"})
    assert drifted > 0.25  # initech's shifted tempos
    assert latest("spotify.tenant.rejected", reason="invalid_characters") == 1
    slow_bad = latest("spotify.sla.requests", **{"tenant.id": "acme", "http.route": "/api/slow",
                                                 "sla.latency": "bad"})
    assert slow_bad == 1
    assert latest("spotify.cost.requests", **{"tenant.id": "acme"}) > 10
    assert latest("spotify.cost.estimated", **{"tenant.id": "acme"}) > 0
    assert latest("spotify.otel.exported", signal="traces") > 0
