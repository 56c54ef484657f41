"""Host and process metrics (CPU, memory, disk and network I/O, process CPU/RSS/threads/fds, GC)
through ``opentelemetry-instrumentation-system-metrics`` (psutil)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from opentelemetry.metrics import MeterProvider

_logger = logging.getLogger("spotify_otel.integrations")


def instrument_system_metrics(meter_provider: MeterProvider) -> Callable[[], None] | None:
    """Start the system metrics instrumentation; returns an undo callable, or ``None``."""
    try:
        from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
    except ImportError:
        return None
    instrumentor = SystemMetricsInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        return None
    try:
        instrumentor.instrument(meter_provider=meter_provider)
    except Exception:
        _logger.exception("spotify-otel: system metrics unavailable")
        return None
    undo: Callable[[], None] = instrumentor.uninstrument
    return undo
