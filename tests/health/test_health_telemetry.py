"""The ``telemetry`` component against a real Prometheus scraping a real receiver fed by the real SDK.

Each pipeline test runs ``init_telemetry`` in this process with two OTLP receivers: traces (and logs)
go to ``sink``, where faults are injected; metrics go to ``metrics``, whose Prometheus endpoint a
private Prometheus scrapes every second. So the SDK's self-metrics keep flowing while its traces fail
or are dropped, as they do with a collector whose traces pipeline is broken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from _support import poll
from opentelemetry import trace

from spotify_otel import Telemetry, init_telemetry
from spotify_otel._telemetry import _reset_for_tests
from spotify_otel.health import CheckResult, resolve
from spotify_otel.health._runner import run_one
from spotify_otel.health._self_metrics import SignalStats, judge
from spotify_otel.receiver import OTLPReceiver

SERVICE = "checkout"
RunJson = Callable[..., tuple[int, dict[str, Any]]]
RunCli = Callable[..., tuple[int, str, str]]
ChecksOf = Callable[[dict[str, Any]], dict[str, dict[str, Any]]]


@dataclass
class Pipeline:
    """An instrumented process (this one), its two receivers and the Prometheus reading the metrics."""

    sink: OTLPReceiver
    metrics: OTLPReceiver
    prometheus_url: str
    results: list[CheckResult] = field(default_factory=list)

    def start(self, **options: Any) -> Telemetry:
        """``init_telemetry`` with short delays; ``options`` override (queue sizes, timeouts...)."""
        settings: dict[str, Any] = {
            "system_metrics": False,
            "instrument_http_clients": False,
            "metric_export_interval_ms": 250,
            "span_schedule_delay_ms": 50,
            "log_schedule_delay_ms": 50,
            **options,
        }
        return init_telemetry(SERVICE, **settings)

    def check(self, *, window: str = "5m") -> CheckResult:
        """Run the telemetry check once (library path) and remember its result."""
        config = resolve({"check": "telemetry", "telemetry_url": self.prometheus_url, "telemetry_window": window}, {})
        result = run_one("telemetry", config)
        self.results.append(result)
        return result

    def wait_for(
        self, condition: Callable[[CheckResult], bool], *, window: str = "5m", timeout: float = 20
    ) -> CheckResult:
        """Poll the check until ``condition(result)`` holds; fails with the last result otherwise."""
        met = poll(lambda: condition(self.check(window=window)), timeout, interval=0.2)
        last = self.results[-1] if self.results else None
        assert met, f"condition not met within {timeout} s; last result: {last}"
        assert last is not None
        return last


def required_telemetry(url: str) -> tuple[str, ...]:
    """Command-line arguments checking (and requiring) only the telemetry component at ``url``."""
    return ("--check", "telemetry", "--require", "telemetry", "--telemetry-url", url)


def signal_stats(result: CheckResult, signal: str) -> dict[str, Any]:
    """The numbers the check reports for SERVICE's ``signal`` (empty when not reported)."""
    stats: dict[str, Any] = result.details.get("services", {}).get(SERVICE, {}).get(signal, {})
    return stats


def number(result: CheckResult, signal: str, key: str) -> float:
    """One number of SERVICE's ``signal``; 0 when absent or null."""
    return float(signal_stats(result, signal).get(key) or 0)


@pytest.fixture
def pipeline(
    scraping_prometheus: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """Two receivers, a Prometheus scraping the metrics one, and per-signal endpoints for the SDK."""
    root_level = logging.getLogger().level
    sink = OTLPReceiver(retry_after=0.05).start()
    metrics = OTLPReceiver(prometheus_port=0).start()
    try:
        prometheus = scraping_prometheus(f"127.0.0.1:{metrics.prometheus_port}")
        monkeypatch.delenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", raising=False)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", sink.grpc_endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", sink.grpc_endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics.grpc_endpoint)
        _reset_for_tests()
        yield Pipeline(sink, metrics, prometheus.url)
    finally:
        sink.store.set_fault(None)  # release exports parked by "hang" so shutdown is quick
        _reset_for_tests()
        logging.getLogger().setLevel(root_level)
        sink.stop()
        metrics.stop()


def test_healthy_pipeline_is_healthy_with_what_each_signal_exported(
    pipeline: Pipeline, run_json: RunJson, checks_of: ChecksOf
) -> None:
    pipeline.start()
    tracer = trace.get_tracer("health-test")
    for i in range(5):
        with tracer.start_as_current_span("work"):
            logging.getLogger("health-test").warning("work item %d", i)

    pipeline.wait_for(lambda r: number(r, "traces", "exported") >= 5 and number(r, "logs", "exported") >= 5)
    code, document = run_json(*required_telemetry(pipeline.prometheus_url))

    check = checks_of(document)["telemetry"]
    services = check["details"]["services"]
    assert (code, check["status"], check["endpoint"]) == (0, "healthy", pipeline.prometheus_url)
    assert list(services) == [SERVICE]
    assert list(services[SERVICE]) == ["traces", "metrics", "logs"]
    assert services[SERVICE]["metrics"]["exported"] > 0
    for signal in ("traces", "logs"):
        assert services[SERVICE][signal]["failed"] == 0
        assert services[SERVICE][signal]["dropped"] == 0
        assert 0 <= services[SERVICE][signal]["queue_fill_pct"] < 80
    assert check["reason"].startswith("1 service, nothing dropped or failed in the last 5m; exporting traces ")
    assert check["details"]["unhealthy"] == []


def test_failed_exports_fail_the_check_naming_the_signal_until_they_leave_the_window(pipeline: Pipeline) -> None:
    pipeline.sink.store.set_fault("unavailable")
    pipeline.start(export_timeout=1.0, logs_enabled=False)
    tracer = trace.get_tracer("health-test")
    for _ in range(10):
        tracer.start_span("lost").end()

    failing = pipeline.wait_for(lambda r: number(r, "traces", "failed") >= 10)
    pipeline.sink.store.set_fault(None)
    recovered = pipeline.wait_for(lambda r: r.healthy, window="3s")  # the failures are older than 3 s
    still_in_5m = pipeline.check(window="5m")

    failed = number(failing, "traces", "failed")
    assert not failing.healthy
    assert failing.reason == f"last 5m: {SERVICE} traces failed {failed:.0f}"
    assert failing.details["unhealthy"] == [f"{SERVICE}/traces"]
    assert number(recovered, "traces", "failed") == 0
    assert not still_in_5m.healthy and f"{SERVICE} traces failed" in still_in_5m.reason


def test_drops_on_a_full_queue_fail_the_check_with_the_count_and_fill(pipeline: Pipeline, run_cli: RunCli) -> None:
    queue, burst = 8, 60
    pipeline.sink.store.set_fault("hang")
    pipeline.start(span_max_queue_size=queue, span_max_export_batch_size=4, export_timeout=10.0, logs_enabled=False)
    tracer = trace.get_tracer("health-test")
    tracer.start_span("pilot").end()  # the export thread takes it and hangs in the receiver
    assert pipeline.sink.store.wait_for(lambda s: s.counts()["held"] >= 1, timeout=10)
    for _ in range(burst):
        tracer.start_span("burst").end()

    result = pipeline.wait_for(
        lambda r: number(r, "traces", "dropped") >= burst - queue and number(r, "traces", "queue_fill_pct") == 100
    )
    code, out, _ = run_cli(*required_telemetry(pipeline.prometheus_url))

    dropped = number(result, "traces", "dropped")
    assert not result.healthy
    assert result.reason == f"last 5m: {SERVICE} traces dropped {dropped:.0f} (queue_full), queue 100% full"
    assert signal_stats(result, "traces")["dropped_by_reason"] == {"queue_full": dropped}
    assert pipeline.sink.store.spans() == []
    line = next(line for line in out.splitlines() if line.startswith("telemetry"))
    assert code == 1
    assert "required  FAIL unhealthy" in line and f"{SERVICE} traces dropped" in line
    assert out.rstrip().splitlines()[-1] == "UNHEALTHY: required components failing: telemetry"


def test_prometheus_without_self_metrics_is_unhealthy_and_fails_only_when_required(
    process_factory: Callable[[str], Any], run_json: RunJson, checks_of: ChecksOf
) -> None:
    empty = process_factory("prometheus")  # scrapes nothing

    optional_code, optional = run_json("--check", "telemetry", "--prometheus-url", empty.url)
    required_code, required = run_json(*required_telemetry(empty.url))

    check = checks_of(optional)["telemetry"]
    assert (optional_code, check["status"], check["required"]) == (0, "unhealthy", False)
    assert check["endpoint"] == empty.url  # the telemetry URL defaults to the Prometheus URL
    assert check["reason"].startswith("no SDK self-observability series in Prometheus (spotify_otel_exported_total")
    assert check["details"]["services"] == {}
    assert (required_code, checks_of(required)["telemetry"]["status"]) == (1, "unhealthy")


def test_prometheus_down_is_connection_refused(dead_url: str, run_json: RunJson, checks_of: ChecksOf) -> None:
    code, document = run_json(*required_telemetry(dead_url))

    assert code == 1
    assert checks_of(document)["telemetry"]["reason"] == f"connection refused to {dead_url.removeprefix('http://')}"


def test_query_error_is_reported_with_prometheus_message(
    standin: Callable[..., Any], run_json: RunJson, checks_of: ChecksOf
) -> None:
    error = {"status": "error", "errorType": "execution", "error": "query timed out in expression evaluation"}
    server = standin({"/api/v1/query": lambda r: (503, error)})

    code, document = run_json(*required_telemetry(server.url))

    assert code == 1
    assert checks_of(document)["telemetry"]["reason"] == f"HTTP 503 from /api/v1/query: {error['error']}"
    assert "spotify_otel_exported_total" in server.requests[0].query["query"]


def test_reason_names_four_problems_and_counts_the_others() -> None:
    services = {f"svc{i}": {"traces": SignalStats(exported=10.0, failed=float(i + 1))} for i in range(6)}

    healthy, reason, details = judge(services, 300, 80.0)

    listed = "; ".join(f"svc{i} traces failed {i + 1}" for i in range(4))
    assert not healthy
    assert reason == f"last 5m: {listed}; and 2 more"
    assert details["unhealthy"] == [f"svc{i}/traces" for i in range(6)]


@pytest.mark.parametrize(("fill", "threshold", "healthy"), [(0.79, 80.0, True), (0.8, 80.0, False), (0.95, 99.0, True)])
def test_queue_fill_fails_at_or_above_the_threshold(fill: float, threshold: float, healthy: bool) -> None:
    services = {SERVICE: {"logs": SignalStats(exported=1.0, failed=0.0, queue_fill=fill)}}

    verdict, reason, details = judge(services, 60, threshold)

    assert verdict is healthy
    assert details["services"][SERVICE]["logs"]["queue_fill_pct"] == round(fill * 100, 1)
    assert (f"queue {fill * 100:.0f}% full" in reason) is not healthy
