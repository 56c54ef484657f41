"""Tenant Analytics: who uses the platform, how much, and how well is each tenant served?"""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board
from ..panels import Q, bargauge, stat, table, timeseries
from ..thresholds import ERROR_RATIO, LATENCY_P95, TENANT_OVERFLOW

HTTP_COUNT = pq.sel(f"{pq.HTTP}_count", tenant=True)
LOGS = [links.tenant_logs()]
BY_TENANT = ("tenant_id",)


def build() -> Board:
    """The Tenant Analytics dashboard."""
    b = Board(
        "spotify-tenants",
        "Tenant Analytics",
        "Which tenants generate the traffic, errors, latency, API usage and users, and is any tenant "
        "pushing the per-metric tenant cap?",
        "Every series is one tenant: click it to open that tenant's logs in Elasticsearch. 'unknown' is "
        "traffic without a valid tenant; '__overflow__' gathers tenants beyond max_tenants (see the last "
        "row).",
        tags=("tenants",),
    )
    b.row("Usage")
    b.add(
        timeseries(
            "Requests per second by tenant",
            "HTTP requests per second per tenant.",
            "reqps",
            [Q(pq.sum_rate(HTTP_COUNT, BY_TENANT), "{{tenant_id}}")],
            links=LOGS,
            stack=True,
        )
    )
    b.add(
        bargauge(
            "Top tenants by requests",
            "The ten tenants with the most requests in the time range.",
            "short",
            [Q(f"topk(10, {pq.sum_increase(HTTP_COUNT, BY_TENANT)})", "{{tenant_id}}", instant=True)],
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "API calls by tenant",
            "Calls to internal/external APIs tracked by MetricsCollector.track_api_call, per tenant and API.",
            "cps",
            [
                Q(
                    pq.sum_rate(pq.sel("spotify_api_calls_total", tenant=True), ("tenant_id", "api")),
                    "{{tenant_id}} {{api}}",
                )
            ],
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "Active users by tenant",
            "Active users per tenant as last reported by the application.",
            "short",
            [
                Q(
                    f"sum by (tenant_id) ({pq.sel('spotify_business_active_users', tenant=True)})",
                    "{{tenant_id}}",
                )
            ],
            links=LOGS,
        )
    )
    b.row("Quality of service")
    b.add(
        timeseries(
            "5xx error ratio by tenant",
            "Share of 5xx responses per tenant.",
            "percentunit",
            [Q(pq.http_error_ratio(BY_TENANT), "{{tenant_id}}")],
            threshold=ERROR_RATIO,
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "p95 latency by tenant",
            "95th percentile request duration per tenant.",
            "s",
            [Q(pq.quantile(0.95, pq.HTTP, by=BY_TENANT), "{{tenant_id}}", exemplar=True)],
            threshold=LATENCY_P95,
            links=[*LOGS, links.traces("tenant_id", "tenant.id")],
        )
    )
    b.add(
        table(
            "Tenant summary",
            "Requests, 5xx error ratio and p95 latency per tenant over the time range.",
            "short",
            [
                Q(pq.sum_increase(HTTP_COUNT, BY_TENANT), instant=True, fmt="table"),
                Q(pq.http_error_ratio(BY_TENANT, window=pq.RANGE), instant=True, fmt="table"),
                Q(pq.quantile(0.95, pq.HTTP, by=BY_TENANT, window=pq.RANGE), instant=True, fmt="table"),
            ],
            columns={
                "tenant_id": "Tenant",
                "Value #A": "Requests",
                "Value #B": "5xx ratio",
                "Value #C": "p95 latency",
            },
            column_units={"5xx ratio": "percentunit", "p95 latency": "s"},
            links=LOGS,
        ),
        w=24,
    )
    b.row("Tenant cardinality")
    b.add(
        stat(
            "Distinct tenants (HTTP metrics)",
            "Tenant values holding their own series on http.server.request.duration, per service. Compare "
            "with the SDK's max_tenants.",
            "short",
            [Q(f"count by (job) (group by (job, tenant_id) ({pq.sel(f'{pq.HTTP}_count')}))", "{{job}}")],
            sparkline=False,
        ),
        w=6,
    )
    b.add(
        timeseries(
            "Measurements folded into __overflow__",
            "Measurements per second recorded as tenant '__overflow__' because max_tenants was reached, "
            "per metric. Non-zero: raise max_tenants or check for tenant-id spoofing.",
            "cps",
            [Q(pq.sum_rate(pq.sel("spotify_tenant_overflow_total"), ("metric",)), "{{metric}}")],
            threshold=TENANT_OVERFLOW,
        ),
        w=9,
    )
    b.add(
        timeseries(
            "Rejected tenant ids",
            "Tenant ids rejected by validation per second, by reason and source; those requests count as "
            "'unknown'.",
            "cps",
            [
                Q(
                    pq.sum_rate(pq.sel("spotify_tenant_rejected_total"), ("reason", "source")),
                    "{{reason}} ({{source}})",
                )
            ],
        ),
        w=9,
    )
    return b
