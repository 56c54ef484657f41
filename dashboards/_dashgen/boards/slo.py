"""SLA / SLO tracking: availability and latency objectives, error budget left, multi-window burn rates."""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board, custom_variable
from ..panels import Q, gauge, stat, table, timeseries
from ..thresholds import (
    BURN_RATE,
    BURN_WINDOWS,
    ERROR_BUDGET,
    SLO_AVAILABILITY,
    SLO_CHOICES,
    SLO_LATENCY,
    SLO_WINDOW,
    burn_window_threshold,
)

LOGS = [links.tenant_logs()]
BY_TENANT = ("tenant_id",)
KINDS = (
    ("availability", "Availability", "status < 500"),
    ("latency", "Latency", "faster than slo_latency_threshold_ms"),
)


def build() -> Board:
    """The SLA/SLO tracking dashboard."""
    b = Board(
        "spotify-slo",
        "SLA / SLO tracking",
        "Are we meeting the availability and latency objectives, how much of the 30-day error budget is "
        "left, and how fast is it burning?",
        "Pick the objectives at the top ($slo_availability, $slo_latency). Budget left: 100 % = untouched, "
        "0 % = spent, negative = objective missed. Burn rate 1 spends the budget exactly in 30 days; the "
        "alerts page when both windows of a pair exceed its factor (1h & 5m > 14.4, 6h & 30m > 6) and open "
        "a ticket at (1d & 2h > 3, 3d & 6h > 1).",
        tags=("slo", "sla"),
        extra_variables=(
            custom_variable("slo_availability", "Availability objective", SLO_CHOICES, str(SLO_AVAILABILITY)),
            custom_variable("slo_latency", "Latency objective", SLO_CHOICES, str(SLO_LATENCY)),
        ),
    )
    for kind, name, rule in KINDS:
        b.row(f"{name} objective (requests {rule})")
        b.add(
            stat(
                f"{name} SLI ({SLO_WINDOW})",
                f"Share of requests {rule} over the last {SLO_WINDOW}.",
                "percentunit",
                [Q(f"1 - {pq.bad_share(kind, window=SLO_WINDOW)}")],
                decimals=3,
            ),
            w=4,
        )
        b.add(
            gauge(
                f"{name} error budget left",
                f"Share of the {SLO_WINDOW} error budget not yet spent at the ${'slo_' + kind} objective. "
                "Red when spent.",
                "percentunit",
                [Q(pq.budget_left(SLO_WINDOW, kind=kind))],
                threshold=ERROR_BUDGET,
                min_value=-1,
            ),
            w=4,
        )
        b.add(
            timeseries(
                f"{name} burn rate",
                "Burn rate over the windows the alert rules use; the dashed lines are the page levels (6 "
                "and 14.4).",
                "none",
                [
                    Q(pq.burn_rate(window, kind=kind), window)
                    for window in ("5m", "30m", "1h", "6h", "1d", "3d")
                ],
                threshold=BURN_RATE,
            ),
            w=16,
        )
        for long, short, factor, severity in BURN_WINDOWS:
            b.add(
                stat(
                    f"{name} burn {long} / {short}",
                    f"Burn rate over {long} and {short}. The alert fires when both exceed {factor:g}.",
                    "none",
                    [Q(pq.burn_rate(long, kind=kind), long), Q(pq.burn_rate(short, kind=kind), short)],
                    threshold=burn_window_threshold(long, short, factor, severity),
                    decimals=2,
                    sparkline=False,
                ),
                w=6,
                h=4,
            )
    b.row("Per tenant and route")
    b.add(
        timeseries(
            "Availability burn rate (1h) by tenant",
            "Which tenants burn the availability budget.",
            "none",
            [Q(pq.burn_rate("1h", BY_TENANT), "{{tenant_id}}")],
            threshold=BURN_RATE,
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "Latency SLI by route",
            "Share of requests per route faster than the latency objective.",
            "percentunit",
            [Q(f"1 - {pq.bad_share('latency', ('http_route',))}", "{{http_route}}")],
            max_value=1,
            min_value=None,
            links=[links.traces("http_route", "http.route")],
        )
    )
    b.add(
        table(
            "Objectives by tenant",
            f"Per tenant over {SLO_WINDOW}: availability and latency SLI and the share of each error "
            "budget left.",
            "percentunit",
            [
                Q(f"1 - {pq.bad_share('availability', BY_TENANT, SLO_WINDOW)}", instant=True, fmt="table"),
                Q(pq.budget_left(SLO_WINDOW, BY_TENANT, "availability"), instant=True, fmt="table"),
                Q(f"1 - {pq.bad_share('latency', BY_TENANT, SLO_WINDOW)}", instant=True, fmt="table"),
                Q(pq.budget_left(SLO_WINDOW, BY_TENANT, "latency"), instant=True, fmt="table"),
            ],
            columns={
                "tenant_id": "Tenant",
                "Value #A": "Availability",
                "Value #B": "Availability budget left",
                "Value #C": "Latency",
                "Value #D": "Latency budget left",
            },
            links=LOGS,
        ),
        w=24,
    )
    return b
