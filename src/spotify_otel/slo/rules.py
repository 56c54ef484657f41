"""Build the Prometheus rule groups (recording rules and burn-rate alerts) for validated SLOs."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from spotify_otel.slo.spec import SLO, SLOSpec
from spotify_otel.slo.windows import BURN_WINDOWS, parse_duration, recorded_windows

METRIC = "spotify_sla_requests_total"
RUNBOOK_URL = "https://github.com/spotify-otel/spotify-otel/blob/main/docs/runbooks.md#sloerrorbudgetburn"
ALERTS = {"page": ("SLOErrorBudgetBurnFast", "critical"), "ticket": ("SLOErrorBudgetBurnSlow", "warning")}
_BAD_LABEL = {"availability": "sla_availability", "latency": "sla_latency"}
_WHAT = {"availability": "server errors (5xx)", "latency": "requests slower than the latency objective"}


def build_groups(spec: SLOSpec) -> list[dict[str, Any]]:
    """One rule group per SLO: SLI error ratios per window, objective, budget left, two alerts."""
    return [_group(slo) for slo in spec.slos]


def _group(slo: SLO) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [_ratio_rule(slo, window) for window in recorded_windows()]
    static = _static_labels(slo)
    objective = f"vector({_num(slo.objective)})"
    rules.append({"record": "slo:objective:ratio", "expr": objective, "labels": static})
    rules.append({
        "record": "slo:error_budget_remaining:ratio",
        "expr": (
            f"1 - avg_over_time(slo:sli_error:ratio_rate5m{{slo=\"{slo.name}\"}}[{slo.window}])"
            f" / {_num(slo.error_budget)}"
        ),
        "labels": static,
    })
    for severity in ("page", "ticket"):
        rules.append(_alert(slo, severity))
    return {"name": f"slo.{slo.name}", "interval": "1m", "rules": rules}


def _static_labels(slo: SLO) -> dict[str, str]:
    return {"slo": slo.name, "sli": slo.sli, "slo_window": slo.window}


def _selector(slo: SLO, bad: bool) -> str:
    matchers = [f'job="{slo.service}"']
    if isinstance(slo.tenants, tuple):
        # re.escape for the regex, then the backslashes doubled for the PromQL string literal.
        pattern = "|".join(re.escape(t) for t in slo.tenants).replace("\\", "\\\\")
        matchers.append(f'tenant_id=~"{pattern}"')
    if bad:
        matchers.append(f'{_BAD_LABEL[slo.sli]}="bad"')
    return f"{METRIC}{{{','.join(matchers)}}}"


def _ratio_rule(slo: SLO, window: str) -> dict[str, Any]:
    by = "job, tenant_id" if slo.per_tenant else "job"
    bad = f"sum by ({by}) (rate({_selector(slo, True)}[{window}]))"
    total = f"sum by ({by}) (rate({_selector(slo, False)}[{window}]))"
    # "or total * 0": a ratio of 0, not an absent series, while no request has been bad yet.
    expr = f"(\n  {bad}\n  or\n  {total} * 0\n)\n/\n{total}\n"
    return {"record": f"slo:sli_error:ratio_rate{window}", "expr": expr, "labels": _static_labels(slo)}


def _alert(slo: SLO, severity: str) -> dict[str, Any]:
    alertname, level = ALERTS[severity]
    window_s = parse_duration(slo.window)
    clauses = []
    for pair in (w for w in BURN_WINDOWS if w.severity == severity):
        threshold = f"({_num(pair.burn_rate(window_s))} * {_num(slo.error_budget)})"
        clauses.append(
            f"(\n  slo:sli_error:ratio_rate{pair.long}{{slo=\"{slo.name}\"}} > {threshold}\n  and\n"
            f"  slo:sli_error:ratio_rate{pair.short}{{slo=\"{slo.name}\"}} > {threshold}\n)"
        )
    labels = {"severity": level, "service": slo.service, **_static_labels(slo), "slo_alert": severity}
    labels.update(dict(slo.labels))
    return {
        "alert": alertname,
        "expr": "\nor\n".join(clauses) + "\n",
        "labels": labels,
        "annotations": _annotations(slo, severity),
    }


def _annotations(slo: SLO, severity: str) -> dict[str, str]:
    who = f"{slo.service} for tenant {{{{ $labels.tenant_id }}}}" if slo.per_tenant else slo.service
    objective = f"{_num(slo.objective * 100)}%"
    pairs = [w for w in BURN_WINDOWS if w.severity == severity]
    window_s = parse_duration(slo.window)
    spans = " or ".join(
        f"{_num(w.budget_share * 100)}% of the budget in {w.long} (burn rate {_num(w.burn_rate(window_s))},"
        f" confirmed over {w.short})"
        for w in pairs
    )
    speed = "fast: page" if severity == "page" else "slowly: open a ticket"
    threshold = ""
    if slo.sli == "latency" and slo.latency_threshold_ms is not None:
        threshold = f" (threshold {_num(slo.latency_threshold_ms)} ms)"
    description = (
        f"The {slo.sli} SLO {slo.name} ({objective} over {slo.window}) of {who} is consuming its error"
        f" budget at {spans}. Bad requests: {_WHAT[slo.sli]}{threshold}."
    )
    if slo.description:
        description += f" {slo.description}"
    return {
        "summary": (
            f"SLO {slo.name} of {who} burns its error budget {speed}"
            " ({{ $value | humanizePercentage }} bad requests)"
        ),
        "description": description,
        "runbook_url": RUNBOOK_URL,
    }


def _num(value: Decimal) -> str:
    """A decimal in plain notation without trailing zeros (0.001, 14.4, 99.9)."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
