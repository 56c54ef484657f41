"""Host and process metrics (CPU, memory, disk and network I/O, process CPU/RSS/threads/fds, GC)
through ``opentelemetry-instrumentation-system-metrics`` (psutil)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

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
    _filesystem_usage(meter_provider)
    undo: Callable[[], None] = instrumentor.uninstrument
    return undo


def _filesystem_usage(meter_provider: MeterProvider) -> None:
    """``system.filesystem.usage`` (bytes used/free per physical file system) with the attribute names of
    the collector's hostmetrics receiver (``device``, ``mountpoint``, ``type``, ``state``), so disk
    exhaustion alerts work whether the host or the SDK reports it."""
    import psutil

    def observe(options: CallbackOptions) -> Iterable[Observation]:
        observations = []
        # Containers may list no physical partition: report the root file system then.
        partitions = [(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=False)]
        for device, mountpoint, fstype in partitions or [("rootfs", "/", "")]:
            try:
                usage = psutil.disk_usage(mountpoint)
            except OSError:
                continue
            base = {"device": device, "mountpoint": mountpoint, "type": fstype}
            observations.append(Observation(usage.used, {**base, "state": "used"}))
            observations.append(Observation(usage.free, {**base, "state": "free"}))
        return observations

    meter_provider.get_meter("spotify_otel.system").create_observable_up_down_counter(
        "system.filesystem.usage", [observe], unit="By", description="File system space used and free.")
