"""Process lifecycle of the Django example under real servers: SIGTERM right after a burst loses
nothing, gunicorn workers (with and without ``--preload``) each export their telemetry exactly once,
the zero-code path (``opentelemetry-instrument``) produces the same telemetry as ``init_telemetry()``,
and every signal travels over the configured OTLP protocol."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import pytest
from _django_e2e import BURST, TENANTS, TRACKS_ROUTE, Scenario, Snapshot, describe
from _django_e2e import expected_counts as expected_request_counts
from _django_e2e import request_counts as received_request_counts

pytestmark = pytest.mark.slow  # real servers in subprocesses


def _burst_server_spans(scenario: Scenario) -> list[Any]:
    before = {s.span_id for s in scenario.before.spans}
    return [s for s in scenario.after.server_spans() if s.span_id not in before]


def _diagnosis(scenario: Scenario) -> str:
    per_process: dict[str, list[int]] = {}
    for label, snapshot in (("before", scenario.before), ("after", scenario.after)):
        for span in snapshot.server_spans():
            key = f"{span.resource.get('service.instance.id')} pid={span.resource.get('process.pid')}"
            per_process.setdefault(key, [0, 0])[label == "after"] += 1
    return (f"mode={scenario.mode.name} exit_code={scenario.exit_code} "
            f"burst spans already exported at SIGTERM={scenario.burst_spans_at_sigterm} "
            f"stop took {scenario.seconds_to_exit:.2f}s; server spans per process "
            f"[before SIGTERM, after exit]: {per_process}\n{scenario.output[-2500:]}")


def test_django_sigterm_after_burst_loses_no_span(scenario: Scenario) -> None:
    spans = _burst_server_spans(scenario)
    assert len(spans) == BURST, _diagnosis(scenario)
    sent = collections.Counter(c.tenant for c in scenario.burst)
    assert collections.Counter(s.tenant for s in spans) == sent
    assert {s.attributes["http.route"] for s in spans} == {TRACKS_ROUTE}
    lookups = [s for s in scenario.after.spans if s.name == "catalog.lookup"]
    assert len(lookups) == BURST + len(TENANTS)


def test_django_sigterm_after_burst_loses_no_log_record(scenario: Scenario) -> None:
    fetched = [r for r in scenario.after.logs if r.body == "track fetched"]
    assert len(fetched) == BURST + len(TENANTS), _diagnosis(scenario)


def test_django_final_metrics_count_the_burst(scenario: Scenario) -> None:
    received = received_request_counts(scenario.after.points)
    assert received == expected_request_counts(scenario.calls + scenario.burst), _diagnosis(scenario)


def test_django_each_span_and_log_record_is_exported_once(scenario: Scenario) -> None:
    span_ids = collections.Counter(s.span_id for s in scenario.after.spans)
    assert [i for i, n in span_ids.items() if n > 1] == []
    server_spans = scenario.before.server_spans()
    assert len(server_spans) == len(scenario.calls), describe(server_spans)
    logs = collections.Counter((r.timestamp_ns, r.trace_id, r.span_id, str(r.body), r.resource.get(
        "service.instance.id")) for r in scenario.after.logs)
    assert [k for k, n in logs.items() if n > 1] == []


def test_django_gunicorn_workers_export_all_requests_exactly_once(gunicorn_scenario: Scenario) -> None:
    scenario = gunicorn_scenario
    sent = len(scenario.calls) + len(scenario.burst)
    assert len(scenario.after.server_spans()) == sent, _diagnosis(scenario)
    assert len({s.span_id for s in scenario.after.server_spans()}) == sent
    assert scenario.exit_code == 0, _diagnosis(scenario)


def test_django_gunicorn_worker_resources_describe_the_worker_process(gunicorn_scenario: Scenario) -> None:
    """Every worker exports with its own identity: service.instance.id per process, and process.pid is
    the worker's, never the master's (the master serves no request)."""
    scenario = gunicorn_scenario
    resources = {(str(s.resource.get("service.instance.id")), s.resource.get("process.pid"))
                 for s in scenario.after.server_spans()}
    instance_ids = {instance for instance, _ in resources}
    assert len(instance_ids) == len(resources), f"one instance id per process: {resources}"
    assert scenario.master_pid not in {pid for _, pid in resources}, (
        f"process.pid is the gunicorn master's ({scenario.master_pid}) in a worker's telemetry: {resources}")


def test_django_gunicorn_master_has_telemetry_only_when_set_up_before_fork(
        gunicorn_scenario: Scenario) -> None:
    """``--preload`` and ``opentelemetry-instrument`` set telemetry up in the master (its own log lines
    are exported); the one-line setup without ``--preload`` runs in each worker only. Shows the
    zero-code run really used the distro, not the example's guarded ``init_telemetry()``."""
    scenario = gunicorn_scenario
    master_logs = [r for r in scenario.after.logs if str(r.body).startswith("Listening at: ")]
    set_up_before_fork = scenario.mode.name != "gunicorn"
    assert bool(master_logs) == set_up_before_fork, describe(scenario.after.logs)


def _signature(snapshot: Snapshot) -> dict[str, Any]:
    """What must not depend on how telemetry was set up (ids, timings and pids aside)."""
    varying = {"service.instance.id", "service.name", "process.pid", "process.parent_pid",
               "process.command_line", "process.command_args", "process.command", "process.executable.path",
               "process.executable.name"}
    return {
        "spans": collections.Counter((s.name, s.kind, s.tenant, s.scope_name, s.status_code,
                                      s.attributes.get("http.route")) for s in snapshot.spans),
        "logs": collections.Counter((str(r.body), r.tenant, r.severity_text, r.scope_name)
                                    for r in snapshot.logs
                                    if str(r.scope_name).startswith(("music", "django"))),
        "requests": received_request_counts(snapshot.points),
        # the SDK's processed-items counters get their first point at the first metric export after a
        # batch export: present or not depending on timing, not on how telemetry was set up
        "metrics": {p.name for p in snapshot.points if not p.name.startswith("otel.sdk.processor.")
                    or not p.name.endswith(".processed")},
        "resource": {k for s in snapshot.spans for k in s.resource if k not in varying},
        "distro": {s.resource.get("telemetry.distro.name") for s in snapshot.spans},
    }


@pytest.mark.parametrize(("one_line", "zero_code"), [("gunicorn", "zero-code-gunicorn"),
                                                      ("runserver", "zero-code-runserver")])
def test_django_zero_code_produces_the_same_telemetry(run_mode: Callable[[str], Scenario], one_line: str,
                                                      zero_code: str) -> None:
    expected, actual = _signature(run_mode(one_line).before), _signature(run_mode(zero_code).before)
    assert actual == expected
    assert actual["distro"] == {"spotify-otel"}


def test_django_runs_without_sdk_warnings_or_tracebacks(scenario: Scenario) -> None:
    """Start-up, requests and shutdown log nothing at WARNING or above from the SDK or the
    instrumentations, and print no traceback (the /api/fail exception goes to telemetry only)."""
    sdk = ("opentelemetry", "spotify_otel")
    sdk_warnings = [(r.scope_name, r.body) for r in scenario.after.logs
                    if r.severity_number >= 13 and str(r.scope_name).startswith(sdk)]
    assert sdk_warnings == []
    assert "Traceback" not in scenario.output, scenario.output[-3000:]


def test_django_exports_over_the_configured_protocol(scenario: Scenario) -> None:
    transport = "http" if scenario.mode.protocol == "http/protobuf" else "grpc"
    records: list[Any] = [*scenario.after.spans, *scenario.after.logs, *scenario.after.points]
    assert records and {r.transport for r in records} == {transport}
    # The exporter's own HTTP calls are not traced (no feedback loop through the requests instrumentation).
    clients = [s for s in scenario.after.spans if s.kind == "CLIENT"]
    assert clients and all("/internal/recommendations" in s.attributes["url.full"] for s in clients)
