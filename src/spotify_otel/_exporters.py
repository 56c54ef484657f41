"""OTLP exporters for the three signals, over gRPC or http/protobuf.

Values set by keyword or ``SPOTIFY_OTEL_*`` are passed explicitly; values from the standard ``OTEL_*``
variables are left to the exporters, which also read the per-signal endpoints, headers, certificates
and client keys (mTLS) themselves. Every exporter is wrapped in a fork-safe, counting wrapper. The gRPC
span and log exporters encode with :mod:`spotify_otel._otlp_encoding` (same bytes, ~3x cheaper).
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality

from spotify_otel._export_wrappers import ForkSafeLogExporter, ForkSafeMetricExporter, ForkSafeSpanExporter
from spotify_otel._settings import Settings

_PATHS = {"traces": "/v1/traces", "metrics": "/v1/metrics", "logs": "/v1/logs"}


def _common_kwargs(settings: Settings, signal: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if settings.explicit("endpoint"):
        base = settings.resolved_endpoint
        kwargs["endpoint"] = base + _PATHS[signal] if settings.protocol == "http/protobuf" else base
    if settings.explicit("headers") and settings.headers:
        kwargs["headers"] = dict(settings.headers)
    if settings.explicit("export_timeout"):
        kwargs["timeout"] = settings.export_timeout
    if settings.explicit("compression"):
        if settings.protocol == "grpc":
            from grpc import Compression as GrpcCompression

            kwargs["compression"] = GrpcCompression.Gzip if settings.compression == "gzip" else (
                GrpcCompression.NoCompression)
        else:
            from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression

            kwargs["compression"] = HttpCompression.Gzip if settings.compression == "gzip" else (
                HttpCompression.NoCompression)
    return kwargs


def _import_grpc_now() -> None:
    """Import what building a gRPC exporter imports, now, in the calling (main) thread. Exporters are built
    lazily in the export thread; a ``fork()`` (gunicorn) landing in the middle of that import would leave
    the child with a half-imported ``grpc._channel`` and its import lock held."""
    import grpc._channel
    import grpc._simple_stubs
    import grpc.experimental  # noqa: F401


def temporality(settings: Settings) -> dict[type, AggregationTemporality]:
    """Preferred temporality per instrument (up-down counters stay cumulative, per the spec)."""
    delta = settings.metric_temporality == "delta"
    chosen = AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
    return {
        Counter: chosen,
        Histogram: chosen,
        ObservableCounter: chosen,
        UpDownCounter: AggregationTemporality.CUMULATIVE,
        ObservableUpDownCounter: AggregationTemporality.CUMULATIVE,
        ObservableGauge: AggregationTemporality.CUMULATIVE,
    }


def check_protobuf_backend() -> str:
    """The protobuf backend in use; warns (once per process) when it is the pure-Python one, which
    encodes OTLP about 12x slower than upb (``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python`` or an old
    protobuf wheel)."""
    from google.protobuf.internal import api_implementation

    backend = str(api_implementation.Type())
    if backend == "python" and not getattr(check_protobuf_backend, "warned", False):
        check_protobuf_backend.warned = True  # type: ignore[attr-defined]
        logging.getLogger("spotify_otel").warning(
            "spotify-otel: protobuf uses its pure-Python backend: OTLP export costs ~12x more CPU; install a "
            "protobuf wheel with the upb backend and unset PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION")
    return backend


def span_exporter(settings: Settings) -> ForkSafeSpanExporter:
    """The traces exporter for ``settings.protocol``."""
    check_protobuf_backend()
    kwargs = _common_kwargs(settings, "traces")
    if settings.protocol == "grpc":
        _import_grpc_now()
        from spotify_otel._fast_exporters import FastGrpcSpanExporter as Grpc

        return ForkSafeSpanExporter(lambda: Grpc(**kwargs))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    return ForkSafeSpanExporter(lambda: Http(**kwargs))


def metric_exporter(settings: Settings) -> ForkSafeMetricExporter:
    """The metrics exporter for ``settings.protocol``."""
    kwargs = _common_kwargs(settings, "metrics")
    kwargs["preferred_temporality"] = temporality(settings)
    if settings.protocol == "grpc":
        _import_grpc_now()
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as Grpc

        return ForkSafeMetricExporter(lambda: Grpc(**kwargs), kwargs["preferred_temporality"])
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http

    return ForkSafeMetricExporter(lambda: Http(**kwargs), kwargs["preferred_temporality"])


def log_exporter(settings: Settings) -> ForkSafeLogExporter:
    """The logs exporter for ``settings.protocol``."""
    kwargs = _common_kwargs(settings, "logs")
    if settings.protocol == "grpc":
        _import_grpc_now()
        from spotify_otel._fast_exporters import FastGrpcLogExporter as Grpc

        return ForkSafeLogExporter(lambda: Grpc(**kwargs))
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as Http

    return ForkSafeLogExporter(lambda: Http(**kwargs))
