"""Tracer, meter and logger providers wired to the OTLP exporters.

The providers do not register their own ``atexit`` shutdown (it has no deadline and could hang on a
dead collector); :class:`~spotify_otel.Telemetry` shuts them down within ``shutdown_timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def build_providers(settings: Settings, resource: Resource) -> Providers:
    """Build every enabled provider with batch processing and OTLP export."""
    providers = Providers()
    timeout_ms = settings.export_timeout * 1000
    if settings.traces_enabled:
        providers.span_exporter = _exporters.span_exporter(settings)
        tracer_provider = TracerProvider(resource=resource, sampler=build_sampler(settings), shutdown_on_exit=False)
        tracer_provider.add_span_processor(TenantSpanProcessor(settings.default_tenant))
        # gRPC: spans are encoded when they end (see _encoding_processors); http/protobuf: SDK encoding
        span_processor = EncodingBatchSpanProcessor if settings.protocol == "grpc" else BatchSpanProcessor
        tracer_provider.add_span_processor(span_processor(
            providers.span_exporter,
            max_queue_size=settings.span_max_queue_size,
            schedule_delay_millis=settings.span_schedule_delay_ms,
            max_export_batch_size=min(settings.span_max_export_batch_size, settings.span_max_queue_size),
            export_timeout_millis=timeout_ms,
        ))
        providers.tracer_provider = tracer_provider
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
    if settings.logs_enabled:
        providers.log_exporter = _exporters.log_exporter(settings)
        logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        log_processor = EncodingBatchLogRecordProcessor if settings.protocol == "grpc" else BatchLogRecordProcessor
        logger_provider.add_log_record_processor(log_processor(
            providers.log_exporter,
            max_queue_size=settings.log_max_queue_size,
            schedule_delay_millis=settings.log_schedule_delay_ms,
            max_export_batch_size=min(settings.log_max_export_batch_size, settings.log_max_queue_size),
            export_timeout_millis=timeout_ms,
        ))
        providers.logger_provider = logger_provider
    return providers
