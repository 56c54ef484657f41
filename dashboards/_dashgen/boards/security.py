"""Security: failed logins, authorization failures, API abuse, rejected (possibly spoofed) tenant ids."""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board
from ..panels import Q, bargauge, stat, timeseries
from ..thresholds import ABUSE, AUTHZ_FAILURES, LOGIN_FAILURES

LOGS = [links.tenant_logs()]
BY_TENANT = ("tenant_id",)
LOGINS = pq.sel("spotify_security_login_failures_total", tenant=True)
AUTHZ = pq.sel("spotify_security_authorization_failures_total", tenant=True)
ABUSE_EVENTS = pq.sel("spotify_security_abuse_events_total", tenant=True)
REJECTED = pq.sel("spotify_tenant_rejected_total")
DENIED = pq.sel(f"{pq.HTTP}_count", 'http_response_status_code=~"401|403|429"', tenant=True)


def build() -> Board:
    """The Security dashboard."""
    b = Board(
        "spotify-security",
        "Security",
        "Is anyone guessing passwords, probing permissions, abusing the API or sending forged tenant ids?",
        "Stats count events in the time range; any abuse event is worth a look. Per-tenant series link to "
        "the tenant's logs, where the audit records (actor, action, outcome) are.",
        tags=("security",),
    )
    b.row("Events in the time range")
    b.add(
        stat(
            "Failed logins", "Failed login attempts in the time range.", "short", [Q(pq.sum_increase(LOGINS))]
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Authorization failures",
            "Requests refused for lack of permission in the time range.",
            "short",
            [Q(pq.sum_increase(AUTHZ))],
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Abuse detections",
            "Clients over the abuse threshold (one event per client and window).",
            "short",
            [Q(pq.sum_increase(ABUSE_EVENTS))],
            threshold=ABUSE,
        ),
        w=6,
        h=5,
    )
    b.add(
        stat(
            "Rejected tenant ids",
            "Tenant ids that failed validation (malformed or forged) in the time range.",
            "short",
            [Q(pq.sum_increase(REJECTED))],
        ),
        w=6,
        h=5,
    )
    b.row("Trends")
    b.add(
        timeseries(
            "Failed logins by tenant",
            "Failed logins per second per tenant (as the alert counts them).",
            "cps",
            [Q(pq.sum_rate(LOGINS, BY_TENANT), "{{tenant_id}}")],
            threshold=LOGIN_FAILURES,
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "Authorization failures by tenant",
            "Permission failures per second per tenant.",
            "cps",
            [Q(pq.sum_rate(AUTHZ, BY_TENANT), "{{tenant_id}}")],
            threshold=AUTHZ_FAILURES,
            links=LOGS,
        )
    )
    b.add(
        bargauge(
            "Failed logins by reason",
            "Failed logins per reason in the time range.",
            "short",
            [Q(pq.sum_increase(LOGINS, ("reason",)), "{{reason}}", instant=True)],
        ),
        w=8,
    )
    b.add(
        bargauge(
            "Authorization failures by action",
            "Permission failures per action in the time range.",
            "short",
            [Q(pq.sum_increase(AUTHZ, ("action",)), "{{action}}", instant=True)],
        ),
        w=8,
    )
    b.add(
        bargauge(
            "Abuse detections by tenant and rule",
            "Abuse events per tenant and detection rule in the time range.",
            "short",
            [Q(pq.sum_increase(ABUSE_EVENTS, ("tenant_id", "rule")), "{{tenant_id}} {{rule}}", instant=True)],
            threshold=ABUSE,
            links=LOGS,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Denied HTTP responses",
            "401, 403 and 429 responses per second per tenant and status.",
            "reqps",
            [
                Q(
                    pq.sum_rate(DENIED, ("tenant_id", "http_response_status_code")),
                    "{{tenant_id}} {{http_response_status_code}}",
                )
            ],
            links=LOGS,
        )
    )
    b.add(
        timeseries(
            "Rejected tenant ids by reason",
            "Tenant ids rejected per second by reason and source (header, claim, subdomain, baggage).",
            "cps",
            [Q(pq.sum_rate(REJECTED, ("reason", "source")), "{{reason}} ({{source}})")],
        ),
        w=24,
    )
    return b
