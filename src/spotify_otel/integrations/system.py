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
        from opentelemetry.instrumentation.system_metrics import _DEFAULT_CONFIG, SystemMetricsInstrumentor
    except ImportError:
        return None
    # The deprecated process.runtime.cpython.* names duplicate process.* and cpython.gc.*: leave them out.
    config = {name: labels for name, labels in _DEFAULT_CONFIG.items() if not name.startswith("process.runtime.")}
    instrumentor = SystemMetricsInstrumentor(config=config)
    if instrumentor.is_instrumented_by_opentelemetry:
        return None
    try:
        instrumentor.instrument(meter_provider=meter_provider)
    except Exception:
        _logger.exception("spotify-otel: system metrics unavailable")
        return None
    undo: Callable[[], None] = instrumentor.uninstrument
    return undo
