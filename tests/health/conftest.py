"""Fixtures for the health checker tests.

- ``receiver``: the local OTLP receiver (session), with its Prometheus endpoint.
- ``prometheus`` / ``alertmanager``: the real Debian binaries on free loopback ports, temp storage,
  stopped by the PID the fixture holds. Prometheus scrapes the receiver every second.
- ``collector`` / ``jaeger`` / ``elasticsearch`` / ``grafana``: small ``http.server`` stand-ins that
  answer the documented endpoints; Jaeger and Elasticsearch answer searches from the receiver's store.
- ``dead_url`` / ``hanging_url``: a port nobody listens on, and a listener that never answers.
- ``scraping_prometheus``: a private Prometheus scraping a given target (the ``telemetry`` tests).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from spotify_otel.receiver import OTLPReceiver, ReceivedLog, ReceivedSpan

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"

Answer = tuple[int, Any]  # (status, JSON-able body or bytes)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        threading.Event().wait(interval)


def free_port() -> int:
    """A loopback port that was free a moment ago (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:
            return int(resp.status) == 200
    except (OSError, urllib.error.URLError):
        return False


# -- small HTTP stand-ins -----------------------------------------------------------------------


@dataclass
class Request:
    """What a stand-in received."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class StandIn:
    """An HTTP server on 127.0.0.1 answering ``routes[path](request) -> (status, body)``."""

    routes: dict[str, Callable[[Request], Answer]]
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    dict(urllib.parse.parse_qsl(parts.query)),
                    self.rfile.read(length),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                standin.requests.append(request)
                route = standin.routes.get(parts.path) or standin.routes.get("*")
                status, body = route(request) if route else (404, {"error": "no route"})
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def standin() -> Iterator[Callable[[dict[str, Callable[[Request], Answer]]], StandIn]]:
    """Factory: ``standin({"/path": handler})`` starts a stand-in stopped after the test."""
    started: list[StandIn] = []

    def make(routes: dict[str, Callable[[Request], Answer]]) -> StandIn:
        server = StandIn(routes).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def collector(standin: Callable[..., StandIn]) -> StandIn:
    """The collector's health_check extension (v1 JSON shape)."""
    body = {"status": "Server available", "upSince": "2025-01-01T00:00:00Z", "uptime": "1m0s"}
    return standin({"/": lambda r: (200, body)})


@pytest.fixture
def grafana(standin: Callable[..., StandIn]) -> StandIn:
    """Grafana's /api/health."""
    return standin({"/api/health": lambda r: (200, {"commit": "abc123", "database": "ok", "version": "11.3.0"})})


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _otlp_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any_value(v)} for k, v in attributes.items()]


def _rfc3339_ns(text: str) -> int:
    when = dt.datetime.fromisoformat(text)
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000


def jaeger_find_traces(spans: list[ReceivedSpan], request: Request) -> Answer:
    """Jaeger v2 ``GET /api/v3/traces``: 400 without the time range, 404 when nothing matches."""
    q = request.query
    try:
        low, high = _rfc3339_ns(q["query.start_time_min"]), _rfc3339_ns(q["query.start_time_max"])
    except (KeyError, ValueError):
        return 400, {"error": {"httpCode": 400, "message": "query.start_time_min and max are required"}}
    matching = [
        s for s in spans if s.service_name == q.get("query.service_name", s.service_name) and low <= s.start_ns <= high
    ]
    if not matching:
        return 404, {"error": {"httpCode": 404, "message": "No traces found"}}
    resource_spans = [
        {
            "resource": {"attributes": _otlp_attributes(s.resource)},
            "scopeSpans": [
                {
                    "scope": {"name": s.scope_name},
                    "spans": [
                        {
                            "traceId": s.trace_id,
                            "spanId": s.span_id,
                            "name": s.name,
                            "startTimeUnixNano": str(s.start_ns),
                            "endTimeUnixNano": str(s.end_ns),
                            "attributes": _otlp_attributes(s.attributes),
                        }
                    ],
                }
            ],
        }
        for s in matching
    ]
    return 200, {"result": {"resourceSpans": resource_spans}}


@pytest.fixture
def jaeger(standin: Callable[..., StandIn], receiver: OTLPReceiver) -> StandIn:
    """Jaeger v2 query API v3 answering from the receiver's stored spans."""
    return standin(
        {
            "/api/v3/services": lambda r: (200, {"services": sorted({s.service_name for s in receiver.store.spans()})}),
            "/api/v3/traces": lambda r: jaeger_find_traces(receiver.store.spans(), r),
        }
    )


def otel_log_document(record: ReceivedLog) -> dict[str, Any]:
    """A log record flattened the way the elasticsearch exporter's ``otel`` mapping mode stores it."""
    doc: dict[str, Any] = {"body.text": str(record.body), "trace_id": record.trace_id, "span_id": record.span_id}
    doc.update({f"attributes.{k}": v for k, v in record.attributes.items()})
    doc.update({f"resource.attributes.{k}": v for k, v in record.resource.items()})
    return doc


def _matches(clause: dict[str, Any], doc: dict[str, Any]) -> bool:
    ((kind, spec),) = clause.items()
    if kind == "bool":
        should = [_matches(c, doc) for c in spec.get("should", [])]
        must = [_matches(c, doc) for c in spec.get("must", [])]
        return all(must) and sum(should) >= int(spec.get("minimum_should_match", 1 if should else 0))
    ((name, value),) = spec.items()
    if kind == "term":
        return bool(doc.get(name) == value)
    if kind == "match_phrase":
        return isinstance(doc.get(name), str) and str(value) in doc[name]
    raise ValueError(f"unsupported query clause {kind}")


def elasticsearch_search(logs: list[ReceivedLog], request: Request) -> Answer:
    """``POST /logs-*/_search`` over the receiver's logs (term / match_phrase / bool only)."""
    index = request.path.split("/")[1]
    if not index.startswith("logs-"):
        return 404, {"error": {"type": "index_not_found_exception"}, "status": 404}
    query = request.json().get("query", {})
    try:
        docs = [d for d in map(otel_log_document, logs) if _matches(query, d)]
    except (ValueError, KeyError) as exc:
        return 400, {"error": {"type": "parsing_exception", "reason": str(exc)}, "status": 400}
    hits = [{"_index": ".ds-logs-generic.otel-default-2025.01.01-000001", "_source": d} for d in docs]
    return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}


@pytest.fixture
def elasticsearch(standin: Callable[..., StandIn], receiver: OTLPReceiver) -> StandIn:
    """Elasticsearch: /_cluster/health green, and _search over the receiver's stored logs."""
    return standin(
        {
            "/_cluster/health": lambda r: (200, {"cluster_name": "standin", "status": "green", "number_of_nodes": 1}),
            "*": lambda r: elasticsearch_search(receiver.store.logs(), r) if r.path.endswith("/_search") else (404, {}),
        }
    )


# -- dead and hanging endpoints -------------------------------------------------------------------


@pytest.fixture
def dead_url() -> str:
    """An http URL whose port refuses connections."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """An http URL whose listener completes the TCP handshake and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


# -- the OTLP receiver and the real Prometheus / Alertmanager -------------------------------------


@pytest.fixture(scope="session")
def receiver() -> Iterator[OTLPReceiver]:
    """The local OTLP receiver with its Prometheus /metrics endpoint."""
    rx = OTLPReceiver(host="127.0.0.1", grpc_port=0, http_port=0, prometheus_port=0).start()
    yield rx
    rx.stop()


@dataclass
class Process:
    """A server process the test started, addressed by URL and stopped by its PID."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _start(argv: list[str], url: str, ready_path: str, workdir: Path) -> Process:
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    process = Process(url, proc, log)
    if not wait_until(lambda: proc.poll() is not None or _http_ok(url + ready_path), timeout=20):
        process.stop()
        pytest.fail(f"{argv[0]} did not become ready: {log.read_text()[-2000:]}")
    if proc.poll() is not None:
        pytest.fail(f"{argv[0]} exited with {proc.returncode}: {log.read_text()[-2000:]}")
    return process


def start_prometheus(workdir: Path, scrape_target: str | None) -> Process:
    """Start Prometheus on a free port; it scrapes ``scrape_target`` (host:port) every second."""
    if not os.access(PROMETHEUS_BIN, os.X_OK):
        pytest.skip(f"{PROMETHEUS_BIN} is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    scrape = ""
    if scrape_target:
        scrape = (
            "scrape_configs:\n  - job_name: otlp-receiver\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: ['{scrape_target}']\n"
        )
    config = workdir / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{scrape}")
    port = free_port()
    argv = [
        PROMETHEUS_BIN,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return _start(argv, f"http://127.0.0.1:{port}", "/-/ready", workdir)


def start_alertmanager(workdir: Path) -> Process:
    """Start Alertmanager on a free port with clustering disabled."""
    if not os.access(ALERTMANAGER_BIN, os.X_OK):
        pytest.skip(f"{ALERTMANAGER_BIN} is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    port = free_port()
    argv = [
        ALERTMANAGER_BIN,
        f"--config.file={config}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return _start(argv, f"http://127.0.0.1:{port}", "/-/ready", workdir)


@pytest.fixture(scope="session")
def prometheus(receiver: OTLPReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """The real Prometheus, scraping the receiver's /metrics every second."""
    assert receiver.prometheus_port is not None
    process = start_prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{receiver.prometheus_port}")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """The real Alertmanager."""
    process = start_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    yield process
    process.stop()


@pytest.fixture
def process_factory(tmp_path: Path) -> Iterator[Callable[[str], Process]]:
    """Start a private Prometheus or Alertmanager (``factory("prometheus")``) stopped after the test."""
    started: list[Process] = []

    def make(kind: str) -> Process:
        workdir = tmp_path / f"{kind}-{len(started)}"
        process = start_prometheus(workdir, None) if kind == "prometheus" else start_alertmanager(workdir)
        started.append(process)
        return process

    yield make
    for process in started:
        process.stop()


@pytest.fixture
def scraping_prometheus(tmp_path: Path) -> Iterator[Callable[[str], Process]]:
    """Start a private Prometheus scraping ``host:port`` every second (``factory(target)``), stopped after."""
    started: list[Process] = []

    def make(target: str) -> Process:
        process = start_prometheus(tmp_path / f"prometheus-scraping-{len(started)}", target)
        started.append(process)
        return process

    yield make
    for process in started:
        process.stop()


# -- the whole healthy stack ------------------------------------------------------------------------


@pytest.fixture
def stack(
    receiver: OTLPReceiver,
    prometheus: Process,
    alertmanager: Process,
    collector: StandIn,
    jaeger: StandIn,
    elasticsearch: StandIn,
    grafana: StandIn,
) -> dict[str, str]:
    """component -> endpoint for a stack where everything is up."""
    return {
        "otlp-grpc": receiver.grpc_endpoint,
        "otlp-http": receiver.http_endpoint,
        "collector": collector.url + "/",
        "prometheus": prometheus.url,
        "alertmanager": alertmanager.url,
        "jaeger": jaeger.url,
        "elasticsearch": elasticsearch.url,
        "grafana": grafana.url,
    }


FLAGS = {
    "otlp-grpc": "--otlp-grpc-endpoint",
    "otlp-http": "--otlp-http-endpoint",
    "collector": "--collector-url",
    "prometheus": "--prometheus-url",
    "alertmanager": "--alertmanager-url",
    "jaeger": "--jaeger-url",
    "elasticsearch": "--elasticsearch-url",
    "grafana": "--grafana-url",
    "telemetry": "--telemetry-url",
}


@pytest.fixture
def endpoint_flags() -> Callable[[dict[str, str]], list[str]]:
    """Turn component -> URL into the command-line flags."""

    def flags(endpoints: dict[str, str]) -> list[str]:
        return [arg for component, url in endpoints.items() for arg in (FLAGS[component], url)]

    return flags


@pytest.fixture(autouse=True)
def _clean_health_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a health/OTLP variable from the outer environment."""
    for name in list(os.environ):
        if name.startswith(("SPOTIFY_OTEL_HEALTH_", "OTEL_EXPORTER_OTLP_", "ELASTICSEARCH_")) or name in {
            "PROMETHEUS_URL",
            "ALERTMANAGER_URL",
            "JAEGER_QUERY_URL",
            "JAEGER_HEALTH_URL",
            "GRAFANA_URL",
        }:
            monkeypatch.delenv(name)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``spotify-otel health ARGS`` in-process; returns (exit code, stdout, stderr)."""
    from spotify_otel.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(["health", *args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def run_json(run_cli: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Run with ``--json``; returns (exit code, parsed document)."""

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = run_cli("--json", *args)
        assert out, f"no JSON printed (stderr: {err})"
        return code, json.loads(out)

    return run


def by_component(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``checks`` list of a JSON report keyed by component."""
    return {c["component"]: c for c in document["checks"]}


@pytest.fixture
def checks_of() -> Callable[[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``checks_of(document)``: the checks keyed by component."""
    return by_component
