"""Span end -> arrival at the collector, measured with a subscription to the receiver's store."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness.load import run_wrk
from benchmarks.harness.servers import Server, Variant
from benchmarks.harness.stats import percentile, table
from spotify_otel.receiver import OTLPReceiver

LOW_LATENCY = {"SPOTIFY_OTEL_BSP_SCHEDULE_DELAY": "50"}


class ArrivalClock:
    """Collects ``arrival - span end`` (ms) for the spans of one service."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.delays_ms: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, signal: str, records: list[Any]) -> None:
        if signal != "traces" or not records:
            return
        now = time.time_ns()
        delays = [(now - span.end_ns) / 1e6 for span in records if span.service_name == self.service]
        with self._lock:
            self.delays_ms.extend(delays)


def measure(rx: OTLPReceiver, framework: str, rate: float, duration: float, connections: int,
            log: Callable[[str], None]) -> list[list[object]]:
    """Defaults and the low-latency setting at ``rate`` req/s: p50/p99/max of span end -> arrival."""
    rows: list[list[object]] = []
    cases = [("defaults (schedule delay 500 ms)", {}),
             ("SPOTIFY_OTEL_BSP_SCHEDULE_DELAY=50", LOW_LATENCY)]
    for label, env in cases:
        service = f"bench-spotify-{framework}" if framework == "django" else "bench-spotify"
        variant = Variant("spotify", framework, f"{framework}_spotify", env)
        server = Server(variant, rx.grpc_endpoint).wait_ready()
        clock = ArrivalClock(service)
        unsubscribe = rx.store.subscribe(clock)
        try:
            run_wrk(server.url, 1, connections, delay_ms=connections * 1000.0 / rate)  # warm up
            clock.delays_ms.clear()
            # The receiver stands in for the collector in this process: its own garbage collections
            # (20k stored records) paused it for 50-150 ms at times, which read as late spans.
            gc.collect()
            gc.disable()
            load = run_wrk(server.url, duration, connections, delay_ms=connections * 1000.0 / rate)
            time.sleep(1.5)  # let the last batch arrive (the delays are measured per span, not by waiting)
        finally:
            gc.enable()
            unsubscribe()
            server.stop()
        delays = clock.delays_ms
        rows.append([label, load.rps, len(delays), percentile(delays, 50), percentile(delays, 99),
                     max(delays, default=0.0)])
        log(f"  {label}: {len(delays)} spans, p50={percentile(delays, 50):.1f} ms "
            f"p99={percentile(delays, 99):.1f} ms max={max(delays, default=0.0):.1f} ms")
    return rows


def export_table(rows: list[list[object]]) -> str:
    """The span end -> arrival table."""
    return table(["setting", "req/s", "spans", "p50 ms", "p99 ms", "max ms"], rows)
