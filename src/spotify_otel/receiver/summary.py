"""Per-tenant request summary from SERVER spans: requests, errors, error %, p50/p95/p99 latency."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from spotify_otel.receiver.models import ReceivedSpan
from spotify_otel.receiver.render import Style

NO_TENANT = "(none)"
LATENCY_WINDOW = 10_000
"""Latencies kept per tenant for the percentiles (the most recent ones)."""


def is_error(span: ReceivedSpan) -> bool:
    """A request failed: status ERROR or an HTTP response status >= 500."""
    if span.status_code == "ERROR":
        return True
    status = span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))
    try:
        return status is not None and int(status) >= 500
    except (TypeError, ValueError):
        return False


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of an ascending list; NaN for an empty list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class TenantStats:
    """Counters and a bounded latency window for one tenant."""

    requests: int = 0
    errors: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

    @property
    def error_pct(self) -> float:
        """Errors as a percentage of requests."""
        return 100.0 * self.errors / self.requests if self.requests else 0.0


class Summary:
    """Accumulates what the console has seen and renders the summary table."""

    def __init__(self) -> None:
        self.tenants: dict[str, TenantStats] = {}
        self.spans = 0
        self.logs = 0
        self.points = 0
        self.metric_names: set[str] = set()
        self.changed = False

    def add_spans(self, spans: Iterable[ReceivedSpan]) -> None:
        """Count spans; SERVER spans feed their tenant's row."""
        for span in spans:
            self.spans += 1
            self.changed = True
            if span.kind != "SERVER":
                continue
            stats = self.tenants.setdefault(span.tenant or NO_TENANT, TenantStats())
            stats.requests += 1
            stats.errors += is_error(span)
            stats.latencies_ms.append(span.duration_ms)

    def add_logs(self, count: int) -> None:
        """Count received log records."""
        self.logs += count
        self.changed = self.changed or count > 0

    def add_points(self, names: Iterable[str]) -> None:
        """Count received metric points (one name per point)."""
        for name in names:
            self.points += 1
            self.metric_names.add(name)
            self.changed = True

    def render(self, style: Style, title: str = "summary") -> list[str]:
        """The table: a title line with totals, a header and one row per tenant (most requests first)."""
        self.changed = False
        head = (
            f"── {title} {time.strftime('%H:%M:%S')} · {self.spans} spans · {self.logs} logs · "
            f"{self.points} metric points ({len(self.metric_names)} metrics) ──"
        )
        lines = [style(head, "bold")]
        if not self.tenants:
            lines.append("   no SERVER spans received yet")
            return lines
        lines.append(f"   {'tenant':<20} {'requests':>8} {'errors':>7} {'error%':>7} "
                     f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")  # fmt: skip
        for tenant, stats in sorted(self.tenants.items(), key=lambda kv: (-kv[1].requests, kv[0])):
            lat = sorted(stats.latencies_ms)
            p50, p95, p99 = (percentile(lat, q) for q in (50, 95, 99))
            pct = f"{stats.error_pct:6.1f}%"
            row = (f"   {tenant:<20} {stats.requests:>8} {stats.errors:>7} "
                   f"{style(pct, 'red') if stats.errors else pct} {p50:>9.1f} {p95:>9.1f} {p99:>9.1f}")  # fmt: skip
            lines.append(row)
        return lines
