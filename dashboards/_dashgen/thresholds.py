"""Every threshold and colour the dashboards use, declared once.

A threshold is a list of levels ``(value, severity)`` taken from the alert rule named in ``alert``
(``alerts/*.rules.yml``); ``patterns`` are regular expressions whose first group is the number the rule
compares against, so ``tests/dashboards/test_dashboards_alerts.py`` can check both stay equal.
Alert rules compare with ``>``, Grafana colours from ``>=``: a level of 0 ("any") is drawn from
:data:`ANY` up. ``dashboards/README.md`` lists them all (generated from this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK = "green"
ANY = 1e-9  # "> 0" in an alert rule: colour anything above zero
SEVERITY_COLOURS = {"info": "yellow", "warning": "orange", "critical": "red", "security": "purple"}

# Series that mean the same thing get the same colour everywhere.
SERIES_COLOURS: dict[str, str] = {
    "p50": "green",
    "p95": "orange",
    "p99": "red",
    "2xx": OK,
    "3xx": "blue",
    "4xx": "yellow",
    "5xx": "red",
    "success": OK,
    "error": "red",
    "good": OK,
    "bad": "red",
    "receive": "blue",
    "transmit": "purple",
    "read": "blue",
    "write": "purple",
}


@dataclass(frozen=True)
class Threshold:
    """Levels ``(value, severity)``, ascending; ``higher_is_worse=False`` for "the lower, the worse"."""

    key: str
    meaning: str
    unit: str
    levels: tuple[tuple[float, str], ...]
    alert: str | None = None  # the alert rule these levels come from (None: dashboard only)
    patterns: tuple[str, ...] = ()
    higher_is_worse: bool = True

    def steps(self) -> list[dict[str, Any]]:
        """Grafana threshold steps (base colour first, then ascending values)."""
        if self.higher_is_worse:
            return [
                {"color": OK, "value": None},
                *({"color": SEVERITY_COLOURS[sev], "value": value or ANY} for value, sev in self.levels),
            ]
        # Lower is worse: the most severe colour below the lowest level, green from the highest one.
        colours = [SEVERITY_COLOURS[sev] for _, sev in self.levels] + [OK]
        return [
            {"color": colours[0], "value": None},
            *({"color": colours[i + 1], "value": value} for i, (value, _) in enumerate(self.levels)),
        ]

    def level(self, severity: str) -> float:
        """The value of the level with ``severity``."""
        return next(value for value, sev in self.levels if sev == severity)


ERROR_RATIO = Threshold(
    "error_ratio",
    "share of HTTP responses with status 5xx (per service and tenant)",
    "percentunit",
    ((0.05, "warning"), (0.2, "critical")),
    "HighErrorRatio",
    (r"http_server_request_errors:ratio_rate5m > ([0-9.]+)",),
)
LATENCY_P95 = Threshold(
    "latency_p95",
    "p95 HTTP server request duration (per service and tenant)",
    "s",
    ((1.0, "warning"), (2.5, "critical")),
    "HighLatencyP95",
    (r"http_server_request_duration_seconds:p95_5m > ([0-9.]+)",),
)
CPU = Threshold(
    "cpu",
    "host CPU busy share, all cores (1 - idle)",
    "percentunit",
    ((0.9, "warning"),),
    "HostHighCpu",
    (r'system_cpu_utilization_ratio\{state="idle"\}\) > ([0-9.]+)',),
)
MEMORY = Threshold(
    "memory",
    "host memory share in state 'used' (the alert also needs a forecast of exhaustion)",
    "percentunit",
    ((0.75, "warning"), (0.85, "critical")),
    "HostMemoryExhaustionPredicted",
    (r'^\s*system_memory_utilization_ratio\{state="used"\} > ([0-9.]+)',),
)
DRIFT_PSI = Threshold(
    "drift_psi",
    "population stability index of a feature",
    "none",
    ((0.1, "info"), (0.25, "warning")),
    "ModelDataDrift",
    (r'ml_drift_method="psi"\}\) > ([0-9.]+)',),
)
DRIFT_KS = Threshold(
    "drift_ks",
    "Kolmogorov-Smirnov distance of a numeric feature",
    "none",
    ((0.1, "info"), (0.3, "warning")),
    "ModelDataDrift",
    (r'ml_drift_method="ks"\}\) > ([0-9.]+)',),
)
ML_LATENCY_P95 = Threshold(
    "ml_latency_p95",
    "p95 model inference duration",
    "s",
    ((0.5, "warning"),),
    "ModelInferenceSlow",
    (r"^\s*\) > ([0-9.]+)",),
)
ML_ERROR_RATIO = Threshold(
    "ml_error_ratio",
    "share of predictions with outcome=error",
    "percentunit",
    ((0.05, "warning"),),
    "ModelPredictionErrors",
    (r"^\s*\) > ([0-9.]+)",),
)
EXPORT_FAILURES = Threshold(
    "export_failures",
    "items the SDK dropped after failed exports, per second",
    "cps",
    ((0.0, "warning"),),
    "TelemetryExportFailures",
    (r"\(rate\(spotify_otel_export_failed_total\[5m\]\)\) > ([0-9.]+)",),
)
EXPORT_FAILURE_RATIO = Threshold(
    "export_failure_ratio",
    "share of the SDK's export attempts that failed",
    "percentunit",
    ((0.0, "warning"), (0.5, "critical")),
    "TelemetryExportFailures",
    (r"\(rate\(spotify_otel_export_failed_total\[5m\]\)\) > ([0-9.]+)", r"^\s*> ([0-9.]+)"),
)
QUEUE_DROPS = Threshold(
    "sdk_queue_drops",
    "spans and log records the SDK dropped on a full batch queue",
    "cps",
    ((0.0, "warning"),),
    "TelemetryQueueDropping",
    (r'queue_full"\}\[5m\]\)\s*\)\s*> ([0-9.]+)',),
)
TENANT_OVERFLOW = Threshold(
    "tenant_overflow",
    "measurements folded into tenant __overflow__",
    "cps",
    ((0.0, "warning"),),
    "TenantCardinalityOverflow",
    (r"spotify_tenant_overflow_total\[10m\]\)\) > ([0-9.]+)",),
)
QUEUE_UTILISATION = Threshold(
    "queue_utilisation",
    "collector exporter queue size / capacity",
    "percentunit",
    ((0.8, "warning"), (0.95, "critical")),
    "OtelCollectorQueueFilling",
    (r"otelcol_exporter_queue_capacity\) > ([0-9.]+)",),
)
LOGIN_FAILURES = Threshold(
    "login_failures",
    "failed logins per second (per tenant)",
    "cps",
    ((0.5, "security"),),
    "LoginFailureSpike",
    (r"spotify_security_login_failures_total\[5m\]\)\) > ([0-9.]+)",),
)
AUTHZ_FAILURES = Threshold(
    "authz_failures",
    "authorization failures per second (per tenant)",
    "cps",
    ((0.5, "security"),),
    "AuthorizationFailureSpike",
    (r"spotify_security_authorization_failures_total\[5m\]\)\) > ([0-9.]+)",),
)
ABUSE = Threshold(
    "abuse",
    "API abuse detections",
    "short",
    ((0.0, "security"),),
    "ApiAbuseDetected",
    (r"spotify_security_abuse_events_total\[5m\]\)\) > ([0-9.]+)",),
)
# Service level objectives (dashboard variables default to these).
SLO_AVAILABILITY = 0.999  # share of requests with status < 500
SLO_LATENCY = 0.99  # share of requests faster than the SDK's slo_latency_threshold_ms (300 ms by default)
SLO_CHOICES = ("0.9995", "0.999", "0.995", "0.99", "0.95", "0.9")  # alerts/slo.yaml objectives among them
SLO_WINDOW = "30d"
# Multi-window, multi-burn-rate alerting (Google SRE workbook; src/spotify_otel/slo/windows.py and the
# generated alerts/slo.rules.yml): (long window, short window, burn rate, severity) for a 30-day objective.
BURN_WINDOWS: tuple[tuple[str, str, float, str], ...] = (
    ("1h", "5m", 14.4, "critical"),
    ("6h", "30m", 6.0, "critical"),
    ("1d", "2h", 3.0, "warning"),
    ("3d", "6h", 1.0, "warning"),
)


BURN_RATE = Threshold(
    "burn_rate",
    "error-budget burn rate of a 30-day objective (1 = the budget lasts exactly 30 days)",
    "none",
    tuple(sorted((factor, severity) for _, _, factor, severity in BURN_WINDOWS)),
    "SLOErrorBudgetBurnFast/SLOErrorBudgetBurnSlow",
)
ERROR_BUDGET = Threshold(
    "error_budget",
    "share of the 30-day error budget left",
    "percentunit",
    ((0.0, "critical"), (0.25, "warning")),
    higher_is_worse=False,
)

ALL: tuple[Threshold, ...] = (
    ERROR_RATIO,
    LATENCY_P95,
    CPU,
    MEMORY,
    DRIFT_PSI,
    DRIFT_KS,
    ML_LATENCY_P95,
    ML_ERROR_RATIO,
    EXPORT_FAILURES,
    EXPORT_FAILURE_RATIO,
    TENANT_OVERFLOW,
    QUEUE_UTILISATION,
    LOGIN_FAILURES,
    AUTHZ_FAILURES,
    ABUSE,
    BURN_RATE,
    ERROR_BUDGET,
)


def burn_window_threshold(long: str, short: str, factor: float, severity: str) -> Threshold:
    """The single level of one burn-rate window pair."""
    return Threshold(
        f"burn_{long}_{short}", f"burn rate over {long} and {short}", "none", ((factor, severity),)
    )


def _format(value: float, unit: str, strict: bool = True) -> str:
    if value == 0:
        return "> 0" if strict else "0"
    if unit == "percentunit":
        return f"{value * 100:g} %"
    return f"{value:g} s" if unit == "s" else f"{value:g}"


def describe(threshold: Threshold, lead: str = "Thresholds") -> str:
    """One sentence for panel descriptions: the colours, their values and the alert they come from."""
    steps = threshold.steps()
    if threshold.higher_is_worse:
        parts = [
            f"{step['color']} from {_format(level, threshold.unit)}"
            for step, (level, _) in zip(steps[1:], threshold.levels, strict=True)
        ]
    else:
        parts = [
            f"{steps[0]['color']} below {_format(threshold.levels[0][0], threshold.unit, False)}",
            *(f"{step['color']} from {_format(step['value'], threshold.unit, False)}" for step in steps[1:]),
        ]
    source = f" (alert {threshold.alert})" if threshold.alert else ""
    return f"{lead}: {', '.join(parts)}{source}."
