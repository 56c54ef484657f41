"""PromQL building blocks shared by the dashboards: selectors with the dashboard variables, rates,
ratios that read 0 (not "no data") when nothing failed, and histogram quantiles."""

from __future__ import annotations

from collections.abc import Sequence

RATE_INTERVAL = "$__rate_interval"
RANGE = "$__range"
SERVICE = 'job=~"$service"'
TENANT = 'tenant_id=~"$tenant"'

HTTP = "http_server_request_duration_seconds"
HTTP_ACTIVE = "http_server_active_requests"
SLA = "spotify_sla_requests_total"
FIVE_XX = 'http_response_status_code=~"5.."'


def sel(metric: str, *matchers: str, tenant: bool = False, service: bool = True) -> str:
    """``metric{job=~"$service", tenant_id=~"$tenant", <matchers>}``."""
    parts = ([SERVICE] if service else []) + ([TENANT] if tenant else []) + list(matchers)
    return f"{metric}{{{', '.join(parts)}}}" if parts else metric


def _by(by: Sequence[str]) -> str:
    return f" by ({', '.join(by)})" if by else ""


def rate(selector: str, window: str = RATE_INTERVAL) -> str:
    """``rate(<selector>[window])``."""
    return f"rate({selector}[{window}])"


def sum_rate(selector: str, by: Sequence[str] = (), window: str = RATE_INTERVAL) -> str:
    """``sum by (...) (rate(...))``."""
    return f"sum{_by(by)} ({rate(selector, window)})"


def sum_increase(selector: str, by: Sequence[str] = (), window: str = RANGE) -> str:
    """``sum by (...) (increase(<selector>[window]))``: totals over the dashboard's time range."""
    return f"sum{_by(by)} (increase({selector}[{window}]))"


def ratio(numerator: str, denominator: str, by: Sequence[str] = (), window: str = RATE_INTERVAL) -> str:
    """Share of ``denominator``'s rate that matches ``numerator``; 0 (not empty) where nothing matched."""
    num = sum_rate(numerator, by, window)
    den = sum_rate(denominator, by, window)
    return f"({num} or 0 * {den})\n/ {den}"


def quantile(
    q: float,
    histogram: str,
    *matchers: str,
    by: Sequence[str] = (),
    tenant: bool = True,
    window: str = RATE_INTERVAL,
) -> str:
    """``histogram_quantile(q, sum by (le, ...) (rate(<histogram>_bucket{...}[window])))``."""
    bucket = sel(f"{histogram}_bucket", *matchers, tenant=tenant)
    return f"histogram_quantile({q}, {sum_rate(bucket, ('le', *by), window)})"


def http_error_ratio(by: Sequence[str] = (), window: str = RATE_INTERVAL) -> str:
    """Share of HTTP responses with a 5xx status."""
    return ratio(sel(f"{HTTP}_count", FIVE_XX, tenant=True), sel(f"{HTTP}_count", tenant=True), by, window)


def bad_share(kind: str, by: Sequence[str] = (), window: str = RATE_INTERVAL) -> str:
    """Share of requests that broke the ``kind`` objective (``availability`` or ``latency``)."""
    return ratio(sel(SLA, f'sla_{kind}="bad"', tenant=True), sel(SLA, tenant=True), by, window)


def burn_rate(window: str, by: Sequence[str] = (), kind: str = "availability", objective: str = "") -> str:
    """Error-budget burn rate over ``window``: bad share / (1 - objective); 1 spends exactly the budget."""
    return f"(\n{bad_share(kind, by, window)}\n) / (1 - {objective or '$slo_' + kind})"


def budget_left(window: str, by: Sequence[str] = (), kind: str = "availability") -> str:
    """Share of the error budget over ``window`` not yet spent (negative when overspent)."""
    return f"1 - {burn_rate(window, by, kind)}"
