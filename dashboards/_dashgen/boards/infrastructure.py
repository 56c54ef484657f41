"""Infrastructure: host and process resources of the selected services (system-metrics instrumentation)."""

from __future__ import annotations

from .. import promql as pq
from ..board import Board
from ..panels import Q, gauge, timeseries
from ..thresholds import CPU, MEMORY

CPU_IDLE = pq.sel("system_cpu_utilization_ratio", 'state="idle"')
CPU_BUSY = f"1 - avg by (job, instance) ({CPU_IDLE})"
MEMORY_USED = f"""sum by (job, instance) ({pq.sel("system_memory_utilization_ratio", 'state="used"')})"""
TCP = pq.sel("system_network_connections", 'protocol="tcp"')


def build() -> Board:
    """The Infrastructure dashboard."""
    b = Board(
        "spotify-infrastructure",
        "Infrastructure",
        "Are the hosts and processes running the services saturated: CPU, memory, disk, network, threads, "
        "file descriptors, garbage collection?",
        "Host panels come from system.* metrics (the whole machine or container), process panels from "
        "process.* (the service's own process). One series per service instance; thresholds match the "
        "alert rules.",
        tags=("infrastructure",),
    )
    b.row("CPU and memory")
    b.add(
        gauge(
            "Host CPU (busiest instance)",
            "Highest busy share of all cores among the selected instances.",
            "percentunit",
            [Q(f"max({CPU_BUSY})")],
            threshold=CPU,
        ),
        w=4,
    )
    b.add(
        timeseries(
            "Host CPU utilisation",
            "Busy share of all CPU cores (1 - idle) per instance.",
            "percentunit",
            [Q(CPU_BUSY, "{{job}} {{instance}}")],
            threshold=CPU,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        gauge(
            "Host memory (fullest instance)",
            "Highest share of memory in state 'used'.",
            "percentunit",
            [Q(f"max({MEMORY_USED})")],
            threshold=MEMORY,
        ),
        w=4,
    )
    b.add(
        timeseries(
            "Host memory utilisation",
            "Share of memory in state 'used' per instance.",
            "percentunit",
            [Q(MEMORY_USED, "{{job}} {{instance}}")],
            threshold=MEMORY,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Process CPU",
            "CPU used by the service process, as a share of all cores (process.cpu.utilization).",
            "percentunit",
            [
                Q(
                    f"sum by (job, instance) ({pq.sel('process_cpu_utilization_ratio')})",
                    "{{job}} {{instance}}",
                )
            ],
            threshold=CPU,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Process memory (RSS)",
            "Resident memory of the service process.",
            "bytes",
            [Q(f"sum by (job, instance) ({pq.sel('process_memory_usage_bytes')})", "{{job}} {{instance}}")],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Host memory by state",
            "Host memory in bytes per state (used, free, cached, ...).",
            "bytes",
            [Q(f"sum by (state) ({pq.sel('system_memory_usage_bytes')})", "{{state}}")],
            stack=True,
        ),
        w=8,
    )
    b.row("Disk and network")
    b.add(
        timeseries(
            "Disk throughput",
            "Bytes per second read and written, all devices.",
            "Bps",
            [Q(pq.sum_rate(pq.sel("system_disk_io_bytes_total"), ("direction",)), "{{direction}}")],
            colours=("read", "write"),
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Disk operations",
            "Read and write operations per second, all devices.",
            "iops",
            [Q(pq.sum_rate(pq.sel("system_disk_operations_total"), ("direction",)), "{{direction}}")],
            colours=("read", "write"),
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Process disk I/O",
            "Bytes per second the service process read and wrote.",
            "Bps",
            [Q(pq.sum_rate(pq.sel("process_disk_io_bytes_total"), ("direction",)), "{{direction}}")],
            colours=("read", "write"),
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Network throughput",
            "Bytes per second received and transmitted per device (in a pod, loopback carries the "
            "app-to-sidecar traffic).",
            "Bps",
            [
                Q(
                    pq.sum_rate(pq.sel("system_network_io_bytes_total"), ("device", "direction")),
                    "{{device}} {{direction}}",
                )
            ],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Network errors and drops",
            "Packets per second with errors or dropped, per direction.",
            "pps",
            [
                Q(pq.sum_rate(pq.sel("system_network_errors_total"), ("direction",)), "errors {{direction}}"),
                Q(
                    pq.sum_rate(pq.sel("system_network_dropped_packets_total"), ("direction",)),
                    "dropped {{direction}}",
                ),
            ],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "TCP connections by state",
            "Host TCP connections per state (ESTABLISHED, TIME_WAIT, ...).",
            "short",
            [Q(f"sum by (state) ({TCP})", "{{state}}")],
        ),
        w=8,
    )
    b.row("Process")
    b.add(
        timeseries(
            "Threads",
            "Threads of the service process.",
            "short",
            [Q(f"sum by (job, instance) ({pq.sel('process_thread_count')})", "{{job}} {{instance}}")],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Open file descriptors",
            "File descriptors open in the service process.",
            "short",
            [
                Q(
                    f"sum by (job, instance) ({pq.sel('process_open_file_descriptor_count')})",
                    "{{job}} {{instance}}",
                )
            ],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Garbage collections",
            "CPython garbage collections per second by generation.",
            "ops",
            [
                Q(
                    pq.sum_rate(pq.sel("cpython_gc_collections_total"), ("cpython_gc_generation",)),
                    "gen {{cpython_gc_generation}}",
                )
            ],
        ),
        w=8,
    )
    return b
