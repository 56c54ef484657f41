"""Tracer, meter and logger providers wired to the OTLP exporters.

The providers do not register their own ``atexit`` shutdown (it has no deadline and could hang on a
dead collector); :class:`~spotify_otel.Telemetry` shuts them down within ``shutdown_timeout``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import MeterProvider as MeterProviderAPI
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableCounter, UpDownCounter
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from spotify_otel import _exporters
from spotify_otel._encoding_processors import EncodingBatchLogRecordProcessor, EncodingBatchSpanProcessor
from spotify_otel._export_wrappers import ForkSafeLogExporter, ForkSafeMetricExporter, ForkSafeSpanExporter
from spotify_otel._settings import Settings
from spotify_otel._tenant_spans import TenantSpanProcessor

_INTERNAL_METRICS = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"


def build_sampler(settings: Settings) -> Sampler:
    """The configured sampler (``sample_ratio`` applies to the ``*traceidratio`` ones)."""
    base: Sampler = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": TraceIdRatioBased(settings.sample_ratio),
    }.get(settings.sampler.removeprefix("parentbased_"), ALWAYS_ON)
    return ParentBased(base) if settings.sampler.startswith("parentbased_") else base


@dataclass
class Providers:
    """The three SDK providers and their exporters (``None`` where a signal is off)."""

    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    logger_provider: LoggerProvider | None = None
    span_exporter: ForkSafeSpanExporter | None = None
    metric_exporter: ForkSafeMetricExporter | None = None
    log_exporter: ForkSafeLogExporter | None = None
    metric_reader: MetricReader | None = None
    span_processor: Any = None  # the batch processors (their dropped-record counts are reported at collection)
    log_processor: Any = None


@contextlib.contextmanager
def _sdk_processor_metrics(enabled: bool) -> Iterator[None]:
    """The batch processors read ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED`` when they are built (there is
    no keyword for it): set it for that moment only, so the tracer's per-span metrics stay off."""
    previous = os.environ.get(_INTERNAL_METRICS)
    os.environ[_INTERNAL_METRICS] = "true" if enabled else "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_INTERNAL_METRICS, None)
        else:
            os.environ[_INTERNAL_METRICS] = previous


def _batch_processor(processor_class: Any, exporter: Any, queue_size: int, delay_ms: int, batch_size: int,
                     timeout_ms: float, meter_provider: MeterProviderAPI, self_metrics: bool) -> Any:
    """A batch span or log processor with the configured queue, delay, batch size and export timeout."""
    with _sdk_processor_metrics(self_metrics):
        return processor_class(exporter, max_queue_size=queue_size, schedule_delay_millis=delay_ms,
                               max_export_batch_size=min(batch_size, queue_size), export_timeout_millis=timeout_ms,
                               meter_provider=meter_provider)


def build_providers(settings: Settings, resource: Resource) -> Providers:
    """Build every enabled provider with batch processing and OTLP export.

    With ``self_metrics`` (and metrics on), the batch processors report the SDK's own
    ``otel.sdk.processor.{span,log}.*`` metrics: items processed or dropped (``error.type``), queue
    size and capacity.
    """
    providers = Providers()
    timeout_ms = settings.export_timeout * 1000
    if settings.metrics_enabled:
        providers.metric_exporter = _exporters.metric_exporter(settings)
        limit = settings.metric_cardinality_limit
        providers.metric_reader = PeriodicExportingMetricReader(
            providers.metric_exporter,
            export_interval_millis=settings.metric_export_interval_ms,
            export_timeout_millis=timeout_ms,
            cardinality_limits={Counter: limit, Histogram: limit, UpDownCounter: limit, ObservableCounter: limit},
        )
        providers.meter_provider = MeterProvider(
            resource=resource, metric_readers=[providers.metric_reader], shutdown_on_exit=False
        )
    # No meter provider: the SDK's global one (a no-op unless the application set one) is not used.
    processor_meters = providers.meter_provider or NoOpMeterProvider()
    self_metrics = settings.self_metrics and providers.meter_provider is not None
    if settings.traces_enabled:
        providers.span_exporter = _exporters.span_exporter(settings)
        tracer_provider = TracerProvider(resource=resource, sampler=build_sampler(settings), shutdown_on_exit=False)
        tracer_provider.add_span_processor(TenantSpanProcessor(settings.default_tenant))
        # gRPC: spans are encoded when they end (see _encoding_processors); http/protobuf: SDK encoding
        span_processor = EncodingBatchSpanProcessor if settings.protocol == "grpc" else BatchSpanProcessor
        providers.span_processor = _batch_processor(
            span_processor, providers.span_exporter, settings.span_max_queue_size, settings.span_schedule_delay_ms,
            settings.span_max_export_batch_size, timeout_ms, processor_meters, self_metrics)
        tracer_provider.add_span_processor(providers.span_processor)
        providers.tracer_provider = tracer_provider
    if settings.logs_enabled:
        providers.log_exporter = _exporters.log_exporter(settings)
        logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        log_processor = EncodingBatchLogRecordProcessor if settings.protocol == "grpc" else BatchLogRecordProcessor
        providers.log_processor = _batch_processor(
            log_processor, providers.log_exporter, settings.log_max_queue_size, settings.log_schedule_delay_ms,
            settings.log_max_export_batch_size, timeout_ms, processor_meters, self_metrics)
        logger_provider.add_log_record_processor(providers.log_processor)
        providers.logger_provider = logger_provider
    return providers
