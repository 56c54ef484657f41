"""The example Django service under real servers: the tenant of each request on its server, child and
client spans, its log records and its ``http.server.request.duration`` points; the tenant crossing to a
trusting downstream service in baggage, and not entering through an untrusting edge."""

from __future__ import annotations

import pytest
from _django_e2e import (
    DURATION,
    RECOMMENDER,
    TENANTS,
    TRACKS_ROUTE,
    Scenario,
    by_name,
    describe,
    latest_points,
)
from _django_e2e import expected_counts as expected_request_counts
from _django_e2e import request_counts as received_request_counts

pytestmark = pytest.mark.slow  # real servers in subprocesses


def test_django_requests_get_their_responses(scenario: Scenario) -> None:
    assert [(c.path, c.got) for c in scenario.calls] == [(c.path, c.status) for c in scenario.calls], (
        scenario.output[-3000:])
    assert [c.got for c in scenario.burst] == [200] * len(scenario.burst)


def test_django_server_span_carries_the_request_tenant(scenario: Scenario) -> None:
    for call in scenario.calls:
        spans = scenario.before.server_spans(call.trace_id)
        assert len(spans) == 1, f"{call.path}: {describe(scenario.before.spans)}"
        span = spans[0]
        assert (span.tenant, span.name) == (call.expected_tenant, f"{call.method} {call.route}"), call.path
        assert span.attributes["http.route"] == call.route
        assert span.attributes["http.response.status_code"] == call.status
        assert span.scope_name == "opentelemetry.instrumentation.django"


def test_django_failure_is_an_error_span_with_the_exception(scenario: Scenario) -> None:
    for tenant in TENANTS:
        call = scenario.call("/api/fail", tenant)
        (span,) = scenario.before.server_spans(call.trace_id)
        assert span.status_code == "ERROR"
        exceptions = [attrs for name, attrs in span.events if name == "exception"]
        assert [e.get("exception.type") for e in exceptions] == ["RuntimeError"]


def test_django_manual_child_spans_carry_the_tenant(scenario: Scenario) -> None:
    for tenant in TENANTS:
        for path, name in (("/api/tracks/1", "catalog.lookup"), ("/api/search?q=miles", "catalog.search")):
            call = scenario.call(path, tenant)
            (server,) = scenario.before.server_spans(call.trace_id)
            children = by_name(scenario.before.in_trace(call.trace_id), name)
            assert [(c.kind, c.tenant, c.parent_span_id) for c in children] == [
                ("INTERNAL", tenant, server.span_id)], path
    acme_trace = scenario.call("/api/tracks/1", "acme").trace_id
    (lookup,) = by_name(scenario.before.in_trace(acme_trace), "catalog.lookup")
    assert lookup.attributes["music.track_id"] == 1


def test_django_downstream_client_span_carries_the_tenant(scenario: Scenario) -> None:
    for call in (c for c in scenario.calls if c.route == "api/recommendations"):
        (server,) = scenario.before.server_spans(call.trace_id)
        clients = [s for s in scenario.before.in_trace(call.trace_id) if s.kind == "CLIENT"]
        assert [(c.tenant, c.parent_span_id) for c in clients] == [(call.expected_tenant, server.span_id)], (
            describe(clients))
        assert "/internal/recommendations" in clients[0].attributes["url.full"]


def test_django_log_records_carry_tenant_and_request_trace(scenario: Scenario) -> None:
    for tenant in TENANTS:
        for path, body in (("/api/tracks/1", "track fetched"), ("/api/fail", "about to fail on purpose"),
                           ("/api/fail", "Internal Server Error: /api/fail")):
            call = scenario.call(path, tenant)
            (server,) = scenario.before.server_spans(call.trace_id)
            records = [r for r in scenario.before.logs if r.body == body and r.trace_id == call.trace_id]
            assert [(r.tenant, r.span_id) for r in records] == [(tenant, server.span_id)], (
                f"{body!r}:\n{describe(scenario.before.logs)}")
    tracks = scenario.call("/api/tracks/1", "globex")
    (fetched,) = [r for r in scenario.before.logs
                  if r.trace_id == tracks.trace_id and r.body == "track fetched"]
    assert fetched.attributes["track_id"] == 1


def test_django_request_duration_counts_requests_per_tenant_route_status(scenario: Scenario) -> None:
    received = received_request_counts(scenario.before.points)
    assert received == expected_request_counts(scenario.calls)


def test_django_request_duration_uses_route_templates_and_error_type(scenario: Scenario) -> None:
    points = latest_points(scenario.before.points)
    routes = {p.attributes.get("http.route") for p in points}
    assert routes == {c.route for c in scenario.calls}
    assert TRACKS_ROUTE in routes and not any("/1" in str(r) for r in routes)
    failures = [p for p in points if p.attributes["http.response.status_code"] == 500]
    assert sorted(p.tenant or "" for p in failures) == sorted(TENANTS)
    # Semantic conventions allow the status code or the exception type; both name the failure.
    assert {p.attributes.get("error.type") for p in failures} <= {"500", "RuntimeError"}
    assert all(p.unit == "s" and p.kind == "histogram" for p in points)
    assert not [p for p in scenario.before.points if p.name == "http.server.duration"]


def test_django_downstream_server_span_has_the_callers_tenant_from_baggage(scenario: Scenario) -> None:
    for tenant in TENANTS:
        call = scenario.call("/api/recommendations?genre=jazz", tenant)
        (client,) = [s for s in scenario.before.in_trace(call.trace_id) if s.kind == "CLIENT"]
        downstream = [s for s in scenario.recommender_spans if s.trace_id == call.trace_id]
        servers = [s for s in downstream if s.kind == "SERVER"]
        assert [(s.tenant, s.parent_span_id) for s in servers] == [(tenant, client.span_id)], (
            describe(downstream))
        assert [s.tenant for s in by_name(downstream, "recommender.rank")] == [tenant]
        ranked = [r for r in scenario.recommender_logs if r.trace_id == call.trace_id]
        assert [(str(r.body).split()[0], r.tenant) for r in ranked] == [("ranked", tenant)]


def test_django_untrusting_edge_ignores_inbound_baggage(scenario: Scenario) -> None:
    evil = [c for c in scenario.calls if c.baggage is not None]
    assert len(evil) == 2
    for call in evil:
        (server,) = scenario.before.server_spans(call.trace_id)
        assert server.tenant == "unknown"
        assert {s.tenant for s in scenario.before.in_trace(call.trace_id)} == {"unknown"}
        assert {r.tenant for r in scenario.before.logs if r.trace_id == call.trace_id} == {"unknown"}
    downstream_call = next(c for c in evil if c.route == "api/recommendations")
    downstream = [s for s in scenario.recommender_spans if s.trace_id == downstream_call.trace_id]
    assert {(s.kind, s.tenant) for s in downstream} == {("SERVER", "unknown"), ("INTERNAL", "unknown")}
    tenants = ({s.tenant for s in scenario.after.spans} | {r.tenant for r in scenario.after.logs}
               | {p.tenant for p in scenario.after.points} | {s.tenant for s in scenario.recommender_spans})
    assert "evil" not in tenants


def test_django_background_job_spans_and_logs_carry_each_tenant(scenario: Scenario) -> None:
    jobs = by_name(scenario.before.spans, "job.refresh_recommendations")
    assert sorted(s.tenant or "" for s in jobs) == sorted(TENANTS)
    request = scenario.call("/api/jobs/refresh?tenants=acme,globex", "acme")
    assert all(s.is_root and s.trace_id != request.trace_id for s in jobs)
    logs = [r for r in scenario.before.logs if str(r.body).startswith("refreshed ")]
    expected = sorted((s.tenant or "", s.trace_id, f"refreshed {s.attributes['music.recommendations']} "
                       "recommendations") for s in jobs)
    assert sorted((r.tenant or "", r.trace_id, str(r.body)) for r in logs) == expected


def test_django_health_checks_are_not_traced(scenario: Scenario) -> None:
    # Every server was polled on /health until ready; none of those requests may leave telemetry.
    names = {s.name for s in scenario.after.server_spans()}
    assert "GET health" not in names and f"GET {TRACKS_ROUTE}" in names
    assert "health" not in {p.attributes.get("http.route") for p in scenario.after.points}
    assert {p.name for p in scenario.before.points} >= {DURATION, "http.server.active_requests"}
    assert {s.service_name for s in scenario.recommender_spans} == {RECOMMENDER}
