"""Platform telemetry: application, business, security, ML and cost metrics, and the Alertmanager client.

Metric names, units and attributes are listed in ``docs/metrics.md``.
"""

from spotify_otel.metrics.alerting import AlertManager
from spotify_otel.metrics.collector import MetricsCollector
from spotify_otel.metrics.ml import MLMonitor
from spotify_otel.metrics.security import SecurityMonitor

__all__ = ["AlertManager", "MLMonitor", "MetricsCollector", "SecurityMonitor"]
