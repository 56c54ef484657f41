"""End-to-end checks against the real Prometheus/Alertmanager, the OTLP receiver and HTTP stand-ins."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from spotify_otel.health import COMPONENTS, SCHEMA_VERSION

RunJson = Callable[..., tuple[int, dict[str, Any]]]
RunCli = Callable[..., tuple[int, str, str]]
Flags = Callable[[dict[str, str]], list[str]]
ChecksOf = Callable[[dict[str, Any]], dict[str, dict[str, Any]]]

# Every component but ``telemetry``, which needs instrumented services (test_health_telemetry.py).
BACKENDS = tuple(c for c in COMPONENTS if c != "telemetry")

HEALTHY_REASONS = {
    "otlp-grpc": "empty trace export accepted",
    "otlp-http": "empty trace export accepted",
    "collector": "Server available",
    "prometheus": "ready and healthy",
    "alertmanager": "ready, cluster status disabled",
    "jaeger": "query API answered",
    "elasticsearch": "cluster status green",
    "grafana": "database ok",
}


def test_everything_up_is_healthy_with_exit_0(
    stack: dict[str, str], endpoint_flags: Flags, run_json: RunJson, checks_of: ChecksOf
) -> None:
    code, document = run_json("--check", ",".join(BACKENDS), *endpoint_flags(stack))

    assert code == 0
    assert document["healthy"] is True
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["required"] == ["otlp-grpc", "otlp-http", "collector"]
    checks = checks_of(document)
    assert list(checks) == list(BACKENDS)
    for component, check in checks.items():
        assert check["status"] == "healthy", (component, check["reason"])
        assert check["reason"].startswith(HEALTHY_REASONS[component])
        assert check["endpoint"] == stack[component]
        assert check["latency_ms"] >= 0
    assert checks["alertmanager"]["details"]["cluster_status"] == "disabled"
    assert checks["elasticsearch"]["details"]["status"] == "green"


def test_empty_otlp_exports_reach_the_receiver_on_both_transports(
    stack: dict[str, str], endpoint_flags: Flags, run_json: RunJson, receiver: Any
) -> None:
    before = receiver.store.counts()["requests"]["traces"]
    code, _ = run_json("--check", "otlp-grpc,otlp-http", *endpoint_flags(stack))

    after = receiver.store.counts()["requests"]["traces"]
    assert code == 0
    assert after["grpc"] == before["grpc"] + 1
    assert after["http"] == before["http"] + 1


@pytest.mark.parametrize("component", BACKENDS)
def test_stopped_component_fails_with_connection_refused_only_when_required(
    component: str,
    stack: dict[str, str],
    dead_url: str,
    endpoint_flags: Flags,
    run_json: RunJson,
    checks_of: ChecksOf,
) -> None:
    endpoints = {**stack, component: dead_url}
    port = dead_url.rsplit(":", 1)[1]

    checked = ",".join(BACKENDS)
    required_code, required_doc = run_json("--check", checked, "--require", component, *endpoint_flags(endpoints))
    optional_code, optional_doc = run_json("--check", checked, "--require", "none", *endpoint_flags(endpoints))

    failing = checks_of(required_doc)[component]
    assert failing["status"] == "unhealthy"
    assert failing["required"] is True
    assert failing["reason"] == f"connection refused to 127.0.0.1:{port}"
    assert required_code == 1 and required_doc["healthy"] is False
    others = [c for name, c in checks_of(required_doc).items() if name != component]
    assert all(c["status"] == "healthy" for c in others)
    assert checks_of(optional_doc)[component]["status"] == "unhealthy"
    assert checks_of(optional_doc)[component]["required"] is False
    assert optional_code == 0 and optional_doc["healthy"] is True


@pytest.mark.parametrize("kind", ["prometheus", "alertmanager"])
def test_really_stopped_server_turns_from_healthy_to_refused(
    kind: str, process_factory: Callable[[str], Any], run_json: RunJson, checks_of: ChecksOf
) -> None:
    server = process_factory(kind)
    args = ("--check", kind, "--require", kind, f"--{kind}-url", server.url)

    up_code, up = run_json(*args)
    server.stop()
    down_code, down = run_json(*args)

    assert (up_code, checks_of(up)[kind]["status"]) == (0, "healthy")
    assert down_code == 1
    assert checks_of(down)[kind]["reason"] == f"connection refused to {server.url.removeprefix('http://')}"


ERROR_ANSWERS: list[tuple[str, str, Callable[..., Any], str]] = [
    ("collector", "/", lambda r: (503, {"status": "Server not available"}), "HTTP 503 from / (Server not available)"),
    ("prometheus", "/-/ready", lambda r: (503, b"Service Unavailable"), "HTTP 503 from /-/ready"),
    ("prometheus", "/-/healthy", lambda r: (500, b"unhealthy"), "HTTP 500 from /-/healthy"),
    ("alertmanager", "/api/v2/status", lambda r: (200, {"cluster": {"status": "failed"}}), "cluster status failed"),
    ("jaeger", "/api/v3/services", lambda r: (500, {"error": "storage down"}), "HTTP 500 from /api/v3/services"),
    ("elasticsearch", "/_cluster/health", lambda r: (200, {"status": "red"}), "cluster status red"),
    ("elasticsearch", "/_cluster/health", lambda r: (401, {}), "HTTP 401 from /_cluster/health"),
    ("grafana", "/api/health", lambda r: (503, {"database": "failing"}), "HTTP 503 from /api/health"),
    ("grafana", "/api/health", lambda r: (200, {"database": "failing"}), "database failing"),
    ("otlp-http", "/v1/traces", lambda r: (503, b""), "HTTP 503 from /v1/traces"),
]


@pytest.mark.parametrize(("component", "path", "answer", "reason"), ERROR_ANSWERS)
def test_error_answer_gives_a_clear_reason(
    component: str,
    path: str,
    answer: Callable[..., Any],
    reason: str,
    standin: Callable[..., Any],
    run_json: RunJson,
    checks_of: ChecksOf,
    endpoint_flags: Flags,
) -> None:
    ok: dict[str, Callable[..., Any]] = {
        "/-/ready": lambda r: (200, b"ready"),
        "/-/healthy": lambda r: (200, b"healthy"),
        "/api/v2/status": lambda r: (200, {"cluster": {"status": "ready"}}),
    }
    server = standin({**ok, path: answer})

    code, document = run_json("--check", component, "--require", component, *endpoint_flags({component: server.url}))

    check = checks_of(document)[component]
    assert (code, check["status"]) == (1, "unhealthy")
    assert check["reason"].startswith(reason)
    assert [r.path for r in server.requests][-1] == path


def test_elasticsearch_credentials_come_from_the_environment(
    standin: Callable[..., Any], run_json: RunJson, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = standin({"/_cluster/health": lambda r: (200, {"status": "yellow"})})
    monkeypatch.setenv("ELASTICSEARCH_API_KEY", "c2VjcmV0")

    code, document = run_json(
        "--check", "elasticsearch", "--require", "elasticsearch", "--elasticsearch-url", server.url
    )

    assert code == 0
    assert server.requests[-1].headers["authorization"] == "ApiKey c2VjcmV0"
    assert "c2VjcmV0" not in str(document)


def test_url_credentials_become_basic_auth_and_are_never_printed(standin: Callable[..., Any], run_cli: RunCli) -> None:
    server = standin({"/api/health": lambda r: (200, {"database": "ok"})})
    url = server.url.replace("http://", "http://admin:s3cret@")

    code, out, _ = run_cli("--check", "grafana", "--require", "grafana", "--grafana-url", url)

    assert code == 0
    assert server.requests[-1].headers["authorization"] == "Basic YWRtaW46czNjcmV0"
    assert "s3cret" not in out


def test_jaeger_health_endpoint_is_checked_when_configured(
    jaeger: Any, standin: Callable[..., Any], run_json: RunJson, checks_of: ChecksOf
) -> None:
    health = standin({"/status": lambda r: (503, {"status": "StatusRecoverableError"})})
    args = ("--check", "jaeger", "--require", "jaeger", "--jaeger-url", jaeger.url)

    code, document = run_json(*args, "--jaeger-health-url", health.url + "/status")

    assert code == 1
    assert checks_of(document)["jaeger"]["reason"] == "HTTP 503 from /status (Jaeger health)"


@pytest.mark.parametrize("component", ["otlp-grpc", "otlp-http", "collector", "prometheus", "elasticsearch"])
def test_listener_that_never_answers_times_out_within_the_bound(
    component: str, hanging_url: str, run_json: RunJson, endpoint_flags: Flags, checks_of: ChecksOf
) -> None:
    start = time.monotonic()
    code, document = run_json(
        "--check", component, "--require", component, "--timeout", "0.5", *endpoint_flags({component: hanging_url})
    )
    elapsed = time.monotonic() - start

    assert code == 1
    assert checks_of(document)[component]["reason"] == "timed out after 0.5 s"
    assert elapsed < 0.5 + 0.5 + 0.5  # timeout + runner grace + slack for a loaded machine


def test_checks_run_concurrently_so_total_time_is_about_the_slowest(
    hanging_url: str, run_json: RunJson, endpoint_flags: Flags
) -> None:
    endpoints = dict.fromkeys(COMPONENTS, hanging_url)

    start = time.monotonic()
    code, document = run_json("--check-all", "--timeout", "1", *endpoint_flags(endpoints))
    elapsed = time.monotonic() - start

    assert code == 1
    assert [c["reason"] for c in document["checks"]] == ["timed out after 1.0 s"] * len(COMPONENTS)
    assert elapsed < 2.5  # the sum would be 8 s


def test_human_output_names_the_failing_component(
    stack: dict[str, str], dead_url: str, run_cli: RunCli, endpoint_flags: Flags
) -> None:
    endpoints = {**stack, "collector": dead_url, "grafana": dead_url}

    code, out, _ = run_cli("--check-all", *endpoint_flags(endpoints))

    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert code == 1
    assert "FAIL unhealthy" in lines["collector"] and "connection refused" in lines["collector"]
    assert "optional" in lines["grafana"] and "FAIL" in lines["grafana"]
    assert "ok healthy" in lines["prometheus"]
    assert out.rstrip().splitlines()[-1] == "UNHEALTHY: required components failing: collector"
