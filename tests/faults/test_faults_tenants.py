"""10k tenants against a collector that is down: series stay bounded and memory stays flat.

A scaled-down version of the benchmark's 200k-request measurement (``python benchmarks/run.py
--suites memory``): 20k requests from 10k tenants, in process (a child process, so that pytest's log
capture is not measured), with nothing listening on the OTLP endpoint.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from spotify_otel._tenant_limits import OVERFLOW_TENANT

REQUESTS, TENANTS, MAX_TENANTS = 20_000, 10_000, 100
# What may legitimately grow, with the default queue sizes: the span queue (2048 finished spans of
# ~14 attributes, ~4 KB each in Python: ~8 MB), the log queue (2048 records, ~2 KB: ~4 MB), one batch
# being encoded or retried per signal (~1 MB), metric series capped at (MAX_TENANTS + 2) tenants per
# instrument (~1 MB), the encoder's bounded key/value cache (~2 MB): about 16 MB, plus allocator arenas
# that CPython does not hand back. Once the queues are full nothing may keep growing: the second half
# of the requests (10k more tenants' worth) must add almost nothing.
BOUND_MB = 48
SECOND_HALF_BOUND_MB = 8


def test_ten_thousand_tenants_with_collector_down_bounded_series_and_memory() -> None:
    probe = Path(__file__).with_name("_memory_probe.py")
    done = subprocess.run([sys.executable, str(probe), str(REQUESTS), str(TENANTS), str(MAX_TENANTS)],
                          capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    assert result["ok"] == result["requests"] == REQUESTS + 3000
    assert result["tenant_series"] == MAX_TENANTS  # 10 warm-up tenants + the first 90 new ones ...
    own_series = MAX_TENANTS - 10  # ... each of those 90 seen twice (i and i + 10k); all others fold
    assert result["overflowed"] == REQUESTS - 2 * own_series
    assert result["late_tenant"] == OVERFLOW_TENANT
    assert result["growth_mb"] < BOUND_MB, f"RSS grew {result['growth_mb']:.1f} MB"
    assert result["second_half_mb"] < SECOND_HALF_BOUND_MB, f"RSS still growing: {result['second_half_mb']:.1f} MB"
