"""Every setting of the health checker, declared once.

Each declaration names the command-line flag, the environment variables (first set wins) and the
default; it drives the argument parser, the resolution in :mod:`._config` and the table in
``docs/health.md`` (a test fails when a flag or variable is not documented).
"""

from __future__ import annotations

from dataclasses import dataclass

COMPONENTS: tuple[str, ...] = (
    "otlp-grpc",
    "otlp-http",
    "collector",
    "prometheus",
    "alertmanager",
    "jaeger",
    "elasticsearch",
    "grafana",
    "telemetry",
)
DEFAULT_REQUIRED: tuple[str, ...] = ("otlp-grpc", "otlp-http", "collector")
SIGNALS: tuple[str, ...] = ("traces", "metrics", "logs")
PROTOCOLS: tuple[str, ...] = ("grpc", "http/protobuf")


@dataclass(frozen=True)
class Setting:
    """One setting: its key, flag, environment variables, default and a one-line description."""

    key: str
    flag: str
    env: tuple[str, ...]
    default: str | None
    doc: str
    component: str | None = None  # the component whose endpoint this is, if any


ENDPOINT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "otlp_grpc_endpoint",
        "--otlp-grpc-endpoint",
        ("SPOTIFY_OTEL_HEALTH_OTLP_GRPC_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        "http://localhost:4317",
        "OTLP/gRPC receiver (host:port or http(s)://host:port)",
        "otlp-grpc",
    ),
    Setting(
        "otlp_http_endpoint",
        "--otlp-http-endpoint",
        ("SPOTIFY_OTEL_HEALTH_OTLP_HTTP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        "http://localhost:4318",
        "OTLP/HTTP receiver base URL (/v1/traces is appended)",
        "otlp-http",
    ),
    Setting(
        "collector_url",
        "--collector-url",
        ("SPOTIFY_OTEL_HEALTH_COLLECTOR_URL",),
        "http://localhost:13133/",
        "collector health_check extension URL",
        "collector",
    ),
    Setting(
        "prometheus_url",
        "--prometheus-url",
        ("PROMETHEUS_URL",),
        "http://localhost:9090",
        "Prometheus base URL",
        "prometheus",
    ),
    Setting(
        "alertmanager_url",
        "--alertmanager-url",
        ("ALERTMANAGER_URL",),
        "http://localhost:9093",
        "Alertmanager base URL",
        "alertmanager",
    ),
    Setting(
        "jaeger_url",
        "--jaeger-url",
        ("JAEGER_QUERY_URL",),
        "http://localhost:16686",
        "Jaeger v2 query service base URL (API v3)",
        "jaeger",
    ),
    Setting(
        "jaeger_health_url",
        "--jaeger-health-url",
        ("JAEGER_HEALTH_URL",),
        None,
        "optional Jaeger health endpoint, e.g. http://jaeger:13133/status",
        None,
    ),
    Setting(
        "elasticsearch_url",
        "--elasticsearch-url",
        ("ELASTICSEARCH_URL",),
        "http://localhost:9200",
        "Elasticsearch base URL",
        "elasticsearch",
    ),
    Setting(
        "grafana_url",
        "--grafana-url",
        ("GRAFANA_URL",),
        "http://localhost:3000",
        "Grafana base URL",
        "grafana",
    ),
    Setting(
        "telemetry_url",
        "--telemetry-url",
        ("SPOTIFY_OTEL_HEALTH_TELEMETRY_URL",),
        None,
        "Prometheus holding the SDK self-metrics of the instrumented services; default: the Prometheus URL",
        "telemetry",
    ),
)

OTHER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "check",
        "--check",
        ("SPOTIFY_OTEL_HEALTH_CHECK",),
        None,
        "comma-separated components to check, or 'all' (--check-all); default: the required ones",
    ),
    Setting(
        "require",
        "--require",
        ("SPOTIFY_OTEL_HEALTH_REQUIRED",),
        ",".join(DEFAULT_REQUIRED),
        "comma-separated components whose failure fails the exit code, or 'none'",
    ),
    Setting("timeout", "--timeout", ("SPOTIFY_OTEL_HEALTH_TIMEOUT",), "2.0", "seconds allowed per check"),
    Setting(
        "canary_timeout",
        "--canary-timeout",
        ("SPOTIFY_OTEL_HEALTH_CANARY_TIMEOUT",),
        "30",
        "seconds the canary waits for its signals to appear in the backends",
    ),
    Setting(
        "protocol",
        "--protocol",
        ("OTEL_EXPORTER_OTLP_PROTOCOL",),
        "grpc",
        "OTLP transport the canary uses: grpc or http/protobuf",
    ),
    Setting(
        "canary_signals",
        "--canary-signals",
        ("SPOTIFY_OTEL_HEALTH_CANARY_SIGNALS",),
        ",".join(SIGNALS),
        "signals the canary sends and looks for (traces, metrics, logs)",
    ),
    Setting(
        "elasticsearch_index",
        "--elasticsearch-index",
        ("SPOTIFY_OTEL_HEALTH_ELASTICSEARCH_INDEX",),
        "logs-*",
        "index pattern the canary searches for its log record",
    ),
    Setting(
        "telemetry_window",
        "--telemetry-window",
        ("SPOTIFY_OTEL_HEALTH_TELEMETRY_WINDOW",),
        "5m",
        "window of the telemetry check's dropped / failed counts and export rates (90s, 5m, 1h; number = s)",
    ),
    Setting(
        "telemetry_queue_threshold",
        "--telemetry-queue-threshold",
        ("SPOTIFY_OTEL_HEALTH_TELEMETRY_QUEUE_THRESHOLD",),
        "80",
        "batch queue fill (percent of capacity) at or above which the telemetry check fails",
    ),
)

# Credentials are read from the environment only (never from a flag, which `ps` would show).
SECRET_ENV: tuple[str, ...] = ("ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD")

SETTINGS: tuple[Setting, ...] = ENDPOINT_SETTINGS + OTHER_SETTINGS
