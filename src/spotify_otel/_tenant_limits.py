"""Bounded tenant cardinality per metric.

Each metric instrument that carries ``tenant.id`` owns a :class:`TenantLimiter`: the first
``max_tenants`` distinct tenants keep their own value; later ones are recorded as ``__overflow__``.
This sits on top of the SDK's per-instrument cardinality limit and bounds memory even under cumulative
temporality, where series are never evicted: at most ``max_tenants + 2`` tenant values (the default
tenant and the overflow value are always allowed) times the other attributes' combinations.
"""

from __future__ import annotations

import threading

OVERFLOW_TENANT = "__overflow__"


class TenantLimiter:
    """Maps a tenant id to itself while under the cap, else to :data:`OVERFLOW_TENANT`."""

    def __init__(self, max_tenants: int, always_allowed: tuple[str, ...] = ()) -> None:
        self.max_tenants = max_tenants
        self.overflowed = 0
        self._seen: set[str] = set(always_allowed) | {OVERFLOW_TENANT}
        self._extra = len(self._seen)
        self._lock = threading.Lock()

    def __call__(self, tenant: str) -> str:
        if tenant in self._seen:  # the hot path: a set lookup, no lock
            return tenant
        with self._lock:
            if tenant in self._seen:
                return tenant
            if len(self._seen) - self._extra >= self.max_tenants:
                self.overflowed += 1
                return OVERFLOW_TENANT
            self._seen.add(tenant)
            return tenant

    @property
    def tenants(self) -> int:
        """Distinct tenants currently holding their own series."""
        return len(self._seen) - self._extra


class TenantLimits:
    """One :class:`TenantLimiter` per metric name, shared by every instrument of that metric."""

    def __init__(self, max_tenants: int, default_tenant: str = "unknown") -> None:
        self.max_tenants = max_tenants
        self.default_tenant = default_tenant
        self._limiters: dict[str, TenantLimiter] = {}
        self._lock = threading.Lock()

    def for_metric(self, metric_name: str, max_values: int | None = None) -> TenantLimiter:
        """The limiter of ``metric_name`` (created on first use, with ``max_values`` or ``max_tenants``)."""
        limiter = self._limiters.get(metric_name)
        if limiter is None:
            with self._lock:
                limiter = self._limiters.setdefault(
                    metric_name, TenantLimiter(max_values or self.max_tenants, (self.default_tenant,))
                )
        return limiter

    def overflow_counts(self) -> dict[str, int]:
        """Recordings folded into ``__overflow__`` so far, per metric name."""
        return {name: limiter.overflowed for name, limiter in list(self._limiters.items())}
