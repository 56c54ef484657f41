"""Cost Optimization: what each tenant costs (requests, CPU, wall time, bytes) under the SDK's cost model."""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board
from ..panels import Q, bargauge, stat, table, timeseries

LOGS = [links.tenant_logs()]
BY_TENANT = ("tenant_id",)
COST = pq.sel("spotify_cost_estimated_total", tenant=True)
REQUESTS = pq.sel("spotify_cost_requests_total", tenant=True)
CPU = pq.sel("spotify_cost_cpu_time_seconds_total", tenant=True)
WALL = pq.sel("spotify_cost_wall_time_seconds_total", tenant=True)
BYTES = pq.sel("spotify_cost_network_io_bytes_total", tenant=True)


def build() -> Board:
    """The Cost Optimization dashboard."""
    b = Board(
        "spotify-cost",
        "Cost Optimization",
        "Which tenants drive the cost (requests, CPU, network), what does a request cost, and where would "
        "optimisation pay off?",
        "Costs are estimates from the SDK's unit prices (cost_per_request, cost_per_cpu_second, "
        "cost_per_gb). Compare a tenant's share of cost with its share of requests: a large gap means "
        "expensive requests. CPU panels stay empty for services run with SPOTIFY_OTEL_COST_CPU_TIME=false "
        "(no CPU time measured; their cost has no CPU part).",
        tags=("cost",),
    )
    b.row("Totals in the time range")
    b.add(
        stat(
            "Estimated cost",
            "Estimated cost of the selected tenants in the time range.",
            "currencyUSD",
            [Q(pq.sum_increase(COST))],
            decimals=4,
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Cost per 1000 requests",
            "Estimated cost per 1000 requests in the time range.",
            "currencyUSD",
            [Q(f"1000 * {pq.sum_increase(COST)}\n/ {pq.sum_increase(REQUESTS)}")],
            decimals=4,
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "CPU seconds", "CPU time spent in the selected tenants' requests.", "s", [Q(pq.sum_increase(CPU))]
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Bytes transferred",
            "Request and response body bytes of the selected tenants.",
            "bytes",
            [Q(pq.sum_increase(BYTES))],
        ),
        w=6,
        h=5,
    )
    b.row("Per tenant")
    b.add(
        timeseries(
            "Cost rate by tenant",
            "Estimated cost per hour, per tenant.",
            "currencyUSD",
            [Q(f"3600 * {pq.sum_rate(COST, BY_TENANT)}", "{{tenant_id}}")],
            links=LOGS,
            stack=True,
        )
    )
    b.add(
        bargauge(
            "Cost share by tenant",
            "Each tenant's share of the estimated cost in the time range.",
            "percentunit",
            [
                Q(
                    f"{pq.sum_increase(COST, BY_TENANT)}\n/ ignoring (tenant_id) group_left "
                    f"{pq.sum_increase(COST)}",
                    "{{tenant_id}}",
                    instant=True,
                )
            ],
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "CPU cores busy by tenant",
            "CPU seconds per second spent in each tenant's requests (1 = one core fully busy).",
            "short",
            [Q(pq.sum_rate(CPU, BY_TENANT), "{{tenant_id}}")],
            links=LOGS,
            stack=True,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Wall time by tenant",
            "Seconds per second spent serving each tenant (concurrency).",
            "short",
            [Q(pq.sum_rate(WALL, BY_TENANT), "{{tenant_id}}")],
            links=LOGS,
            stack=True,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Network bytes by tenant",
            "Body bytes per second per tenant and direction.",
            "Bps",
            [
                Q(
                    pq.sum_rate(BYTES, ("tenant_id", "network_io_direction")),
                    "{{tenant_id}} {{network_io_direction}}",
                )
            ],
            links=LOGS,
        ),
        w=8,
    )
    b.add(
        table(
            "Unit costs by tenant",
            "Per tenant over the time range: requests, cost, cost per 1000 requests and CPU milliseconds "
            "per request. Sort by a column to find expensive tenants.",
            "short",
            [
                Q(pq.sum_increase(REQUESTS, BY_TENANT), instant=True, fmt="table"),
                Q(pq.sum_increase(COST, BY_TENANT), instant=True, fmt="table"),
                Q(
                    f"1000 * {pq.sum_increase(COST, BY_TENANT)}\n/ {pq.sum_increase(REQUESTS, BY_TENANT)}",
                    instant=True,
                    fmt="table",
                ),
                Q(
                    f"1000 * {pq.sum_increase(CPU, BY_TENANT)}\n/ {pq.sum_increase(REQUESTS, BY_TENANT)}",
                    instant=True,
                    fmt="table",
                ),
            ],
            columns={
                "tenant_id": "Tenant",
                "Value #A": "Requests",
                "Value #B": "Cost",
                "Value #C": "Cost per 1000 requests",
                "Value #D": "CPU ms per request",
            },
            column_units={
                "Cost": "currencyUSD",
                "Cost per 1000 requests": "currencyUSD",
                "CPU ms per request": "ms",
            },
            links=LOGS,
        ),
        w=24,
    )
    return b
