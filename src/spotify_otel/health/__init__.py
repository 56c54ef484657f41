"""Health checks for the spotify-otel telemetry pipeline.

Usage::

    spotify-otel health --check-all            # table; exit 0 when every required component is healthy
    python -m spotify_otel.health --json --canary

In Python::

    from spotify_otel.health import resolve, run_health
    report = run_health(resolve({"check": "otlp-grpc,prometheus"}))
    report.healthy, [c.to_dict() for c in report.checks]

Configuration, the JSON schema, exit codes and the canary are documented in ``docs/health.md``.
"""

from __future__ import annotations

from spotify_otel.health._canary import run_canary
from spotify_otel.health._cli import add_arguments, build_parser, main
from spotify_otel.health._config import HealthConfig, resolve
from spotify_otel.health._result import (
    SCHEMA_VERSION,
    CanaryReport,
    CheckResult,
    HealthReport,
    SendResult,
    SignalResult,
    Status,
)
from spotify_otel.health._runner import run_checks, run_health
from spotify_otel.health._settings import COMPONENTS, DEFAULT_REQUIRED, SETTINGS

__all__ = [
    "COMPONENTS",
    "DEFAULT_REQUIRED",
    "SCHEMA_VERSION",
    "SETTINGS",
    "CanaryReport",
    "CheckResult",
    "HealthConfig",
    "HealthReport",
    "SendResult",
    "SignalResult",
    "Status",
    "add_arguments",
    "build_parser",
    "main",
    "resolve",
    "run_canary",
    "run_checks",
    "run_health",
]
