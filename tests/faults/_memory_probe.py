"""Run in a child process by test_faults_tenants: 10k tenants, collector down, RSS per phase as JSON.

A separate process keeps pytest (its log capture holds every record in memory) out of the measurement.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from _faults_support import hit, make_app, rss_bytes  # noqa: E402
from _support import free_port  # noqa: E402

from spotify_otel import init_telemetry  # noqa: E402


def main() -> None:
    """Warm up, then two halves of the requests; print what the test asserts on."""
    requests, tenants, max_tenants = (int(arg) for arg in sys.argv[1:4])
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)  # the dead collector is expected here
    app = make_app()
    telemetry = init_telemetry("tenants", endpoint=f"http://127.0.0.1:{free_port()}", system_metrics=False,
                               max_tenants=max_tenants, export_timeout=1.0, metric_export_interval_ms=1000)
    warm = hit(app, [f"warm-{i % 10}" for i in range(3000)])  # fill queues, caches, code
    gc.collect()
    before = rss_bytes()
    statuses = hit(app, [f"tenant-{i % tenants}" for i in range(requests // 2)])
    gc.collect()
    middle = rss_bytes()
    statuses += hit(app, [f"tenant-{i % tenants}" for i in range(requests // 2, requests)])
    gc.collect()
    after = rss_bytes()
    limiter = telemetry.limits.for_metric("http.server.request.duration")
    print(json.dumps({
        "ok": warm.count(200) + statuses.count(200), "requests": len(warm) + len(statuses),
        "growth_mb": (after - before) / 2**20, "second_half_mb": (after - middle) / 2**20,
        "tenant_series": limiter.tenants, "overflowed": telemetry.limits.overflow_counts()[
            "http.server.request.duration"], "late_tenant": limiter(f"tenant-{tenants - 1}"),
    }), flush=True)
    telemetry.shutdown(timeout=1)


if __name__ == "__main__":
    main()
