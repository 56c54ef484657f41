"""RSS growth of the spotify-otel server over many requests from many tenants with the collector down."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness.load import run_wrk
from benchmarks.harness.servers import Server, Variant, free_port


def measure(framework: str, total_requests: int, tenants: int, chunk_s: float, connections: int,
            log: Callable[[str], None]) -> dict[str, float]:
    """Drive ``total_requests`` from ``tenants`` tenants against an unreachable collector; RSS in MB."""
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every export fails
    server = Server(Variant("spotify", framework, f"{framework}_spotify"), dead).wait_ready()
    try:
        run_wrk(server.url, 2, connections, tenants=10)  # warm up (10 tenants, routes, caches)
        before = server.rss_bytes()
        peak = before
        done = 0
        while done < total_requests:
            done += run_wrk(server.url, chunk_s, connections, tenants=tenants).requests
            peak = max(peak, server.rss_bytes())
            log(f"  {done} requests, RSS {server.rss_bytes() / 2**20:.1f} MB")
        after = server.rss_bytes()
    finally:
        server.stop()
    return {"requests": float(done), "tenants": float(tenants), "rss_before_mb": before / 2**20,
            "rss_after_mb": after / 2**20, "rss_peak_mb": peak / 2**20, "growth_mb": (after - before) / 2**20,
            "peak_growth_mb": (peak - before) / 2**20}
