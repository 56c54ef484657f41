"""Macro benchmark of spotify-otel: ``python benchmarks/run.py [--quick] [--suites ...]``.

The servers run pinned to CPU 0 (``taskset``); ``wrk`` and the OTLP receiver (this process) run on
CPU 1. Variants: uninstrumented, vanilla OpenTelemetry, spotify-otel defaults, spotify-otel with 10 %
sampling. Rounds alternate between the variants in a rotating order; each round prints its ratios,
and the end prints the medians. See benchmarks/README.md for the results on the reference machine.

Suites:
  fastapi, django   saturation throughput (uvicorn 1 worker / gunicorn 1 gthread worker, 4 threads)
  latency           added p99 at fixed loads (0.5 and 0.25 x the bare saturation rate, FastAPI)
  export            span end -> arrival at the collector, defaults and low-latency setting (FastAPI, at half
                    of spotify-otel's saturation rate)
  memory            RSS growth over many requests from 10k tenants with the collector down (FastAPI)
  tradeoffs         (not in the default set) Django throughput with the settings that trade telemetry for
                    speed: SPOTIFY_OTEL_LOG_LEVEL=WARNING, SPOTIFY_OTEL_COST_CPU_TIME=false, both
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import export_latency, memory, throughput
from benchmarks.harness.load import wrk_path
from benchmarks.harness.servers import LOAD_CPU, pin_this_process, tradeoff_variants, variants
from benchmarks.harness.stats import median, table
from spotify_otel.receiver import OTLPReceiver, TelemetryStore

ALL_SUITES = ("fastapi", "django", "latency", "export", "memory")
QUICK_SUITES = ("fastapi", "export")
OPTIONAL_SUITES = ("tradeoffs",)


def log(message: str) -> None:
    """Print progress immediately."""
    print(message, flush=True)


def machine() -> str:
    """One line describing the machine (CPU model, cores, memory, Python)."""
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    import os

    return (f"{model}, {os.cpu_count()} CPUs, {mem_kb / 2**20:.1f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 1 s, suites fastapi+export")
    parser.add_argument("--suites", default=None,
                        help=f"comma-separated, from {','.join(ALL_SUITES + OPTIONAL_SUITES)} (default: all but "
                             f"{','.join(OPTIONAL_SUITES)})")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 5, quick 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections when saturating")
    parser.add_argument("--load-fractions", default="0.5,0.25",
                        help="fixed loads for the latency suite, as fractions of the bare saturation rate")
    parser.add_argument("--bare-rps", type=float, default=None,
                        help="bare FastAPI saturation rate when the fastapi suite is not run (default 4000)")
    parser.add_argument("--memory-requests", type=int, default=200_000)
    parser.add_argument("--memory-tenants", type=int, default=10_000)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.duration = args.duration or (1.0 if args.quick else 10.0)
    chosen = args.suites.split(",") if args.suites else list(QUICK_SUITES if args.quick else ALL_SUITES)
    unknown = set(chosen) - set(ALL_SUITES + OPTIONAL_SUITES)
    if unknown:
        parser.error(f"unknown suites {sorted(unknown)}; choose from {', '.join(ALL_SUITES + OPTIONAL_SUITES)}")
    args.suites = chosen
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the selected suites and print their tables."""
    args = parse(argv)
    if wrk_path() is None:
        log("wrk is not installed: apt-get install wrk")
        return 2
    pin_this_process(LOAD_CPU)
    log(f"machine: {machine()}")
    log(f"suites: {', '.join(args.suites)}; rounds {args.rounds} x {args.duration:.0f} s")
    started = time.monotonic()
    bare_rps: float | None = args.bare_rps
    spotify_rps: float | None = None
    with OTLPReceiver(store=TelemetryStore(max_items=20_000)) as rx:
        for suite, framework, chosen_variants in (("fastapi", "fastapi", variants("fastapi")),
                                                  ("django", "django", variants("django")),
                                                  ("tradeoffs", "django", tradeoff_variants("django"))):
            if suite not in args.suites:
                continue
            log(f"\n## Throughput: {framework}{' settings' if suite == 'tradeoffs' else ''} ({args.rounds} rounds x "
                f"{args.duration:.0f} s, {args.connections} connections)")
            servers = throughput.start_all(chosen_variants, rx.grpc_endpoint)
            try:
                result = throughput.throughput(servers, args.rounds, args.duration, args.connections, log)
                rx.store.clear()
            finally:
                throughput.stop_all(servers)
            log("\n" + throughput.throughput_table(result, list(servers)))
            if suite == "fastapi":
                bare_rps, spotify_rps = median(result.rps("bare")), median(result.rps("spotify"))
        rate = (bare_rps or 4000.0) / 2
        if "latency" in args.suites:
            for fraction in (float(f) for f in args.load_fractions.split(",")):
                fixed = (bare_rps or 4000.0) * fraction
                log(f"\n## Fixed load: FastAPI at {fixed:.0f} req/s ({fraction:g} x the bare saturation rate)")
                servers = throughput.start_all(variants("fastapi"), rx.grpc_endpoint)
                try:
                    result = throughput.fixed_load(servers, fixed, args.rounds, args.duration, 16, log)
                    rx.store.clear()
                finally:
                    throughput.stop_all(servers)
                log("\n" + throughput.latency_table(result, list(servers)))
        if "export" in args.suites:
            # a load the instrumented server sustains: half of its own saturation rate
            export_rate = (spotify_rps or 2 * rate / 3) / 2
            log(f"\n## Span end -> arrival at the collector (FastAPI, {export_rate:.0f} req/s)")
            rows = export_latency.measure(rx, "fastapi", export_rate, max(args.duration, 2), 16, log)
            rx.store.clear()
            log("\n" + export_latency.export_table(rows))
    if "memory" in args.suites:
        log(f"\n## Memory: {args.memory_requests} requests from {args.memory_tenants} tenants, collector down")
        data = memory.measure("fastapi", args.memory_requests, args.memory_tenants, max(args.duration, 1),
                              args.connections, log)
        log("\n" + table(list(data), [list(data.values())]))
    log(f"\ndone in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
