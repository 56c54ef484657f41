"""Multi-window multi-burn-rate alert windows (Google SRE workbook, chapter 5, table 5-8).

Each alert pairs a long window with a short one (a twelfth of it) and fires when both burn the
error budget faster than ``burn_rate``. The workbook states the windows as the share of a 30-day
budget they consume; burn rates are derived from that share and the SLO window, so a 28-day or
90-day SLO keeps the same meaning (2% of its budget in one hour pages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_DURATION = re.compile(r"(\d+)([mhdw])")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Seconds in a single-unit Prometheus duration such as ``5m``, ``6h``, ``30d`` or ``4w``."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30d, 4w or 6h")
    return int(match.group(1)) * _SECONDS[match.group(2)]


@dataclass(frozen=True)
class BurnWindow:
    """One window pair: alert when the error ratio exceeds ``burn_rate * budget`` over both windows."""

    severity: str  # "page" or "ticket"
    long: str
    short: str
    budget_share: Decimal  # share of the whole budget consumed at the threshold during ``long``

    def burn_rate(self, slo_window_seconds: int) -> Decimal:
        """The burn-rate factor for an SLO over ``slo_window_seconds`` (14.4 for 1h/2% over 30 days)."""
        rate = self.budget_share * slo_window_seconds / parse_duration(self.long)
        return rate.quantize(Decimal("0.0001"))


BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("page", "1h", "5m", Decimal("0.02")),
    BurnWindow("page", "6h", "30m", Decimal("0.05")),
    BurnWindow("ticket", "1d", "2h", Decimal("0.10")),
    BurnWindow("ticket", "3d", "6h", Decimal("0.10")),
)


def recorded_windows() -> list[str]:
    """Every window an SLI ratio is recorded for, shortest first."""
    windows = {w for pair in BURN_WINDOWS for w in (pair.long, pair.short)}
    return sorted(windows, key=parse_duration)
