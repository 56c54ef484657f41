"""Host and process metrics (CPU, memory, disk and network I/O, process CPU/RSS/threads/fds, GC)
through ``opentelemetry-instrumentation-system-metrics`` (psutil).

One callback is replaced: ``system.network.connections``. The contrib one calls
``psutil.net_connections()``, which decodes every address of every socket of the host and walks every
process's file descriptors to find their owners, on the application's GIL, at every collection:
measured here 12.5 ms of CPU with 426 sockets and 97 ms with 6 000. The same counts (per protocol,
state, family and type) come from the state column of ``/proc/net/{tcp,tcp6,udp,udp6}`` in one regular
expression pass: ~1 ms for 6 000 sockets (docs/metrics.md). Where those files do not exist (not Linux)
the contrib callback stays.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

_logger = logging.getLogger("spotify_otel.integrations")
_TABLES = (("tcp", socket.AF_INET, socket.SOCK_STREAM, "tcp"), ("tcp6", socket.AF_INET6, socket.SOCK_STREAM, "tcp"),
           ("udp", socket.AF_INET, socket.SOCK_DGRAM, "udp"), ("udp6", socket.AF_INET6, socket.SOCK_DGRAM, "udp"))
# "  sl: local_address rem_address st ...": the state is the fourth column
_STATE = re.compile(rb"^\s*\d+:\s+\S+\s+\S+\s+([0-9A-Fa-f]{2})\s", re.MULTILINE)
# psutil's names for the kernel's TCP states (psutil._pslinux.TCP_STATUSES); UDP sockets are "NONE"
TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
              "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
              "0B": "CLOSING"}


def connection_counts(procfs: str = "/proc") -> Counter[tuple[str, str, socket.AddressFamily, socket.SocketKind]]:
    """Sockets of the host (network namespace) per (protocol, state, family, type), as
    ``psutil.net_connections("inet")`` would count them; raises ``OSError`` without ``/proc/net/tcp``."""
    counts: Counter[tuple[str, str, socket.AddressFamily, socket.SocketKind]] = Counter()
    for name, family, kind, protocol in _TABLES:
        try:
            with open(f"{procfs}/net/{name}", "rb") as table:
                data = table.read()
        except OSError:
            if name == "tcp":
                raise
            continue  # IPv6 disabled, or no UDP table
        for code, count in Counter(_STATE.findall(data)).items():
            state = TCP_STATES.get(code.decode().upper(), "NONE") if kind == socket.SOCK_STREAM else "NONE"
            counts[(protocol, state, family, kind)] += count
    return counts


def _observe_connections(labels: list[str], options: CallbackOptions) -> Iterable[Observation]:
    """``system.network.connections`` with the contrib callback's attributes (``labels`` from its config)."""
    observations = []
    for (protocol, state, family, kind), count in connection_counts().items():
        attributes: dict[str, Any] = {"protocol": protocol, "state": state}
        for label in labels:
            attributes[label] = family if label == "family" else kind
        observations.append(Observation(count, attributes))
    return observations


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
    labels = list(config.get("system.network.connections") or ())
    if labels and set(labels) <= {"family", "type"} and os.path.exists("/proc/net/tcp"):
        # read by instrument() when it registers the callbacks
        instrumentor._get_system_network_connections = functools.partial(  # type: ignore[method-assign]
            _observe_connections, labels)
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
