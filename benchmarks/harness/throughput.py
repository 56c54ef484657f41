"""Throughput and fixed-load latency: alternating rounds over the variants, ratios per round and medians."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.harness.load import LoadResult, run_wrk
from benchmarks.harness.servers import Server, Variant
from benchmarks.harness.stats import median, ratio, table

RATIOS = (("spotify", "bare"), ("spotify", "vanilla"), ("spotify-sampled", "bare"), ("vanilla", "bare"))


def ratio_pairs(names: list[str]) -> list[tuple[str, str]]:
    """The ratios reported for these variants: :data:`RATIOS`, then any other variant against bare."""
    pairs = [(a, b) for a, b in RATIOS if a in names and b in names]
    if "bare" in names:
        pairs += [(name, "bare") for name in names if name != "bare" and (name, "bare") not in pairs]
    return pairs


@dataclass
class Rounds:
    """Results per round, keyed by variant name."""

    results: list[dict[str, LoadResult]] = field(default_factory=list)

    def rps(self, name: str) -> list[float]:
        return [r[name].rps for r in self.results if name in r]

    def ratios(self, a: str, b: str) -> list[float]:
        return [ratio(r[a].rps, r[b].rps) for r in self.results if a in r and b in r]


def start_all(variants: list[Variant], endpoint: str) -> dict[str, Server]:
    """Start every variant (in parallel) and wait until each answers."""
    servers = {v.name: Server(v, endpoint) for v in variants}
    try:
        for server in servers.values():
            server.wait_ready()
    except BaseException:
        stop_all(servers)
        raise
    return servers


def stop_all(servers: dict[str, Server]) -> None:
    """Stop every server."""
    for server in servers.values():
        server.stop()


def _order(names: list[str], round_index: int) -> list[str]:
    shift = round_index % len(names)
    order = names[shift:] + names[:shift]
    return order if round_index % 2 == 0 else order[::-1]


def throughput(servers: dict[str, Server], rounds: int, duration: float, connections: int,
               log: Callable[[str], None]) -> Rounds:
    """Saturate each server in turn, ``rounds`` times, in a rotating order; print per-round ratios."""
    names = list(servers)
    for name in names:  # warm up: imports, caches, first exports
        run_wrk(servers[name].url, min(duration, 2), connections)
    result = Rounds()
    for index in range(rounds):
        current: dict[str, LoadResult] = {}
        for name in _order(names, index):
            current[name] = run_wrk(servers[name].url, duration, connections)
        result.results.append(current)
        rps = "  ".join(f"{n}={current[n].rps:.0f}" for n in names)
        ratios = "  ".join(f"{a}/{b}={ratio(current[a].rps, current[b].rps):.2f}" for a, b in ratio_pairs(names))
        log(f"  round {index + 1}: req/s {rps} | {ratios}")
    return result


def throughput_table(result: Rounds, names: list[str]) -> str:
    """Median req/s per variant and median of the per-round ratios."""
    rows: list[list[object]] = [[n, median(result.rps(n)), ratio(median(result.rps(n)), median(result.rps("bare")))]
                                for n in names]
    text = table(["variant", "median req/s", "ratio of medians vs bare"], rows)
    ratio_rows = [[f"{a} / {b}", median(result.ratios(a, b)), min(result.ratios(a, b), default=0.0),
                   max(result.ratios(a, b), default=0.0)] for a, b in ratio_pairs(names)]
    return text + "\n\n" + table(["per-round ratio", "median", "min", "max"], ratio_rows)


def fixed_load(servers: dict[str, Server], rate: float, rounds: int, duration: float, connections: int,
               log: Callable[[str], None]) -> Rounds:
    """Each server at the same paced request rate; latency percentiles per round."""
    delay_ms = connections * 1000.0 / rate
    names = list(servers)
    result = Rounds()
    for index in range(rounds):
        current = {name: run_wrk(servers[name].url, duration, connections, delay_ms=delay_ms)
                   for name in _order(names, index)}
        result.results.append(current)
        log(f"  round {index + 1}: " + "  ".join(
            f"{n}: {current[n].rps:.0f} req/s p50={current[n].p50_us / 1000:.2f} ms "
            f"p99={current[n].p99_us / 1000:.2f} ms" for n in names))
    return result


def latency_table(result: Rounds, names: list[str]) -> str:
    """Median p50/p99 per variant and the median added p99 versus bare."""
    rows = []
    for name in names:
        p50 = median([r[name].p50_us / 1000 for r in result.results])
        p99 = median([r[name].p99_us / 1000 for r in result.results])
        added = median([(r[name].p99_us - r["bare"].p99_us) / 1000 for r in result.results])
        rows.append([name, median(result.rps(name)), p50, p99, added])
    return table(["variant", "achieved req/s", "p50 ms", "p99 ms", "added p99 ms (median of rounds)"], rows)
