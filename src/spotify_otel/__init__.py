"""spotify-otel: multi-tenant OpenTelemetry for FastAPI and Django services.

One line sets up traces, metrics and logs over OTLP with ``tenant.id`` on every signal::

    from spotify_otel import init_telemetry
    init_telemetry("catalog-api")
"""

from spotify_otel._telemetry import Telemetry, get_telemetry, init_telemetry
from spotify_otel._version import __version__
from spotify_otel.exceptions import ConfigError, SpotifyOtelWarning
from spotify_otel.metrics import AlertManager, MetricsCollector, MLMonitor, SecurityMonitor
from spotify_otel.tenant import (
    bind_tenant,
    bind_tenant_from_claims,
    current_tenant,
    tenant_context,
)

__all__ = [
    "AlertManager",
    "ConfigError",
    "MLMonitor",
    "MetricsCollector",
    "SecurityMonitor",
    "SpotifyOtelWarning",
    "Telemetry",
    "__version__",
    "bind_tenant",
    "bind_tenant_from_claims",
    "current_tenant",
    "get_telemetry",
    "init_telemetry",
    "tenant_context",
]
