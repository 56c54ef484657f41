"""Performance: RED (rate, errors, duration) per route, latency distribution and percentiles."""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board
from ..panels import Q, heatmap, table, timeseries
from ..thresholds import ERROR_RATIO, LATENCY_P95

HTTP_COUNT = pq.sel(f"{pq.HTTP}_count", tenant=True)
HTTP_5XX = pq.sel(f"{pq.HTTP}_count", pq.FIVE_XX, tenant=True)
BY_ROUTE = ("http_route", "http_request_method")
ROUTE_TRACES = links.traces("http_route", "http.route")
API_CALLS = "spotify_api_call_duration_seconds"


def build() -> Board:
    """The Performance dashboard."""
    b = Board(
        "spotify-performance",
        "Performance",
        "Which routes are slow or failing, how is latency distributed, and how do outbound API calls "
        "perform?",
        "Rate, Errors and Duration are per route (method + route template). Click a route's series to "
        "search its traces in Jaeger; exemplar dots on the latency panels open the exact trace behind a "
        "slow request.",
        tags=("performance", "red"),
    )
    b.row("Rate and errors per route")
    b.add(
        timeseries(
            "Request rate per route",
            "Requests per second per route template and method.",
            "reqps",
            [Q(pq.sum_rate(HTTP_COUNT, BY_ROUTE), "{{http_request_method}} {{http_route}}")],
            links=[ROUTE_TRACES],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "5xx rate per route",
            "5xx responses per second per route and error type.",
            "reqps",
            [Q(pq.sum_rate(HTTP_5XX, ("http_route", "error_type")), "{{http_route}} {{error_type}}")],
            links=[ROUTE_TRACES],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "5xx error ratio per route",
            "Share of 5xx responses per route.",
            "percentunit",
            [Q(pq.http_error_ratio(("http_route",)), "{{http_route}}")],
            threshold=ERROR_RATIO,
            links=[ROUTE_TRACES],
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Responses by status code",
            "Responses per second by HTTP status code.",
            "reqps",
            [Q(pq.sum_rate(HTTP_COUNT, ("http_response_status_code",)), "{{http_response_status_code}}")],
            stack=True,
        ),
        w=12,
    )
    b.add(
        timeseries(
            "Requests in flight",
            "Requests being served right now, per service.",
            "short",
            [Q(f"sum by (job) ({pq.sel(pq.HTTP_ACTIVE, tenant=True)})", "{{job}}")],
        ),
        w=12,
    )
    b.row("Duration")
    b.add(
        timeseries(
            "Latency percentiles",
            "p50, p95 and p99 over every selected route. Exemplar dots are sampled requests: click one to "
            "open its trace in Jaeger; the alert levels apply to p95.",
            "s",
            [
                Q(pq.quantile(q, pq.HTTP), name, exemplar=True)
                for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
            ],
            threshold=LATENCY_P95,
            colours=("p50", "p95", "p99"),
            links=[links.traces()],
        )
    )
    b.add(
        heatmap(
            "Latency distribution",
            "Requests per second in each duration bucket (the histogram's 'le' buckets); bright cells high "
            "up are slow requests. Exemplars link to traces.",
            "s",
            [
                Q(
                    pq.sum_rate(pq.sel(f"{pq.HTTP}_bucket", tenant=True), ("le",)),
                    "{{le}}",
                    exemplar=True,
                    fmt="heatmap",
                )
            ],
            links=[links.traces()],
        )
    )
    b.add(
        timeseries(
            "p95 latency per route",
            "95th percentile per route; click a route to search its traces in Jaeger.",
            "s",
            [Q(pq.quantile(0.95, pq.HTTP, by=("http_route",)), "{{http_route}}", exemplar=True)],
            threshold=LATENCY_P95,
            links=[ROUTE_TRACES],
        )
    )
    b.add(
        timeseries(
            "Average latency per route",
            "Mean request duration per route (sum / count).",
            "s",
            [
                Q(
                    f"{pq.sum_rate(pq.sel(f'{pq.HTTP}_sum', tenant=True), ('http_route',))}\n/ "
                    f"{pq.sum_rate(HTTP_COUNT, ('http_route',))}",
                    "{{http_route}}",
                )
            ],
            links=[ROUTE_TRACES],
        )
    )
    b.add(
        table(
            "Slowest routes",
            "Routes ranked by p95 latency over the time range, with their request count.",
            "s",
            [
                Q(
                    f"topk(10, {pq.quantile(0.95, pq.HTTP, by=('http_route',), window=pq.RANGE)})",
                    instant=True,
                    fmt="table",
                ),
                Q(pq.sum_increase(HTTP_COUNT, ("http_route",)), instant=True, fmt="table"),
            ],
            columns={"http_route": "Route", "Value #A": "p95 latency", "Value #B": "Requests"},
            column_units={"Requests": "short"},
            threshold=LATENCY_P95,
            links=[ROUTE_TRACES],
        ),
        w=24,
    )
    b.row("Outbound API calls")
    b.add(
        timeseries(
            "API call p95 by API",
            "95th percentile duration of calls tracked by MetricsCollector.track_api_call, per API.",
            "s",
            [Q(pq.quantile(0.95, API_CALLS, by=("api",)), "{{api}}", exemplar=True)],
            links=[links.traces()],
        )
    )
    b.add(
        timeseries(
            "API call outcomes",
            "API calls per second by API and outcome.",
            "cps",
            [
                Q(
                    pq.sum_rate(pq.sel("spotify_api_calls_total", tenant=True), ("api", "outcome")),
                    "{{api}} {{outcome}}",
                )
            ],
        )
    )
    return b
