"""System Overview: is the platform healthy right now, and where should I look next?"""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board
from ..panels import Q, stat, timeseries
from ..thresholds import (
    BURN_RATE,
    CPU,
    ERROR_RATIO,
    EXPORT_FAILURE_RATIO,
    LATENCY_P95,
    MEMORY,
    SLO_AVAILABILITY,
)

HTTP_COUNT = pq.sel(f"{pq.HTTP}_count", tenant=True)
CPU_IDLE = pq.sel("system_cpu_utilization_ratio", 'state="idle"')
MEMORY_USED = pq.sel("system_memory_utilization_ratio", 'state="used"')
FAILED = pq.sum_rate(pq.sel("spotify_otel_export_failed_total"), ("signal",))
EXPORTED = pq.sum_rate(pq.sel("spotify_otel_exported_total"), ("signal",))


def build() -> Board:
    """The System Overview dashboard."""
    b = Board(
        "spotify-overview",
        "System Overview",
        "Is the platform healthy right now: traffic, errors, latency, saturation and telemetry health of "
        "the selected services and tenants?",
        "Read the top row first: every stat turns orange/red at the same thresholds as the alert rules. "
        "Then follow the red series into the Performance, Tenant Analytics or Infrastructure dashboards "
        "(dashboard links, top right).",
        tags=("overview",),
    )
    b.row("Golden signals")
    b.add(
        stat(
            "Requests per second",
            "HTTP requests served per second by the selected services and tenants.",
            "reqps",
            [Q(pq.sum_rate(HTTP_COUNT))],
        ),
        w=4,
        h=5,
    )
    b.add(
        stat(
            "5xx error ratio",
            "Share of HTTP responses with a 5xx status (0 when nothing failed).",
            "percentunit",
            [Q(pq.http_error_ratio())],
            threshold=ERROR_RATIO,
            decimals=2,
        ),
        w=4,
        h=5,
    )
    b.add(
        stat(
            "p95 latency",
            "95th percentile of HTTP server request duration.",
            "s",
            [Q(pq.quantile(0.95, pq.HTTP), exemplar=True)],
            threshold=LATENCY_P95,
            links=[links.traces()],
        ),
        w=4,
        h=5,
    )
    b.add(
        stat(
            "Requests in flight",
            "HTTP requests being served right now (http.server.active_requests).",
            "short",
            [Q(f"sum({pq.sel(pq.HTTP_ACTIVE, tenant=True)})")],
        ),
        w=4,
        h=5,
    )
    b.add(
        stat(
            "Active tenants",
            "Tenants that sent at least one request in the time range (including 'unknown' and "
            "'__overflow__').",
            "short",
            [Q(f"count({pq.sum_increase(HTTP_COUNT, ('tenant_id',))} > 0)")],
            sparkline=False,
        ),
        w=4,
        h=5,
    )
    b.add(
        stat(
            "Availability burn rate (1h)",
            "How fast the availability error budget burns over the last hour, at the default objective (1 "
            "= exactly on budget; the SLO dashboard has every window).",
            "none",
            [Q(pq.burn_rate("1h", objective=str(SLO_AVAILABILITY)))],
            threshold=BURN_RATE,
            decimals=2,
        ),
        w=4,
        h=5,
    )
    b.row("Traffic and errors")
    b.add(
        timeseries(
            "Throughput by service",
            "HTTP requests per second, per service (Prometheus job).",
            "reqps",
            [Q(pq.sum_rate(HTTP_COUNT, ("job",)), "{{job}}")],
        )
    )
    b.add(
        timeseries(
            "5xx error ratio by service",
            "Share of 5xx responses per service.",
            "percentunit",
            [Q(pq.http_error_ratio(("job",)), "{{job}}")],
            threshold=ERROR_RATIO,
        )
    )
    b.add(
        timeseries(
            "Latency percentiles",
            "p50, p95 and p99 of HTTP server request duration over every selected route. Exemplar dots "
            "open the trace in Jaeger; the alert levels apply to p95.",
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
        timeseries(
            "Responses by status class",
            "HTTP responses per second by status class (2xx, 3xx, 4xx, 5xx).",
            "reqps",
            [
                Q(
                    f"sum by (status_class) (label_replace({pq.rate(HTTP_COUNT)}, "
                    '"status_class", "${1}xx", "http_response_status_code", "([0-9]).."))',
                    "{{status_class}}",
                )
            ],
            stack=True,
            colours=("2xx", "4xx", "5xx"),
        )
    )
    b.row("Saturation and telemetry")
    b.add(
        timeseries(
            "Host CPU utilisation",
            "Busy share of all CPU cores of each host running a selected service (1 - idle).",
            "percentunit",
            [Q(f"1 - avg by (job, instance) ({CPU_IDLE})", "{{job}} {{instance}}")],
            threshold=CPU,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Host memory utilisation",
            "Share of host memory in state 'used'.",
            "percentunit",
            [Q(f"sum by (job, instance) ({MEMORY_USED})", "{{job}} {{instance}}")],
            threshold=MEMORY,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Telemetry export failure ratio",
            "Share of the spans, metric points and log records the SDKs tried to export that were dropped "
            "after retries, per signal. Any drop is data lost; details in Telemetry pipeline health.",
            "percentunit",
            [Q(f"{FAILED}\n/ ({FAILED}\n+ {EXPORTED})", "{{signal}}")],
            threshold=EXPORT_FAILURE_RATIO,
            max_value=1,
        ),
        w=8,
    )
    b.add(
        stat(
            "Alerts firing",
            "Alert rules firing now in Prometheus (0 when none).",
            "short",
            [Q('count(ALERTS{alertstate="firing"}) or vector(0)')],
            sparkline=False,
        ),
        w=4,
        h=4,
    )
    b.add(
        stat(
            "Services reporting",
            "Services (Prometheus jobs) whose SDK reported a resource.",
            "short",
            [Q('count(count by (job) (target_info{job=~"$service"}))')],
            sparkline=False,
        ),
        w=4,
        h=4,
    )
    return b
