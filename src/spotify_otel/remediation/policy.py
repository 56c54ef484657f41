"""Execution policy state: deduplication by alert fingerprint and per-rule rate limits (in memory)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Deduplicator:
    """Remembers fingerprints for ``window`` seconds: one remediation per alert within the window."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._seen: dict[str, float] = {}

    def seen(self, fingerprint: str) -> bool:
        """Whether ``fingerprint`` was recorded less than ``window`` seconds ago."""
        now = self._clock()
        self._seen = {fp: at for fp, at in self._seen.items() if now - at < self.window}
        return fingerprint in self._seen

    def record(self, fingerprint: str) -> None:
        """Remember ``fingerprint`` from now on."""
        self._seen[fingerprint] = self._clock()


class RateLimiter:
    """At most ``max_runs`` runs per ``period`` seconds (sliding window), per key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._runs: dict[str, deque[float]] = {}

    def allow(self, key: str, max_runs: int, period: float) -> bool:
        """Whether another run for ``key`` fits; does not record it (see :meth:`record`)."""
        runs = self._runs.setdefault(key, deque())
        now = self._clock()
        while runs and now - runs[0] >= period:
            runs.popleft()
        return len(runs) < max_runs

    def record(self, key: str) -> None:
        """Count one run for ``key`` now."""
        self._runs.setdefault(key, deque()).append(self._clock())
