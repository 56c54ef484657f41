"""``MetricsCollector``: the seed's API for application and business KPIs, as thin typed helpers over
OpenTelemetry instruments (no parallel metrics system).

Example (the seed's call works as written; ``duration`` is in **milliseconds**)::

    from spotify_otel.metrics import MetricsCollector

    metrics = MetricsCollector()
    metrics.track_api_call("spotify_search", duration=120, tenant_id="tenant_1")
"""

from __future__ import annotations

from opentelemetry import metrics

from spotify_otel.metrics._labels import label_value, tenant_value
from spotify_otel.tenant import TENANT_ATTRIBUTE

_API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class MetricsCollector:
    """Application and business metrics. Every ``tenant_id`` defaults to the current tenant, is validated
    and goes through the per-metric tenant cap; other string labels are validated and capped too."""

    def __init__(self, meter_name: str = "spotify_otel.platform") -> None:
        meter = metrics.get_meter(meter_name)
        self._api_calls = meter.create_counter("spotify.api.calls", unit="{call}",
                                               description="Calls to external or internal APIs.")
        self._api_duration = meter.create_histogram(
            "spotify.api.call.duration", unit="s", description="Duration of API calls.",
            explicit_bucket_boundaries_advisory=list(_API_BUCKETS))
        self._active_users = meter.create_gauge("spotify.business.active_users", unit="{user}",
                                                description="Active users per tenant.")
        self._conversions = meter.create_counter("spotify.business.conversions", unit="{conversion}",
                                                 description="Business conversions per tenant and type.")
        self._revenue_impact = meter.create_counter("spotify.business.revenue_impact", unit="{USD}",
                                                    description="Estimated revenue lost to incidents.")
        self._queue_length = meter.create_gauge("spotify.app.queue.length", unit="{item}",
                                                description="Length of the application's own queues.")

    def track_api_call(self, api: str, duration: float, tenant_id: str | None = None, success: bool = True) -> None:
        """Record one call to ``api`` that took ``duration`` **milliseconds** (as in the seed)."""
        attributes = {
            "api": label_value("spotify.api.calls", "api", api),
            "outcome": "success" if success else "error",
            TENANT_ATTRIBUTE: tenant_value("spotify.api.calls", tenant_id),
        }
        self._api_calls.add(1, attributes)
        self._api_duration.record(max(0.0, float(duration)) / 1000.0, attributes)

    def set_active_users(self, count: int, tenant_id: str | None = None) -> None:
        """Set the number of active users of a tenant."""
        self._active_users.set(max(0, int(count)), {
            TENANT_ATTRIBUTE: tenant_value("spotify.business.active_users", tenant_id)})

    def track_conversion(self, conversion_type: str, tenant_id: str | None = None, count: int = 1) -> None:
        """Count business conversions (``trial_to_paid``, ``playlist_saved`` ...)."""
        self._conversions.add(max(0, int(count)), {
            "conversion.type": label_value("spotify.business.conversions", "conversion.type", conversion_type),
            TENANT_ATTRIBUTE: tenant_value("spotify.business.conversions", tenant_id)})

    def record_revenue_impact(self, amount_usd: float, incident: str, tenant_id: str | None = None) -> None:
        """Add an incident's estimated revenue impact (USD, >= 0)."""
        self._revenue_impact.add(max(0.0, float(amount_usd)), {
            "incident": label_value("spotify.business.revenue_impact", "incident", incident),
            TENANT_ATTRIBUTE: tenant_value("spotify.business.revenue_impact", tenant_id)})

    def set_queue_length(self, queue: str, length: int, tenant_id: str | None = None) -> None:
        """Report the current length of one of the application's queues (per tenant when given)."""
        attributes = {"queue": label_value("spotify.app.queue.length", "queue", queue)}
        if tenant_id is not None:
            attributes[TENANT_ATTRIBUTE] = tenant_value("spotify.app.queue.length", tenant_id)
        self._queue_length.set(max(0, int(length)), attributes)
