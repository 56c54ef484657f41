"""The SDK's own batch-processor metrics (``self_metrics``): what was processed, what was dropped
because the queue was full, queue size and capacity, exported over real OTLP next to the data."""

from __future__ import annotations

import os
from typing import Any

import pytest
from _support import free_port

from spotify_otel import init_telemetry
from spotify_otel.receiver import OTLPReceiver

SELF = ("otel.sdk.processor.span.processed", "otel.sdk.processor.span.queue.size",
        "otel.sdk.processor.span.queue.capacity", "otel.sdk.processor.log.processed",
        "otel.sdk.processor.log.queue.size", "otel.sdk.processor.log.queue.capacity")
SWITCH = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"


def _latest(rx: OTLPReceiver, name: str, **attributes: Any) -> float | None:
    points = [p for p in rx.store.metric_points(name)
              if all(p.attributes.get(k) == v for k, v in attributes.items())]
    return float(points[-1].value) if points else None


def test_processed_queue_and_capacity_are_exported(reset: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SWITCH, raising=False)
    import logging

    from opentelemetry import trace

    with OTLPReceiver() as rx:
        telemetry = init_telemetry("selfm", endpoint=rx.grpc_endpoint, system_metrics=False,
                                   span_max_queue_size=100, metric_export_interval_ms=60_000)
        assert SWITCH not in os.environ  # switched on for the processors only, then restored
        tracer = trace.get_tracer("selfm")
        for _ in range(7):
            with tracer.start_as_current_span("work"):
                logging.getLogger("selfm").warning("done")
        assert telemetry.force_flush(10)
        assert rx.store.wait_for(lambda s: set(SELF) <= {p.name for p in s.metric_points()}, 15)
        assert _latest(rx, "otel.sdk.processor.span.processed") == 7
        assert _latest(rx, "otel.sdk.processor.log.processed") == 7
        assert _latest(rx, "otel.sdk.processor.span.queue.capacity") == 100
        assert _latest(rx, "otel.sdk.processor.log.queue.capacity") == 2048
        assert _latest(rx, "otel.sdk.processor.span.queue.size") == 0
        names = {p.name for p in rx.store.metric_points()}
        assert "otel.sdk.span.started" not in names  # the per-span tracer metrics stay off


def test_spans_dropped_on_a_full_queue_are_counted(reset: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Traces go to a collector that is not there (the export thread is stuck retrying); metrics still
    flow, and they say how many spans the full queue dropped."""
    from opentelemetry import trace

    with OTLPReceiver() as rx:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"http://127.0.0.1:{free_port()}")
        telemetry = init_telemetry("drops", system_metrics=False, logs_enabled=False, span_max_queue_size=8,
                                   span_max_export_batch_size=8, metric_export_interval_ms=60_000,
                                   export_timeout=2.0)
        tracer = trace.get_tracer("drops")
        for _ in range(100):
            tracer.start_span("lost").end()
        assert telemetry.providers.meter_provider is not None
        telemetry.providers.meter_provider.force_flush(10_000)
        assert rx.store.wait_for(
            lambda s: bool(s.metric_points("otel.sdk.processor.span.processed")), 15)
        dropped = _latest(rx, "otel.sdk.processor.span.processed", **{"error.type": "queue_full"})
        assert dropped is not None and 84 <= dropped <= 92  # 100 - the 8 queued - up to 8 taken by the exporter
        assert rx.store.spans() == []


def test_off_exports_none_of_them(reset: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SWITCH, raising=False)
    from opentelemetry import trace

    with OTLPReceiver() as rx:
        telemetry = init_telemetry("quiet", endpoint=rx.grpc_endpoint, system_metrics=False, self_metrics=False,
                                   metric_export_interval_ms=60_000)
        trace.get_tracer("quiet").start_span("one").end()
        assert telemetry.force_flush(10)
        assert rx.store.wait_for(lambda s: bool(s.metric_points("spotify.otel.exported")), 15)
        assert not {p.name for p in rx.store.metric_points()} & set(SELF)
