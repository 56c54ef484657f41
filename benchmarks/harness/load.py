"""Load generation with ``wrk`` (one thread, pinned to the load CPU) and its machine-readable summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness.servers import LOAD_CPU, pinned

SCRIPT = Path(__file__).resolve().parents[1] / "lua" / "tenants.lua"


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: requests, errors and latency percentiles (microseconds)."""

    requests: int
    duration_s: float
    errors: int
    non2xx: int
    p50_us: float
    p90_us: float
    p99_us: float
    mean_us: float

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


def wrk_path() -> str | None:
    """The wrk binary, or None."""
    return shutil.which("wrk")


def run_wrk(url: str, duration_s: float, connections: int = 32, tenants: int = 50, delay_ms: float = 0.0,
            max_requests: int = 0, timeout_s: float = 10.0) -> LoadResult:
    """Run wrk against ``url`` and parse the ``BENCH {...}`` line printed by the Lua script."""
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    env = dict(os.environ, BENCH_TENANTS=str(tenants), BENCH_DELAY_MS=f"{delay_ms:.3f}",
               BENCH_MAX_REQUESTS=str(max_requests))
    argv = pinned([binary, "-t1", f"-c{connections}", f"-d{max(duration_s, 1):.0f}s", f"--timeout={timeout_s:.0f}s",
                   "-s", str(SCRIPT), url], LOAD_CPU)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration_s + 120, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH "):])
            return LoadResult(data["requests"], data["duration_us"] / 1e6, data["errors"], data["non2xx"],
                              data["p50_us"], data["p90_us"], data["p99_us"], data["mean_us"])
    raise RuntimeError(f"wrk printed no summary (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
