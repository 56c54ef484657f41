"""Fixtures for the receiver tests: a started receiver and SDK providers wired to real OTLP exporters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from spotify_otel.receiver import OTLPReceiver

RESOURCE_ATTRS = {
    "service.name": "checkout",
    "service.namespace": "shop",
    "service.instance.id": "pod-1",
    "deployment.environment.name": "test",
}


class SDK:
    """Builds OpenTelemetry SDK providers whose exporters are the real OTLP ones, aimed at a receiver."""

    resource_attrs = RESOURCE_ATTRS

    def __init__(self, rx: OTLPReceiver) -> None:
        self.rx = rx
        self._made: list[Any] = []

    def span_exporter(self, transport: str, gzip: bool = False, timeout: float = 5) -> Any:
        """An OTLP span exporter over ``transport`` ("grpc" or "http")."""
        if transport == "grpc":
            compression = grpc.Compression.Gzip if gzip else None
            return GrpcSpanExporter(
                endpoint=self.rx.grpc_endpoint, insecure=True, compression=compression, timeout=timeout
            )
        compression_h = HttpCompression.Gzip if gzip else HttpCompression.NoCompression
        return HttpSpanExporter(
            endpoint=f"{self.rx.http_endpoint}/v1/traces", compression=compression_h, timeout=timeout
        )

    def metric_exporter(self, transport: str, delta: bool = False, gzip: bool = False) -> Any:
        """An OTLP metric exporter (cumulative unless ``delta`` for counters and histograms)."""
        temporality = (
            {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA} if delta else None
        )
        if transport == "grpc":
            compression = grpc.Compression.Gzip if gzip else None
            return GrpcMetricExporter(
                endpoint=self.rx.grpc_endpoint,
                insecure=True,
                preferred_temporality=temporality,
                compression=compression,
            )
        compression_h = HttpCompression.Gzip if gzip else HttpCompression.NoCompression
        return HttpMetricExporter(
            endpoint=f"{self.rx.http_endpoint}/v1/metrics",
            preferred_temporality=temporality,
            compression=compression_h,
        )

    def log_exporter(self, transport: str) -> Any:
        """An OTLP log exporter over ``transport``."""
        if transport == "grpc":
            return GrpcLogExporter(endpoint=self.rx.grpc_endpoint, insecure=True)
        return HttpLogExporter(endpoint=f"{self.rx.http_endpoint}/v1/logs")

    def tracer_provider(self, transport: str, gzip: bool = False, exporter: Any = None) -> TracerProvider:
        """A TracerProvider exporting each span synchronously (SimpleSpanProcessor)."""
        tp = TracerProvider(resource=Resource.create(RESOURCE_ATTRS))
        tp.add_span_processor(SimpleSpanProcessor(exporter or self.span_exporter(transport, gzip)))
        self._made.append(tp)
        return tp

    def meter_provider(self, transport: str, delta: bool = False, gzip: bool = False) -> MeterProvider:
        """A MeterProvider whose reader exports only on ``force_flush()`` (one-hour interval)."""
        exporter = self.metric_exporter(transport, delta=delta, gzip=gzip)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        mp = MeterProvider(resource=Resource.create(RESOURCE_ATTRS), metric_readers=[reader])
        self._made.append(mp)
        return mp

    def logger_provider(self, transport: str) -> LoggerProvider:
        """A LoggerProvider exporting each record synchronously."""
        lp = LoggerProvider(resource=Resource.create(RESOURCE_ATTRS))
        lp.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter(transport)))
        self._made.append(lp)
        return lp

    def shutdown(self) -> None:
        """Shut every provider down (flushing what is left)."""
        for provider in reversed(self._made):
            provider.shutdown()
        self._made.clear()


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    """A started receiver on free loopback ports, Prometheus endpoint on, 0.1 s retry hints."""
    rx = OTLPReceiver(prometheus_port=0, retry_after=0.1).start()
    try:
        yield rx
    finally:
        rx.stop(grace=0.2)


@pytest.fixture
def sdk(receiver: OTLPReceiver) -> Iterator[SDK]:
    """SDK providers aimed at ``receiver``; all shut down after the test."""
    helper = SDK(receiver)
    try:
        yield helper
    finally:
        helper.shutdown()
