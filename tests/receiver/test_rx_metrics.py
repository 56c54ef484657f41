"""Metric points from the SDK's OTLP metric exporters decode with kinds, buckets and temporality."""

from __future__ import annotations

import pytest
from opentelemetry.metrics import Observation

from spotify_otel.receiver import OTLPReceiver

TRANSPORTS = ["grpc", "http"]
SDK_DEFAULT_BOUNDS = (0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
                      10000.0)  # fmt: skip


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_histogram_counter_updown_and_gauge_points(receiver: OTLPReceiver, sdk, transport):
    mp = sdk.meter_provider(transport, gzip=transport == "http")
    meter = mp.get_meter("spotify_otel.http", "0.1")
    hist = meter.create_histogram("http.server.duration", unit="ms", description="Server duration")
    for value in (3, 7, 7, 300):
        hist.record(value, {"tenant.id": "acme", "http.route": "/a"})
    hist.record(42, {"tenant.id": "globex", "http.route": "/a"})
    meter.create_counter("app.orders", unit="{order}").add(5, {"tenant.id": "acme"})
    meter.create_up_down_counter("queue.depth").add(-2)
    meter.create_observable_gauge("cpu.util", callbacks=[lambda _options: [Observation(0.25, {"core": 0})]], unit="1")
    assert mp.force_flush()

    store = receiver.store
    assert store.wait_for(lambda s: len(s.metric_points()) == 5, timeout=5)
    acme, globex = sorted(store.metric_points("http.server.duration"), key=lambda p: p.tenant or "")
    assert (acme.kind, acme.temporality, acme.unit, acme.description) == (
        "histogram",
        "cumulative",
        "ms",
        "Server duration",
    )
    assert acme.tenant == "acme" and globex.tenant == "globex"
    assert acme.attributes == {"tenant.id": "acme", "http.route": "/a"}
    assert acme.explicit_bounds == SDK_DEFAULT_BOUNDS
    assert acme.bucket_counts[:3] == (0, 1, 2)  # (-inf,0], (0,5], (5,10]
    assert acme.bucket_counts[SDK_DEFAULT_BOUNDS.index(500.0)] == 1  # 300 in (250,500]
    assert sum(acme.bucket_counts) == acme.count == 4
    assert acme.sum == pytest.approx(317)
    assert (acme.min, acme.max) == (3, 300)
    assert acme.scope_name == "spotify_otel.http" and acme.scope_version == "0.1"

    (orders,) = store.metric_points("app.orders")
    assert (orders.kind, orders.monotonic, orders.temporality, orders.value) == ("sum", True, "cumulative", 5)
    (depth,) = store.metric_points("queue.depth")
    assert (depth.kind, depth.monotonic, depth.value) == ("sum", False, -2)
    (cpu,) = store.metric_points("cpu.util")
    assert (cpu.kind, cpu.monotonic, cpu.temporality, cpu.value) == ("gauge", None, None, 0.25)
    assert cpu.attributes == {"core": 0}
    assert all(p.transport == transport for p in store.metric_points())
    assert all(p.resource["service.name"] == "checkout" for p in store.metric_points())
    assert all(p.time_ns > 0 for p in store.metric_points())


def test_delta_temporality_is_reported(receiver: OTLPReceiver, sdk):
    mp = sdk.meter_provider("grpc", delta=True)
    counter = mp.get_meter("m").create_counter("jobs.done")
    counter.add(2)
    assert mp.force_flush()
    counter.add(3)
    assert mp.force_flush()

    assert receiver.store.wait_for(lambda s: len(s.metric_points("jobs.done")) == 2, timeout=5)
    first, second = receiver.store.metric_points("jobs.done")
    assert (first.temporality, first.value, second.value) == ("delta", 2, 3)
    assert second.start_time_ns == first.time_ns


def test_exemplars_link_histogram_points_to_the_sampled_trace(receiver: OTLPReceiver, sdk):
    tracer = sdk.tracer_provider("grpc").get_tracer("t")
    mp = sdk.meter_provider("grpc")
    hist = mp.get_meter("m").create_histogram("work.duration", unit="s")
    with tracer.start_as_current_span("work") as span:
        hist.record(0.2)
    assert mp.force_flush()

    assert receiver.store.wait_for(lambda s: len(s.metric_points("work.duration")) == 1, timeout=5)
    (point,) = receiver.store.metric_points("work.duration")
    assert point.exemplars >= 1
    assert format(span.get_span_context().trace_id, "032x") in point.exemplar_trace_ids
