"""Business KPIs: users, conversions, revenue lost to incidents, application queues."""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board
from ..panels import Q, bargauge, stat, timeseries

LOGS = [links.tenant_logs()]
USERS = pq.sel("spotify_business_active_users", tenant=True)
CONVERSIONS = pq.sel("spotify_business_conversions_total", tenant=True)
REVENUE = pq.sel("spotify_business_revenue_impact_total", tenant=True)
REQUESTS = pq.sel("spotify_cost_requests_total", tenant=True)


def build() -> Board:
    """The Business KPIs dashboard."""
    b = Board(
        "spotify-business",
        "Business KPIs",
        "How many users are active, how many convert, how much revenue did incidents cost, and are the "
        "application's queues keeping up?",
        "Totals (stats, bars) cover the selected time range; time series show the trend. Per-tenant series "
        "link to that tenant's logs.",
        tags=("business",),
    )
    b.row("Users and conversions")
    b.add(
        stat(
            "Active users",
            "Active users summed over the selected tenants, as last reported.",
            "short",
            [Q(f"sum({USERS})")],
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Conversions",
            "Conversions of every type in the time range.",
            "short",
            [Q(pq.sum_increase(CONVERSIONS))],
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Conversions per 1000 requests",
            "Conversions in the time range per 1000 requests served.",
            "short",
            [Q(f"1000 * {pq.sum_increase(CONVERSIONS)}\n/ {pq.sum_increase(REQUESTS)}")],
            decimals=2,
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Revenue lost to incidents",
            "Estimated revenue lost to incidents in the time range.",
            "currencyUSD",
            [Q(pq.sum_increase(REVENUE))],
            decimals=2,
        ),
        w=6,
        h=5,
    )
    b.add(
        timeseries(
            "Active users by tenant",
            "Active users per tenant.",
            "short",
            [Q(f"sum by (tenant_id) ({USERS})", "{{tenant_id}}")],
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "Conversions by type",
            "Conversions per second by type.",
            "cps",
            [Q(pq.sum_rate(CONVERSIONS, ("conversion_type",)), "{{conversion_type}}")],
            stack=True,
        )
    )
    b.add(
        bargauge(
            "Conversions by tenant",
            "Conversions per tenant in the time range.",
            "short",
            [Q(pq.sum_increase(CONVERSIONS, ("tenant_id",)), "{{tenant_id}}", instant=True)],
            links=LOGS,
        )
    )
    b.row("Incidents and queues")
    b.add(
        bargauge(
            "Revenue impact by incident",
            "Estimated revenue lost per incident in the time range.",
            "currencyUSD",
            [Q(pq.sum_increase(REVENUE, ("incident",)), "{{incident}}", instant=True)],
        )
    )
    b.add(
        timeseries(
            "Revenue impact by tenant",
            "Revenue lost to incidents per hour, per tenant.",
            "currencyUSD",
            [Q(f"3600 * {pq.sum_rate(REVENUE, ('tenant_id',))}", "{{tenant_id}}")],
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "Application queue lengths",
            "Items waiting in the application's own queues.",
            "short",
            [Q(f"sum by (queue) ({pq.sel('spotify_app_queue_length')})", "{{queue}}")],
        )
    )
    b.add(
        timeseries(
            "API call success ratio",
            "Share of tracked API calls with outcome=success, per API.",
            "percentunit",
            [
                Q(
                    pq.ratio(
                        pq.sel("spotify_api_calls_total", 'outcome="success"', tenant=True),
                        pq.sel("spotify_api_calls_total", tenant=True),
                        ("api",),
                    ),
                    "{{api}}",
                )
            ],
            max_value=1,
        )
    )
    return b
