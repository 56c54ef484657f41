"""The ``telemetry`` component: each instrumented service's own export health, read back from Prometheus.

Every process set up by :func:`spotify_otel.init_telemetry` exports counters about its own telemetry
(``docs/metrics.md``, "Self-observability"); they reach Prometheus with ``job`` = ``service.name`` and
``instance`` = ``service.instance.id``:

* ``spotify_otel_exported_total{signal}`` and ``spotify_otel_export_failed_total{signal}``: items
  exported, and items lost after the exporter's retries;
* ``otel_sdk_processor_{span,log}_processed_total{error_type}``: with ``error_type`` set
  (``queue_full``, ``already_shutdown``), items the batch processor DROPPED before export;
* ``otel_sdk_processor_{span,log}_queue_size`` / ``..._queue_capacity``: how full the batch queue is.

:func:`assess` sends the four instant queries of :func:`queries` and judges every service (``job``)
and signal: unhealthy when anything was dropped or failed within the window, or a queue is at or above
the fill threshold. A counter series that appeared within the window counts from zero: ``increase``
alone misses what was counted before a series' first sample (a process failing from its start).
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spotify_otel.health._http import ProbeError, Response

SIGNALS: tuple[str, ...] = ("traces", "metrics", "logs")
PROCESSORS: dict[str, str] = {"traces": "span", "logs": "log"}  # signals with a batch processor
SERIES = "spotify_otel_exported_total, spotify_otel_export_failed_total, otel_sdk_processor_*"
NO_JOB = "<no job>"  # a series whose job label was relabelled away
MAX_LISTED = 4  # problems named in the one-line reason; details carry them all

Get = Callable[[str], Response]
Verdict = tuple[bool, str, dict[str, Any]]


def format_window(seconds: int) -> str:
    """``300`` -> ``5m``, ``5400`` -> ``90m``, ``7200`` -> ``2h``, ``45`` -> ``45s``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def window_increase(selector: str, window: str) -> str:
    """PromQL: what ``selector`` counted in the last ``window``, a series born within it counting from 0."""
    existed_before = f"(increase({selector}[{window}]) and {selector} offset {window})"
    return f"{existed_before} or ({selector} unless {selector} offset {window})"


def _per_processor(expression: Callable[[str], str]) -> str:
    """``expression(kind)`` for spans and logs, each labelled with its signal, joined by ``or``."""
    parts = [
        f'label_replace({expression(kind)}, "signal", "{signal}", "", ".*")' for signal, kind in PROCESSORS.items()
    ]
    return " or ".join(parts)


def queries(window_s: int) -> dict[str, str]:
    """The instant queries, keyed by what they measure; every result carries ``job`` and ``signal``."""
    window = format_window(window_s)

    def dropped(kind: str) -> str:
        return window_increase(f'otel_sdk_processor_{kind}_processed_total{{error_type!=""}}', window)

    def fill(kind: str) -> str:
        size, capacity = f"otel_sdk_processor_{kind}_queue_size", f"otel_sdk_processor_{kind}_queue_capacity"
        return f"{size} / on (job, instance, otel_component_name) {capacity}"

    return {
        "exported": f"sum by (job, signal) ({window_increase('spotify_otel_exported_total', window)})",
        "failed": f"sum by (job, signal) ({window_increase('spotify_otel_export_failed_total', window)})",
        "dropped": f"sum by (job, signal, error_type) ({_per_processor(dropped)})",
        "queue_fill": f"max by (job, signal) ({_per_processor(fill)})",
    }


@dataclass
class SignalStats:
    """What Prometheus shows for one service and signal (counts are over the window)."""

    exported: float | None = None
    failed: float | None = None
    dropped: dict[str, float] = field(default_factory=dict)  # by error_type
    queue_fill: float | None = None  # worst instance, size / capacity

    @property
    def dropped_total(self) -> float | None:
        """Items dropped in the window; None when the service reports no batch processor for the signal."""
        if not self.dropped and self.queue_fill is None:
            return None
        return sum(self.dropped.values(), 0.0)

    def problems(self, threshold_pct: float) -> list[str]:
        """Short phrases for what is wrong (empty when healthy)."""
        found = []
        dropped = self.dropped_total or 0.0
        if dropped > 0:
            reasons = ", ".join(sorted(k for k, v in self.dropped.items() if v > 0))
            found.append(f"dropped {dropped:.0f} ({reasons})")
        if self.failed:
            found.append(f"failed {self.failed:.0f}")
        if self.queue_fill is not None and self.queue_fill * 100.0 >= threshold_pct:
            found.append(f"queue {self.queue_fill * 100.0:.0f}% full")
        return found

    def to_dict(self, window_s: int) -> dict[str, Any]:
        """The JSON form shown in the check's details."""
        dropped = self.dropped_total
        return {
            "exported": _round(self.exported),
            "exported_per_s": None if self.exported is None else round(self.exported / window_s, 3),
            "failed": _round(self.failed),
            "dropped": _round(dropped),
            "dropped_by_reason": {k: _round(v) for k, v in sorted(self.dropped.items())},
            "queue_fill_pct": None if self.queue_fill is None else round(self.queue_fill * 100.0, 1),
        }


Services = dict[str, dict[str, SignalStats]]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _vector(get: Get, expression: str) -> list[tuple[dict[str, str], float]]:
    """Run one instant query; returns (labels, value) pairs, skipping NaN and infinities."""
    response = get("/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
    data = response.json()
    if not response.ok:
        error = data.get("error") if isinstance(data, dict) else None
        raise ProbeError(response.error_reason() + (f": {error}" if error else ""))
    result = (data.get("data") or {}).get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        raise ProbeError(f"{response.path} did not return a result vector")
    samples = []
    for item in result:
        try:
            value = float(item["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if math.isfinite(value):
            samples.append((dict(item.get("metric") or {}), value))
    return samples


def _record(stats: SignalStats, kind: str, labels: dict[str, str], value: float) -> None:
    if kind == "exported":
        stats.exported = value
    elif kind == "failed":
        stats.failed = value
    elif kind == "dropped":
        stats.dropped[labels.get("error_type", "unknown")] = value
    else:
        stats.queue_fill = value


def collect(get: Get, window_s: int) -> Services:
    """Every service (job) and signal that Prometheus has self-metrics for, with their numbers."""
    services: Services = {}
    for kind, expression in queries(window_s).items():
        for labels, value in _vector(get, expression):
            signal = labels.get("signal", "")
            if signal in SIGNALS:
                job = labels.get("job") or NO_JOB
                stats = services.setdefault(job, {}).setdefault(signal, SignalStats())
                _record(stats, kind, labels, value)
    return services


def _ordered(services: Services) -> list[tuple[str, str, SignalStats]]:
    return [
        (job, signal, services[job][signal])
        for job in sorted(services)
        for signal in SIGNALS
        if signal in services[job]
    ]


def _healthy_reason(services: Services, window_s: int) -> str:
    rates = []
    for signal in SIGNALS:
        values = [v for s in services.values() if signal in s and (v := s[signal].exported) is not None]
        if values:
            rate = sum(values) / window_s
            rates.append(f"{signal} {rate:.1f}/s" if rate >= 1 else f"{signal} {rate:.3f}/s")
    count = len(services)
    noun = "service" if count == 1 else "services"
    exporting = f"; exporting {', '.join(rates)}" if rates else ""
    return f"{count} {noun}, nothing dropped or failed in the last {format_window(window_s)}{exporting}"


def judge(services: Services, window_s: int, threshold_pct: float) -> Verdict:
    """Healthy or not, the one-line reason and the details, from collected numbers."""
    problems = [
        (f"{job}/{signal}", f"{job} {signal} {', '.join(found)}")
        for job, signal, stats in _ordered(services)
        if (found := stats.problems(threshold_pct))
    ]
    details: dict[str, Any] = {
        "window": format_window(window_s),
        "queue_threshold_pct": threshold_pct,
        "services": {
            job: {sig: services[job][sig].to_dict(window_s) for sig in SIGNALS if sig in services[job]}
            for job in sorted(services)
        },
        "unhealthy": [key for key, _ in problems],
    }
    if not services:
        return False, f"no SDK self-observability series in Prometheus ({SERIES})", details
    if problems:
        listed = "; ".join(text for _, text in problems[:MAX_LISTED])
        more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        return False, f"last {format_window(window_s)}: {listed}{more}", details
    return True, _healthy_reason(services, window_s), details


def assess(get: Get, window_s: int, threshold_pct: float) -> Verdict:
    """Query Prometheus through ``get`` (a path -> Response function) and judge the self-metrics.

    Raises:
        ProbeError: Prometheus is unreachable or answers a query with an error.
    """
    return judge(collect(get, window_s), window_s, threshold_pct)
