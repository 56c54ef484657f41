"""Helpers for the Django end-to-end tests: how each server is started, the requests sent, and
what the receiver got back, split by service and by phase (before SIGTERM / after exit)."""

from __future__ import annotations

import collections
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from _support import BIN, ROOT, ServerProcess, free_port, poll, telemetry_env

from spotify_otel.receiver import OTLPReceiver, ReceivedLog, ReceivedPoint, ReceivedSpan

APP_DIR = ROOT / "examples" / "django_app"
TENANTS = ("acme", "globex")
DURATION = "http.server.request.duration"
BURST = 30
TRACKS_ROUTE = "api/tracks/<int:track_id>"
RECOMMENDER = "recommender"


# -- servers --------------------------------------------------------------------------------------
def _gunicorn(port: int, *extra: str) -> list[str]:
    return [str(BIN / "gunicorn"), "-w", "2", *extra, "--no-control-socket", "--graceful-timeout", "10",
            "-b", f"127.0.0.1:{port}", "--chdir", str(APP_DIR), "musicsite.wsgi"]


def _runserver(port: int) -> list[str]:
    return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]


def _uvicorn(port: int) -> list[str]:
    return [str(BIN / "uvicorn"), "--app-dir", str(APP_DIR), "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "musicsite.asgi:application"]


def _zero_code(argv: list[str]) -> list[str]:
    return [str(BIN / "opentelemetry-instrument"), *argv]


@dataclass(frozen=True)
class Mode:
    """One way of serving the example: the command line, the OTLP protocol, and gunicorn or not."""

    name: str
    argv: Callable[[int], list[str]]
    protocol: str = "grpc"
    gunicorn: bool = True

    @property
    def service(self) -> str:
        return f"music-{self.name}"


MODES = {
    mode.name: mode
    for mode in (
        Mode("gunicorn", lambda port: _gunicorn(port)),
        Mode("gunicorn-preload", lambda port: _gunicorn(port, "--preload")),
        Mode("runserver", _runserver, gunicorn=False),
        Mode("zero-code-gunicorn", lambda port: _zero_code(_gunicorn(port))),
        Mode("zero-code-runserver", lambda port: _zero_code(_runserver(port)), gunicorn=False),
        Mode("gunicorn-preload-http", lambda port: _gunicorn(port, "--preload"), protocol="http/protobuf"),
        Mode("uvicorn-asgi", _uvicorn, gunicorn=False),
    )
}


def start_recommender(rx: OTLPReceiver) -> ServerProcess:
    """The downstream service: trusts inbound baggage, tenant from header then baggage."""
    port = free_port()
    env = telemetry_env(rx.grpc_endpoint, OTEL_SERVICE_NAME=RECOMMENDER,
                        SPOTIFY_OTEL_TRUST_INBOUND_BAGGAGE="true",
                        SPOTIFY_OTEL_TENANT_SOURCES="header,baggage")
    return ServerProcess(_runserver(port), env, port, cwd=APP_DIR).wait_ready()


def start_edge(mode: Mode, rx: OTLPReceiver, recommender_url: str) -> ServerProcess:
    """The music API in ``mode``; spans and logs are batched for 1 s so a SIGTERM finds them buffered.

    Metrics every 1 s too: the master's first export then comes after gunicorn forked its workers
    (a fork during that first export is its own test: test_django_gunicorn_fork_race.py)."""
    port = free_port()
    endpoint = rx.http_endpoint if mode.protocol == "http/protobuf" else rx.grpc_endpoint
    env = telemetry_env(endpoint, mode.protocol, OTEL_SERVICE_NAME=mode.service,
                        RECOMMENDER_URL=recommender_url, SPOTIFY_OTEL_METRIC_EXPORT_INTERVAL="1000",
                        SPOTIFY_OTEL_BSP_SCHEDULE_DELAY="1000", SPOTIFY_OTEL_BLRP_SCHEDULE_DELAY="1000")
    return ServerProcess(mode.argv(port), env, port, cwd=APP_DIR).wait_ready()


# -- requests -------------------------------------------------------------------------------------
@dataclass
class Call:
    """One request sent to the edge, with what we expect of its telemetry."""

    path: str
    tenant: str | None
    route: str
    status: int = 200
    method: str = "GET"
    baggage: str | None = None
    trace_id: str = field(default_factory=lambda: secrets.token_hex(16))
    propagate: bool = True  # send a traceparent with our trace id (correlates request and telemetry)
    logs: int = 1  # log records the view writes in the request's trace
    got: int = 0

    @property
    def expected_tenant(self) -> str:
        return self.tenant or "unknown"

    def send(self, base_url: str) -> int:
        headers = {}
        if self.tenant is not None:
            headers["X-Tenant-ID"] = self.tenant
        if self.baggage is not None:
            headers["baggage"] = self.baggage
        if self.propagate:
            headers["traceparent"] = f"00-{self.trace_id}-{secrets.token_hex(8)}-01"
        request = urllib.request.Request(base_url + self.path, headers=headers, method=self.method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                self.got = response.status
        except urllib.error.HTTPError as exc:
            exc.read()
            self.got = exc.code
        return self.got


def phase_one() -> list[Call]:
    """Both tenants: a child span + log, a search, a downstream call, a failure; evil baggage; a job."""
    calls: list[Call] = []
    for tenant in TENANTS:
        calls += [
            Call("/api/tracks/1", tenant, TRACKS_ROUTE),
            Call("/api/search?q=miles", tenant, "api/search"),
            Call("/api/recommendations?genre=jazz", tenant, "api/recommendations"),
            Call("/api/fail", tenant, "api/fail", status=500, logs=2),  # ours + django.request's
        ]
    calls += [
        Call("/api/search?q=so", None, "api/search", baggage="tenant.id=evil"),
        Call("/api/recommendations", None, "api/recommendations", baggage="tenant.id=evil,team=x"),
        Call("/api/jobs/refresh?tenants=acme,globex", "acme", "api/jobs/refresh", status=202, method="POST",
             logs=0),
    ]
    return calls


def burst() -> list[Call]:
    """``BURST`` track lookups, alternating tenants, no traceparent (the server starts the traces)."""
    return [Call(f"/api/tracks/{i % 4 + 1}", TENANTS[i % 2], TRACKS_ROUTE, propagate=False)
            for i in range(BURST)]


# -- what arrived ---------------------------------------------------------------------------------
@dataclass
class Snapshot:
    """The records of one service at one moment."""

    spans: list[ReceivedSpan]
    logs: list[ReceivedLog]
    points: list[ReceivedPoint]

    @classmethod
    def take(cls, rx: OTLPReceiver, service: str) -> Snapshot:
        store = rx.store
        return cls([s for s in store.spans() if s.service_name == service],
                   [r for r in store.logs() if r.service_name == service],
                   [p for p in store.metric_points() if str(p.resource.get("service.name")) == service])

    def server_spans(self, trace_id: str | None = None) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.kind == "SERVER" and (trace_id is None or s.trace_id == trace_id)]

    def in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.trace_id == trace_id]


def latest_points(points: list[ReceivedPoint], name: str = DURATION) -> list[ReceivedPoint]:
    """The latest cumulative point of every series of metric ``name`` of every process
    (``service.instance.id``)."""
    latest: dict[tuple[Any, ...], ReceivedPoint] = {}
    for point in points:
        if point.name != name:
            continue
        key = (point.resource.get("service.instance.id"), tuple(sorted(point.attributes.items())))
        if key not in latest or point.time_ns >= latest[key].time_ns:
            latest[key] = point
    return list(latest.values())


def request_counts(points: list[ReceivedPoint]) -> collections.Counter[tuple[Any, ...]]:
    """Requests per (tenant, route, status, has error.type), summed over processes."""
    counts: collections.Counter[tuple[Any, ...]] = collections.Counter()
    for point in latest_points(points):
        a = point.attributes
        counts[(a.get("tenant.id"), a.get("http.route"), a.get("http.response.status_code"),
                "error.type" in a)] += point.count or 0
    return counts


def expected_counts(calls: list[Call]) -> collections.Counter[tuple[Any, ...]]:
    """What :func:`request_counts` must return for ``calls``."""
    return collections.Counter(
        (c.expected_tenant, c.route, c.status, c.status >= 500) for c in calls
    )


@dataclass
class Scenario:
    """Everything one server run produced."""

    mode: Mode
    calls: list[Call]
    burst: list[Call]
    before: Snapshot
    after: Snapshot
    recommender_spans: list[ReceivedSpan]
    recommender_logs: list[ReceivedLog]
    master_pid: int
    exit_code: int | None
    burst_spans_at_sigterm: int
    seconds_to_exit: float
    output: str

    def call(self, path: str, tenant: str | None) -> Call:
        return next(c for c in self.calls if c.path == path and c.tenant == tenant)


def _phase_one_arrived(scenario_calls: list[Call], service: str) -> Callable[[Any], bool]:
    propagated = [c for c in scenario_calls if c.propagate]
    downstream = [c for c in scenario_calls if c.route == "api/recommendations"]

    def arrived(store: Any) -> bool:
        # Each process exports its own queue: wait for every record of every worker, signal by signal.
        spans = store.spans()
        server = {s.trace_id for s in spans if s.kind == "SERVER" and s.service_name == service}
        rec = {s.trace_id for s in spans if s.kind == "SERVER" and s.service_name == RECOMMENDER}
        jobs = sum(1 for s in spans if s.name == "job.refresh_recommendations" and s.service_name == service)
        logs = collections.Counter(r.trace_id for r in store.logs() if r.service_name == service)
        rec_logs = {r.trace_id for r in store.logs() if r.service_name == RECOMMENDER}
        job_logs = sum(1 for r in store.logs() if r.service_name == service
                       and str(r.body).startswith("refreshed "))
        counts = request_counts([p for p in store.metric_points(DURATION)
                                 if p.resource.get("service.name") == service])
        return (all(c.trace_id in server and logs[c.trace_id] >= c.logs for c in propagated)
                and all(c.trace_id in rec and c.trace_id in rec_logs for c in downstream)
                and jobs >= len(TENANTS) and job_logs >= len(TENANTS)
                and sum(counts.values()) >= len(scenario_calls))

    return arrived


def run_scenario(mode: Mode, rx: OTLPReceiver, recommender: ServerProcess) -> Scenario:
    """Start the edge, send phase one, wait for its telemetry, burst, SIGTERM, collect what arrives."""
    edge = start_edge(mode, rx, recommender.base_url)
    try:
        calls = phase_one()
        for call in calls:
            call.send(edge.base_url)
        rx.store.wait_for(_phase_one_arrived(calls, mode.service), timeout=15)
        before = Snapshot.take(rx, mode.service)
        burst_calls = burst()
        for call in burst_calls:
            call.send(edge.base_url)
        at_sigterm = len(Snapshot.take(rx, mode.service).server_spans())
    finally:
        started = time.monotonic()
        exit_code = edge.stop()
        stopped = time.monotonic() - started
    # The process is gone: whatever it exported has arrived or is being stored right now.
    wanted = len(before.server_spans()) + len(burst_calls)
    poll(lambda: len(Snapshot.take(rx, mode.service).server_spans()) >= wanted, timeout=2.0)
    after = Snapshot.take(rx, mode.service)
    return Scenario(
        mode=mode, calls=calls, burst=burst_calls, before=before, after=after,
        recommender_spans=[s for s in rx.store.spans() if s.service_name == RECOMMENDER],
        recommender_logs=[r for r in rx.store.logs() if r.service_name == RECOMMENDER],
        master_pid=edge.process.pid, exit_code=exit_code, burst_spans_at_sigterm=at_sigterm - len(
            before.server_spans()), seconds_to_exit=stopped, output=edge.output(),
    )


def by_name(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    """Spans called ``name``."""
    return [s for s in spans if s.name == name]


def describe(records: list[Any], keys: Mapping[str, Callable[[Any], Any]] | None = None) -> str:
    """A short listing for assertion messages."""
    keys = keys or {"name": lambda r: getattr(r, "name", getattr(r, "body", "")),
                    "tenant": lambda r: r.tenant, "trace": lambda r: r.trace_id[:8]}
    return "\n".join(" ".join(f"{k}={f(r)}" for k, f in keys.items()) for r in records[:60])
