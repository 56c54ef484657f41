"""End to end: the FastAPI example under uvicorn (1 and N workers, --reload, zero-code), real OTLP."""

from __future__ import annotations

import http.client
import signal
from collections.abc import Iterator

import pytest
from _support import ServerProcess
from fastapi_servers import uvicorn

from spotify_otel.receiver import OTLPReceiver, ReceivedSpan

TENANTS = ("acme", "globex")


def server_spans(rx: OTLPReceiver, service: str = "music-api") -> list[ReceivedSpan]:
    return [s for s in rx.store.spans() if s.kind == "SERVER" and s.resource.get("service.name") == service]


def drive(server: ServerProcess) -> None:
    for tenant in TENANTS:
        assert server.get("/api/tracks/1", tenant)[0] == 200
        assert server.get("/api/recommendations?genre=jazz", tenant)[0] == 200
    assert server.get("/api/fail", "acme")[0] == 500


@pytest.fixture(scope="module")
def single(module_receiver: OTLPReceiver) -> Iterator[OTLPReceiver]:
    """One uvicorn worker (edge, untrusting) calling a recommender that trusts inbound baggage."""
    rx = module_receiver
    recommender = uvicorn(rx.grpc_endpoint, OTEL_SERVICE_NAME="recommender",
                          SPOTIFY_OTEL_TRUST_INBOUND_BAGGAGE="true", SPOTIFY_OTEL_TENANT_SOURCES="header,baggage")
    edge = uvicorn(rx.grpc_endpoint, RECOMMENDER_URL=recommender.base_url)
    try:
        drive(edge)
        # an untrusted caller trying to pick its tenant through baggage
        assert edge.get("/api/recommendations", headers={"baggage": "tenant.id=evil"})[0] == 200
        burst = [edge.get("/api/search?q=miles", "acme")[0] for _ in range(30)]
        assert burst == [200] * 30
        assert edge.stop() == 0 or edge.process.returncode in (0, -signal.SIGTERM)
        recommender.stop()
        yield rx
    finally:
        edge.stop()
        recommender.stop()


def test_server_child_and_client_spans_carry_the_request_tenant(single: OTLPReceiver) -> None:
    assert single.store.wait_for(lambda s: len(server_spans(single)) >= 36, 10)
    by_trace: dict[str, list[ReceivedSpan]] = {}
    for span in single.store.spans():
        by_trace.setdefault(span.trace_id, []).append(span)
    for tenant in TENANTS:
        track = [s for s in server_spans(single) if s.attributes.get("http.route") == "/api/tracks/{track_id}"
                 and s.tenant == tenant]
        assert len(track) == 1
        children = [s for s in by_trace[track[0].trace_id] if s.name == "catalog.lookup"]
        assert [c.tenant for c in children] == [tenant]
        assert children[0].parent_span_id == track[0].span_id
        reco = [s for s in server_spans(single) if s.attributes.get("http.route") == "/api/recommendations"
                and s.tenant == tenant]
        assert len(reco) == 1
        clients = [s for s in by_trace[reco[0].trace_id] if s.kind == "CLIENT"]
        assert clients and all(c.tenant == tenant for c in clients)


def test_downstream_service_gets_tenant_from_baggage_in_same_trace(single: OTLPReceiver) -> None:
    downstream = server_spans(single, "recommender")
    edge_reco = [s for s in server_spans(single) if s.attributes.get("http.route") == "/api/recommendations"]
    for tenant in TENANTS:
        trace_ids = {s.trace_id for s in edge_reco if s.tenant == tenant}
        mine = [s for s in downstream if s.trace_id in trace_ids]
        assert mine and all(s.tenant == tenant for s in mine)
        inner = [s for s in single.store.spans() if s.name == "recommender.rank" and s.trace_id in trace_ids]
        assert inner and all(s.tenant == tenant for s in inner)


def test_untrusted_inbound_baggage_is_ignored_at_the_edge(single: OTLPReceiver) -> None:
    tenants = {s.tenant for s in single.store.spans()}
    assert "evil" not in tenants
    assert not any(log.tenant == "evil" for log in single.store.logs())
    unknown = [s for s in server_spans(single) if s.attributes.get("http.route") == "/api/recommendations"
               and s.tenant == "unknown"]
    assert len(unknown) == 1
    downstream = [s for s in server_spans(single, "recommender") if s.trace_id == unknown[0].trace_id]
    assert downstream and downstream[0].tenant == "unknown"


def test_error_request_is_recorded_on_span_metric_and_log(single: OTLPReceiver) -> None:
    failed = [s for s in server_spans(single) if s.attributes.get("http.route") == "/api/fail"]
    assert len(failed) == 1 and failed[0].status_code == "ERROR" and failed[0].tenant == "acme"
    errors = [log for log in single.store.logs() if log.body == "about to fail on purpose"]
    assert errors and errors[0].tenant == "acme" and errors[0].trace_id == failed[0].trace_id
    points = [p for p in single.store.metric_points("http.server.request.duration")
              if p.attributes.get("http.route") == "/api/fail"]
    assert points and points[-1].attributes["http.response.status_code"] == 500
    assert points[-1].attributes["error.type"] == "RuntimeError" and points[-1].tenant == "acme"


def test_log_records_carry_tenant_and_trace_of_their_request(single: OTLPReceiver) -> None:
    spans_by_trace = {s.trace_id: s for s in server_spans(single)}
    fetched = [log for log in single.store.logs() if log.body == "track fetched"]
    assert {log.tenant for log in fetched} == set(TENANTS)
    for log in fetched:
        assert spans_by_trace[log.trace_id].tenant == log.tenant
        assert log.attributes.get("track_id") == 1
    # uvicorn's access log is exported too, exactly once per request, with the request's tenant
    access = [log for log in single.store.logs() if "GET /api/tracks/1 HTTP/1.1" in str(log.body)]
    assert sorted(log.tenant for log in access) == sorted(TENANTS)


def test_http_server_duration_has_tenant_and_route_template(single: OTLPReceiver) -> None:
    points = single.store.metric_points("http.server.request.duration")
    assert points and all(p.unit == "s" for p in points)
    routes = {p.attributes.get("http.route") for p in points}
    assert "/api/tracks/{track_id}" in routes and "/api/tracks/1" not in routes
    latest: dict[tuple[object, ...], int] = {}
    for p in points:
        latest[(*tuple(sorted(p.attributes.items())), p.resource.get("service.name"))] = p.count or 0
    counted = {key: n for key, n in latest.items() if "music-api" in key}
    per_tenant = {t: sum(n for key, n in counted.items() if ("tenant.id", t) in key) for t in (*TENANTS, "unknown")}
    assert per_tenant["acme"] == 1 + 1 + 1 + 30 and per_tenant["globex"] == 2 and per_tenant["unknown"] == 1
    active = single.store.metric_points("http.server.active_requests")
    assert active and {p.tenant for p in active} >= set(TENANTS)


def test_sigterm_after_burst_loses_no_span(single: OTLPReceiver) -> None:
    search = [s for s in server_spans(single) if s.attributes.get("http.route") == "/api/search"]
    assert len(search) == 30
    assert len({s.span_id for s in single.store.spans()}) == len(single.store.spans())


def test_health_checks_are_excluded(single: OTLPReceiver) -> None:
    assert not [s for s in single.store.spans() if s.attributes.get("http.route") == "/health"]


@pytest.mark.parametrize("protocol", ["http/protobuf"])
def test_uvicorn_workers_each_export_exactly_once(receiver: OTLPReceiver, protocol: str) -> None:
    server = uvicorn(receiver.http_endpoint, "--workers", "2", protocol=protocol)
    try:
        statuses = [server.get("/api/tracks/2", TENANTS[i % 2])[0] for i in range(40)]
    finally:
        server.stop()
    assert statuses == [200] * 40
    assert receiver.store.wait_for(lambda s: len(server_spans(receiver)) >= 40, 10)
    spans = server_spans(receiver)
    assert len(spans) == 40
    assert len({s.span_id for s in spans}) == 40
    assert sorted({s.tenant for s in spans}) == sorted(TENANTS)
    assert all(s.transport == "http" for s in spans)


def test_reload_mode_exports_and_flushes(receiver: OTLPReceiver) -> None:
    server = uvicorn(receiver.grpc_endpoint, "--reload", "--reload-dir", "examples/fastapi_app")
    try:
        assert [server.get("/api/search?q=a", "acme")[0] for _ in range(10)] == [200] * 10
    finally:
        server.stop()
    assert receiver.store.wait_for(lambda s: len(server_spans(receiver)) >= 10, 10)
    assert {s.tenant for s in server_spans(receiver)} == {"acme"}


def test_zero_code_opentelemetry_instrument_gives_the_same_telemetry(receiver: OTLPReceiver) -> None:
    server = uvicorn(receiver.grpc_endpoint, zero_code=True)
    try:
        drive(server)
    finally:
        server.stop()
    # 5 edge requests + 2 calls the app makes to its own /internal route (no tenant header: untrusted baggage)
    assert receiver.store.wait_for(lambda s: len(server_spans(receiver)) >= 7, 10)
    spans = server_spans(receiver)
    edge = [s for s in spans if not str(s.attributes.get("http.route")).startswith("/internal")]
    assert {s.tenant for s in edge} == {"acme", "globex"}
    assert {s.resource.get("telemetry.distro.name") for s in spans} == {"spotify-otel"}
    assert len({s.span_id for s in spans}) == len(spans) == 7  # instrumented once, not twice
    child = [s for s in receiver.store.spans() if s.name == "catalog.lookup"]
    assert sorted(s.tenant for s in child) == ["acme", "globex"]
    assert receiver.store.wait_for(
        lambda s: {p.tenant for p in s.metric_points("http.server.request.duration")} >= {"acme", "globex"}, 5)
    assert {log.tenant for log in receiver.store.logs() if log.body == "track fetched"} == {"acme", "globex"}
    assert "already called" not in server.output()


def raw_get(server: ServerProcess, path: str, tenant_header: bytes | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("GET", path)
    if tenant_header is not None:
        connection.putheader("X-Tenant-ID", tenant_header)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_hostile_tenant_headers_never_reach_telemetry(receiver: OTLPReceiver) -> None:
    hostile: list[bytes | None] = [None, b"", b"a" * 10_000, "tenañt".encode("latin-1"), "租户".encode(),
                                   b"acme\x00evil", b"acme;rm -rf /", b"${jndi:ldap://x}", b"acme' OR '1'='1"]
    server = uvicorn(receiver.grpc_endpoint)
    try:
        statuses = [raw_get(server, "/api/search?q=x", value) for value in hostile]
        assert server.get("/api/search?q=x", "acme")[0] == 200
    finally:
        server.stop()
    # the HTTP parser itself answers 400 to a NUL byte in a header: the request never reaches the app
    assert statuses[5] == 400
    assert statuses[:5] + statuses[6:] == [200] * (len(hostile) - 1)
    reached = len(hostile) - 1
    assert receiver.store.wait_for(lambda s: len(server_spans(receiver)) >= reached + 1, 10)
    seen = {s.tenant for s in receiver.store.spans()} | {log.tenant for log in receiver.store.logs()} | {
        p.tenant for p in receiver.store.metric_points()}
    assert seen - {None} == {"acme", "unknown"}
    rejected = receiver.store.metric_points("spotify.tenant.rejected")
    assert rejected
    total: dict[str, int] = {}
    for point in rejected:
        total[str(point.attributes["reason"])] = int(point.value or 0)
    assert sum(total.values()) == reached - 1  # every value that reached the app but the missing header
    assert set(total) == {"empty", "too_long", "invalid_characters"}
