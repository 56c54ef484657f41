"""LeanHistogram must leave the readers exactly what the SDK's ``Histogram.record`` leaves them, and take
the SDK path whenever its shortcut would not be equivalent (delta temporality, views that change the
aggregation, cardinality overflow, exemplars, readers added later)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics._internal.exemplar import (
    AlwaysOffExemplarFilter,
    AlwaysOnExemplarFilter,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import DropAggregation, SumAggregation, View
from opentelemetry.sdk.trace import TracerProvider

from spotify_otel._http_metrics import DURATION_BUCKETS, duration_attributes
from spotify_otel._lean_histogram import LeanHistogram

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = [("GET", "http", 200, f"tenant-{t}", route, error)
        for t in range(3) for route, error in (("/a/{id}", None), (None, None), ("/b", "500"))]
values = st.floats(min_value=0, max_value=40) | st.sampled_from([0.0, 0.005, 0.01, 30.0, 31.0, -1.0, math.nan,
                                                                  math.inf])
steps = st.lists(st.one_of(st.tuples(st.just("record"), st.integers(0, len(KEYS) - 1), values),
                           st.just(("collect", 0, 0.0))), max_size=60)

Config = dict[str, Any]
CONFIGS: dict[str, Config] = {
    "cumulative": {},
    "delta": {"temporality": AggregationTemporality.DELTA},
    "view keeps two attributes": {"views": [View(instrument_name="d", attribute_keys={"tenant.id", "http.route"})]},
    "view sums": {"views": [View(instrument_name="d", aggregation=SumAggregation())]},
    "view drops": {"views": [View(instrument_name="d", aggregation=DropAggregation())]},
    "cardinality limit 4": {"cardinality_limit": 4},
    "two readers, one delta": {"second_reader": AggregationTemporality.DELTA},
    "exemplars always on": {"exemplar_filter": AlwaysOnExemplarFilter()},
    "exemplars off": {"exemplar_filter": AlwaysOffExemplarFilter()},
}


def build(config: Config) -> tuple[MeterProvider, list[InMemoryMetricReader], Histogram]:
    temporality = config.get("temporality", AggregationTemporality.CUMULATIVE)
    readers = [InMemoryMetricReader(preferred_temporality={Histogram: temporality})]
    if "second_reader" in config:
        readers.append(InMemoryMetricReader(preferred_temporality={Histogram: config["second_reader"]}))
    views = config.get("views", ())
    if "cardinality_limit" in config:
        views = [View(instrument_name="d", aggregation_cardinality_limit=config["cardinality_limit"])]
    provider = MeterProvider(metric_readers=readers, views=views,
                             exemplar_filter=config.get("exemplar_filter", TraceBasedExemplarFilter()))
    histogram = provider.get_meter("lean").create_histogram(
        "d", unit="s", explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
    return provider, readers, histogram  # type: ignore[return-value]


def points(reader: InMemoryMetricReader) -> list[tuple[Any, ...]]:
    """What a reader collected, without the timestamps (the two providers run at different instants)."""
    data = reader.get_metrics_data()
    out = []
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:  # type: ignore[union-attr]
                    fields = tuple(getattr(point, name, None) for name in ("count", "sum", "min", "max", "value"))
                    buckets = tuple(getattr(point, "bucket_counts", ()))
                    exemplars = sorted((e.value, e.span_id) for e in point.exemplars)
                    out.append((sorted(point.attributes.items()), fields, buckets, exemplars))
    return sorted(out, key=repr)


def replay(config: Config, script: list[tuple[str, int, float]], lean: bool,
           around: Callable[[], Any] | None = None) -> list[list[tuple[Any, ...]]]:
    provider, readers, histogram = build(config)
    recorder = LeanHistogram(histogram)
    collected = []
    for op, index, value in script:
        if op == "collect":
            collected += [points(reader) for reader in readers]
            continue
        with around() if around is not None else _nothing():
            if lean:
                recorder.record(value, KEYS[index], duration_attributes)
            else:
                histogram.record(value, duration_attributes(KEYS[index]))  # type: ignore[arg-type]
    collected += [points(reader) for reader in readers]
    provider.shutdown()
    return collected


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("name", list(CONFIGS))
@FUZZ
@given(script=steps)
def test_readers_collect_what_the_sdk_path_gives(name: str, script: list[tuple[str, int, float]]) -> None:
    config = CONFIGS[name]
    assert replay(config, script, lean=True) == replay(config, script, lean=False)


def test_inside_a_sampled_span_exemplars_are_the_sdks() -> None:
    tracer = TracerProvider().get_tracer("t")
    script = [("record", i % len(KEYS), 0.001 * i) for i in range(40)] + [("collect", 0, 0.0)]

    def sampled_span() -> Any:
        return trace.use_span(tracer.start_span("s"), end_on_exit=True)

    lean = replay({}, script, lean=True, around=sampled_span)
    sdk = replay({}, script, lean=False, around=sampled_span)
    assert [len(exemplars) for reader in lean for *_, exemplars in reader] == [
        len(exemplars) for reader in sdk for *_, exemplars in reader]
    assert any(exemplars for reader in lean for *_, exemplars in reader), "exemplars were recorded"
    # span ids differ between the runs; the number kept per point and the values must not
    assert [[(attrs, fields, buckets) for attrs, fields, buckets, _ in reader] for reader in lean] == [
        [(attrs, fields, buckets) for attrs, fields, buckets, _ in reader] for reader in sdk]


def slow_calls(config: Config, records: int = 50, keys: int = 3) -> int:
    provider, readers, histogram = build(config)
    calls = []
    sdk_record = histogram.record

    def counted(*args: Any, **kwargs: Any) -> None:  # the SDK path, counted
        calls.append(args)
        sdk_record(*args, **kwargs)

    histogram.record = counted  # type: ignore[method-assign]
    recorder = LeanHistogram(histogram)
    for i in range(records):
        recorder.record(0.002, KEYS[i % keys], duration_attributes)
        if i == records // 2:
            for reader in readers:
                reader.get_metrics_data()
    provider.shutdown()
    return len(calls)


def test_the_shortcut_is_taken_once_an_attribute_set_is_known() -> None:
    assert slow_calls({}) == 3  # the first measurement of each set


@pytest.mark.parametrize("name", ["delta", "view sums", "view drops", "two readers, one delta",
                                  "exemplars always on"])
def test_configurations_without_an_equivalent_shortcut_take_the_sdk_path(name: str) -> None:
    assert slow_calls(CONFIGS[name]) == 50


def test_overflowing_attribute_sets_take_the_sdk_path_and_the_others_do_not() -> None:
    # limit 2: two sets get their own aggregation, the third lands in the overflow point
    assert slow_calls({"cardinality_limit": 2}, records=60, keys=3) == 2 + 20


def test_a_reader_added_later_gets_every_measurement() -> None:
    provider, readers, histogram = build({})
    recorder = LeanHistogram(histogram)
    for _ in range(5):
        recorder.record(0.02, KEYS[0], duration_attributes)
    late = InMemoryMetricReader()
    provider.add_metric_reader(late)
    for _ in range(7):
        recorder.record(0.02, KEYS[0], duration_attributes)
    assert [p[1][0] for p in points(readers[0])] == [12]
    assert [p[1][0] for p in points(late)] == [7]
    provider.remove_metric_reader(late)
    for _ in range(3):
        recorder.record(0.02, KEYS[0], duration_attributes)
    assert [p[1][0] for p in points(readers[0])] == [15]
    provider.shutdown()


def test_disabled_instruments_and_bad_values_record_nothing() -> None:
    provider, readers, histogram = build({})
    recorder = LeanHistogram(histogram)
    recorder.record(0.01, KEYS[0], duration_attributes)
    for bad in (-0.5, math.nan, math.inf):
        recorder.record(bad, KEYS[0], duration_attributes)
    histogram._meter_config = type("Off", (), {"is_enabled": False})()  # type: ignore[attr-defined]
    recorder.record(0.01, KEYS[0], duration_attributes)
    assert [p[1][0] for p in points(readers[0])] == [1]
    provider.shutdown()
