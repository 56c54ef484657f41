"""The Prometheus endpoint renders received metrics as the collector's prometheus exporter would."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from opentelemetry.metrics import Observation

from spotify_otel.receiver import OTLPReceiver, PrometheusState, ReceivedPoint

JOB_INSTANCE = 'instance="pod-1",job="shop/checkout"'


def _scrape(rx: OTLPReceiver) -> str:
    assert rx.prometheus_url is not None
    with urllib.request.urlopen(rx.prometheus_url, timeout=5) as response:
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return str(response.read().decode("utf-8"))


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of the single sample ``name`` whose labels include ``labels``."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        pairs = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(pairs.get(k) == v for k, v in labels.items()):
            found.append(float(match.group(3)))
    assert len(found) == 1, (name, labels, found, text)
    return found[0]


def _record_app_metrics(sdk, transport: str = "grpc", delta: bool = False):
    mp = sdk.meter_provider(transport, delta=delta)
    meter = mp.get_meter("spotify_otel", "1.0")
    hist = meter.create_histogram(
        "http.server.request.duration", unit="s", description="Duration of HTTP server requests.",
        explicit_bucket_boundaries_advisory=[0.1, 0.5, 1.0],
    )  # fmt: skip
    counter = meter.create_counter("app.orders", unit="{order}", description="Orders placed")
    meter.create_up_down_counter("queue.size", unit="{item}").add(4)
    meter.create_observable_gauge("cpu.util", unit="1", callbacks=[lambda _o: [Observation(0.5)]])
    return mp, hist, counter


def test_names_labels_types_job_instance_and_target_info(receiver: OTLPReceiver, sdk):
    mp, hist, counter = _record_app_metrics(sdk)
    for value in (0.05, 0.3, 0.3, 2.0):
        hist.record(value, {"tenant.id": "acme", "http.route": "/orders"})
    counter.add(3, {"tenant.id": "acme"})
    counter.add(1, {"tenant.id": "globex"})
    assert mp.force_flush()
    assert receiver.store.wait_for(lambda s: len(s.metric_points()) >= 5, timeout=5)
    text = _scrape(receiver)

    assert "# TYPE http_server_request_duration_seconds histogram" in text
    assert "# HELP http_server_request_duration_seconds Duration of HTTP server requests." in text
    assert "# TYPE app_orders_total counter" in text
    assert "# TYPE queue_size gauge" in text
    assert "# TYPE cpu_util_ratio gauge" in text
    bucket = "http_server_request_duration_seconds_bucket"
    assert [_sample(text, bucket, tenant_id="acme", le=le) for le in ("0.1", "0.5", "1", "+Inf")] == [1, 3, 3, 4]
    assert _sample(text, "http_server_request_duration_seconds_count", http_route="/orders") == 4
    assert _sample(text, "http_server_request_duration_seconds_sum", tenant_id="acme") == pytest.approx(2.65)
    assert _sample(text, "app_orders_total", tenant_id="acme", job="shop/checkout", instance="pod-1") == 3
    assert _sample(text, "app_orders_total", tenant_id="globex", otel_scope_name="spotify_otel") == 1
    assert _sample(text, "queue_size") == 4
    assert _sample(text, "cpu_util_ratio") == 0.5
    target_info = [line for line in text.splitlines() if line.startswith("target_info{")]
    assert len(target_info) == 1
    assert JOB_INSTANCE in target_info[0]
    assert 'deployment_environment_name="test"' in target_info[0]
    assert "service_name" not in target_info[0]
    assert target_info[0].endswith(" 1")
    for line in text.splitlines():
        assert "." not in line.split("{")[0].split(" ")[0] or line.startswith("#")


def test_cumulative_points_replace_and_delta_points_accumulate(receiver: OTLPReceiver, sdk):
    cumulative = sdk.meter_provider("grpc").get_meter("m").create_counter("cumulative.jobs")
    delta_mp = sdk.meter_provider("http", delta=True)
    delta_counter = delta_mp.get_meter("m").create_counter("delta.jobs")
    delta_hist = delta_mp.get_meter("m").create_histogram("delta.latency", unit="ms")
    for amount in (2, 3):
        cumulative.add(amount)
        delta_counter.add(amount)
        delta_hist.record(amount)
        for provider in sdk._made:
            assert provider.force_flush()
    assert receiver.store.wait_for(lambda s: len(s.metric_points("delta.jobs")) == 2, timeout=5)
    text = _scrape(receiver)
    assert _sample(text, "cumulative_jobs_total") == 5
    assert _sample(text, "delta_jobs_total") == 5
    assert _sample(text, "delta_latency_milliseconds_count") == 2
    assert _sample(text, "delta_latency_milliseconds_sum") == 5


def test_store_clear_resets_the_prometheus_state(receiver: OTLPReceiver, sdk):
    mp = sdk.meter_provider("grpc")
    mp.get_meter("m").create_counter("c").add(1)
    assert mp.force_flush()
    assert "c_total" in _scrape(receiver)
    receiver.store.clear()
    assert _scrape(receiver) == ""


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_parses_the_exposition(receiver: OTLPReceiver, sdk):
    mp, hist, counter = _record_app_metrics(sdk)
    hist.record(0.2, {"tenant.id": 'we"ird\\tenant', "note": "line\nbreak"})
    counter.add(1, {"tenant.id": "acme", "tags": ["a", "b"]})
    assert mp.force_flush()
    assert receiver.store.wait_for(lambda s: len(s.metric_points()) >= 4, timeout=5)
    text = _scrape(receiver)
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode in (0, 3), output  # 3 = lint warnings only
    assert "error" not in output.lower(), output
    assert 'tags="[\\"a\\",\\"b\\"]"' in text


def test_prometheus_endpoint_only_serves_metrics_path(receiver: OTLPReceiver):
    assert receiver.prometheus_url is not None
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(receiver.prometheus_url.replace("/metrics", "/other"), timeout=5)
    assert caught.value.code == 404


def test_prometheus_is_off_by_default():
    with OTLPReceiver() as rx:
        assert rx.prometheus_url is None
        assert rx.prometheus is None


# -- state rules on hand-made points -----------------------------------------------------------
BASE = ReceivedPoint(
    name="jobs", unit="", description="", kind="sum", monotonic=True, temporality="cumulative",
    attributes={"tenant.id": "acme"}, value=1, count=None, sum=None, bucket_counts=(), explicit_bounds=(),
    exemplars=0, time_ns=1_000, start_time_ns=500, resource={"service.name": "svc", "service.instance.id": "i-1"},
    scope_name="s", transport="grpc",
)  # fmt: skip


def _render(*points: ReceivedPoint) -> str:
    state = PrometheusState()
    state.add(points)
    return state.render()


def test_older_cumulative_points_are_ignored():
    newer = dataclasses.replace(BASE, value=7, time_ns=2_000)
    text = _render(newer, dataclasses.replace(BASE, value=3))
    assert _sample(text, "jobs_total") == 7


def test_no_recorded_value_flag_removes_the_series():
    assert "jobs_total" not in _render(BASE, dataclasses.replace(BASE, time_ns=2_000, flags=1))


def test_delta_non_monotonic_sums_and_missing_temporality_are_dropped():
    text = _render(
        dataclasses.replace(BASE, name="updown", monotonic=False, temporality="delta"),
        dataclasses.replace(BASE, name="nothing", temporality=None),
    )
    assert text == ""  # and no target_info either: it only describes resources of served series


def test_first_type_wins_on_a_name_conflict():
    gauge = dataclasses.replace(BASE, name="jobs.total", kind="gauge", monotonic=None, temporality=None, value=9)
    text = _render(BASE, gauge)
    assert "# TYPE jobs_total counter" in text
    assert _sample(text, "jobs_total") == 1


def test_series_with_colliding_label_names_is_dropped():
    clash = dataclasses.replace(BASE, attributes={"tenant.id": "a", "tenant_id": "b"})
    ok = dataclasses.replace(BASE, name="other")
    text = _render(clash, ok)
    assert "jobs_total{" not in text
    assert "other_total{" in text


def test_target_info_needs_job_and_instance_and_joins_colliding_keys():
    no_instance = dataclasses.replace(BASE, resource={"service.name": "svc"})
    assert "target_info" not in _render(no_instance)
    res = {"service.name": "svc", "service.instance.id": "i-1", "k.a": "x", "k_a": "y"}
    text = _render(dataclasses.replace(BASE, resource=res))
    (line,) = [row for row in text.splitlines() if row.startswith("target_info{")]
    assert re.search(r'k_a="(x;y|y;x)"', line)


def test_exponential_histogram_renders_inf_bucket_sum_and_count():
    exp = dataclasses.replace(
        BASE, name="lat", unit="s", kind="exponential_histogram", monotonic=None, value=None, count=6, sum=1.5,
        bucket_counts=(1, 2, 3), scale=2, zero_count=0, positive_offset=0,
    )  # fmt: skip
    text = _render(exp)
    assert _sample(text, "lat_seconds_bucket", le="+Inf") == 6
    assert _sample(text, "lat_seconds_sum") == 1.5
    assert _sample(text, "lat_seconds_count") == 6
