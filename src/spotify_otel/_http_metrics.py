"""HTTP server metrics with the tenant: ``http.server.request.duration`` (stable semantic
conventions, seconds) and ``http.server.active_requests``, recorded once per request by our own
middleware. The framework instrumentations build metric attributes from fixed allow-lists that cannot
carry ``tenant.id``, so their own metrics are switched off and these replace them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from spotify_otel._lean_histogram import LeanHistogram
from spotify_otel._tenant_limits import TenantLimits
from spotify_otel.metrics.accounting import RequestAccounting, no_cpu_clock
from spotify_otel.tenant import TENANT_ATTRIBUTE

DURATION = "http.server.request.duration"
ACTIVE = "http.server.active_requests"
# Semantic-convention advisory buckets (seconds), extended for slow AI calls.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})

Attributes = dict[str, str | int]
ActiveKey = tuple[str, str, str]  # method, scheme, tenant
DurationKey = tuple[str, str, int, str, str | None, str | None]  # method, scheme, status, tenant, route, error


def normalize_method(method: str) -> str:
    """Known methods as is; anything else ``_OTHER`` (a client cannot create series with methods)."""
    return method if method in _KNOWN_METHODS else "_OTHER"


class HttpServerMetrics:
    """Records the two server metrics; one instance per process, shared by every integration."""

    def __init__(self, meter: Meter, limits: TenantLimits, accounting: RequestAccounting | None = None) -> None:
        self.accounting = accounting
        # read by the middlewares around each request (nothing to read when nothing is accounted)
        self.cpu_clock: Callable[[], float] = accounting.cpu_clock if accounting is not None else no_cpu_clock
        self._duration = meter.create_histogram(
            DURATION, unit="s", description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self._lean_duration = LeanHistogram(self._duration)  # the SDK's aggregation, without its bookkeeping
        # In-flight requests are counted in-process and observed at collection: no instrument call on the
        # request path (two measurements per request measured -5 % throughput).
        self._active: dict[ActiveKey, int] = {}
        self._active_lock = threading.Lock()
        meter.create_observable_up_down_counter(
            ACTIVE, [self._observe_active], unit="{request}", description="Number of active HTTP server requests."
        )
        self._duration_tenants = limits.for_metric(DURATION)
        self._active_tenants = limits.for_metric(ACTIVE)
        self.default_tenant = limits.default_tenant

    def started(self, method: str, scheme: str, tenant: str | None) -> ActiveKey:
        """Count a request in flight; returns the key to pass to :meth:`finished`."""
        key = (method, scheme, self._active_tenants(tenant or self.default_tenant))
        with self._active_lock:
            self._active[key] = self._active.get(key, 0) + 1
        return key

    def _observe_active(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._active_lock:
            items = list(self._active.items())
        return [Observation(count, {"http.request.method": method, "url.scheme": scheme, TENANT_ATTRIBUTE: tenant})
                for (method, scheme, tenant), count in items]

    def finished(
        self,
        active: ActiveKey,
        duration_s: float,
        status: int,
        route: str | None,
        tenant: str | None,
        error_type: str | None = None,
        cpu_s: float = 0.0,
        bytes_in: int = 0,
        bytes_out: int = 0,
    ) -> None:
        """Record the request's duration, take it out of the in-flight count, and account its cost and
        SLA classification."""
        with self._active_lock:
            self._active[active] -= 1
        if error_type is None and status >= 500:
            error_type = str(status)
        key: DurationKey = (active[0], active[1], status, self._duration_tenants(tenant or self.default_tenant),
                            route or None, error_type)
        self._lean_duration.record(duration_s, key, duration_attributes)
        if self.accounting is not None:
            self.accounting.record(tenant or self.default_tenant, route, status, duration_s, cpu_s, bytes_in,
                                   bytes_out)


def duration_attributes(key: DurationKey) -> Attributes:
    """The ``http.server.request.duration`` attributes of a :data:`DurationKey`."""
    method, scheme, status, tenant, route, error_type = key
    attributes: Attributes = {
        "http.request.method": method,
        "url.scheme": scheme,
        "http.response.status_code": status,
        TENANT_ATTRIBUTE: tenant,
    }
    if route:
        attributes["http.route"] = route
    if error_type is not None:
        attributes["error.type"] = error_type
    return attributes
