"""Every setting of spotify-otel, declared once.

Each :class:`Param` drives parsing, precedence (keyword argument > ``SPOTIFY_OTEL_*``/``MONITORING_*``
> ``OTEL_*`` > default), the configuration table in the README (``python -m spotify_otel._params``
prints it) and the test that fails when a setting is undocumented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spotify_otel import _parsers as p

DEFAULT_EXCLUDED_URLS = (
    # Anchored: a search over the full URL, so "health" alone would also drop /api/healthcare.
    r"^[a-z]+://[^/]+/(health|healthz|ready|readyz|live|livez|metrics)/?(\?.*)?$",
)


@dataclass(frozen=True)
class Param:
    """One setting: its keyword, environment names, parser, default and documentation."""

    name: str
    parse: p.Parser
    default: Any
    doc: str
    env: tuple[str, ...] = ()
    otel_env: tuple[str, ...] = ()
    # Maps a raw OTEL_* value to this setting's raw value (e.g. OTEL_SDK_DISABLED -> enabled).
    otel_transform: Callable[[str], Any] | None = None
    secret: bool = False

    @property
    def kwarg_only(self) -> bool:
        return not self.env and not self.otel_env


def _not(value: str) -> Any:
    """OTEL_SDK_DISABLED=true means enabled=false; other values are passed on to be validated."""
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return "false" if lowered == "true" else "true"
    return value


def _exporter_switch(value: str) -> Any:
    """OTEL_<SIGNAL>_EXPORTER: 'none' disables the signal; 'otlp' (the default) keeps it."""
    lowered = value.strip().lower()
    return {"none": "false", "otlp": "true"}.get(lowered, value)


def _ours(name: str, *also: str) -> tuple[str, ...]:
    return (f"SPOTIFY_OTEL_{name}", *also)


PARAMS: tuple[Param, ...] = (
    Param("enabled", p.parse_bool, True, "Master switch; off turns every API into a cheap no-op.",
          _ours("ENABLED", "MONITORING_ENABLED"), ("OTEL_SDK_DISABLED",), _not),
    Param("service_name", p.parse_str, "unknown_service", "`service.name` resource attribute.",
          _ours("SERVICE_NAME"), ("OTEL_SERVICE_NAME",)),
    Param("service_version", p.optional(p.parse_str), None, "`service.version` resource attribute.",
          _ours("SERVICE_VERSION")),
    Param("service_namespace", p.optional(p.parse_str), None, "`service.namespace` resource attribute.",
          _ours("SERVICE_NAMESPACE")),
    Param("environment", p.parse_str, "development", "`deployment.environment.name` resource attribute.",
          _ours("ENVIRONMENT", "MONITORING_ENVIRONMENT")),
    Param("resource_attributes", p.parse_headers, {}, "Extra resource attributes (`k=v,k2=v2`); "
          "`OTEL_RESOURCE_ATTRIBUTES` is also honoured by the SDK.", _ours("RESOURCE_ATTRIBUTES")),
    Param("protocol", p.choice("grpc", "http/protobuf", aliases={"http": "http/protobuf"}), "grpc",
          "OTLP transport for all three signals.",
          _ours("EXPORTER_PROTOCOL"), ("OTEL_EXPORTER_OTLP_PROTOCOL",)),
    Param("endpoint", p.optional(p.parse_url), None,
          "OTLP endpoint (base URL). Default `http://localhost:4317` (grpc) or `http://localhost:4318` "
          "(http/protobuf). Per-signal `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` apply when this is not set "
          "by keyword or `SPOTIFY_OTEL_*`.",
          _ours("EXPORTER_ENDPOINT"), ("OTEL_EXPORTER_OTLP_ENDPOINT",)),
    Param("headers", p.parse_headers, {}, "Headers sent with every export (`k=v,k2=v2`).",
          _ours("EXPORTER_HEADERS"), ("OTEL_EXPORTER_OTLP_HEADERS",), secret=True),
    Param("export_timeout", p.number(float, 0.1, 300), 10.0, "Seconds one export may take (retries included).",
          _ours("EXPORTER_TIMEOUT"), ("OTEL_EXPORTER_OTLP_TIMEOUT",)),
    Param("compression", p.choice("none", "gzip"), "none", "OTLP payload compression.",
          _ours("EXPORTER_COMPRESSION"), ("OTEL_EXPORTER_OTLP_COMPRESSION",)),
    Param("traces_enabled", p.parse_bool, True, "Export traces (`OTEL_TRACES_EXPORTER=none` turns off).",
          _ours("TRACES_ENABLED"), ("OTEL_TRACES_EXPORTER",), _exporter_switch),
    Param("metrics_enabled", p.parse_bool, True, "Export metrics (`OTEL_METRICS_EXPORTER=none` turns off).",
          _ours("METRICS_ENABLED"), ("OTEL_METRICS_EXPORTER",), _exporter_switch),
    Param("logs_enabled", p.parse_bool, True, "Export `logging` records (`OTEL_LOGS_EXPORTER=none` turns off).",
          _ours("LOGS_ENABLED"), ("OTEL_LOGS_EXPORTER",), _exporter_switch),
    Param("sampler", p.choice("always_on", "always_off", "traceidratio", "parentbased_always_on",
                              "parentbased_always_off", "parentbased_traceidratio"),
          "parentbased_traceidratio", "Trace sampler.", _ours("TRACES_SAMPLER"), ("OTEL_TRACES_SAMPLER",)),
    Param("sample_ratio", p.number(float, 0.0, 1.0), 1.0, "Ratio for the `*traceidratio` samplers.",
          _ours("SAMPLE_RATIO"), ("OTEL_TRACES_SAMPLER_ARG",)),
    Param("span_schedule_delay_ms", p.number(int, 1, 600_000), 500,
          "Batch span processor delay (ms); 50 for low latency.",
          _ours("BSP_SCHEDULE_DELAY"), ("OTEL_BSP_SCHEDULE_DELAY",)),
    Param("span_max_queue_size", p.number(int, 1, 10_000_000), 2048, "Spans buffered before dropping.",
          _ours("BSP_MAX_QUEUE_SIZE"), ("OTEL_BSP_MAX_QUEUE_SIZE",)),
    Param("span_max_export_batch_size", p.number(int, 1, 100_000), 512, "Spans per export request.",
          _ours("BSP_MAX_EXPORT_BATCH_SIZE"), ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE",)),
    Param("log_schedule_delay_ms", p.number(int, 1, 600_000), 500, "Batch log processor delay (ms).",
          _ours("BLRP_SCHEDULE_DELAY"), ("OTEL_BLRP_SCHEDULE_DELAY",)),
    Param("log_max_queue_size", p.number(int, 1, 10_000_000), 2048, "Log records buffered before dropping.",
          _ours("BLRP_MAX_QUEUE_SIZE"), ("OTEL_BLRP_MAX_QUEUE_SIZE",)),
    Param("log_max_export_batch_size", p.number(int, 1, 100_000), 512, "Log records per export request.",
          _ours("BLRP_MAX_EXPORT_BATCH_SIZE"), ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",)),
    Param("metric_export_interval_ms", p.number(int, 100, 3_600_000), 10_000, "Metric export period (ms).",
          _ours("METRIC_EXPORT_INTERVAL", "MONITORING_METRIC_EXPORT_INTERVAL"), ("OTEL_METRIC_EXPORT_INTERVAL",)),
    Param("metric_temporality", p.choice("cumulative", "delta"), "cumulative",
          "Aggregation temporality of exported metrics (delta frees idle series every cycle).",
          _ours("METRIC_TEMPORALITY"), ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",)),
    Param("metric_cardinality_limit", p.number(int, 10, 1_000_000), 2000,
          "SDK cardinality limit: series per instrument before `otel.metric.overflow`.",
          _ours("METRIC_CARDINALITY_LIMIT")),
    Param("max_tenants", p.number(int, 1, 100_000), 100,
          "Distinct `tenant.id` values per metric; later tenants are recorded as `__overflow__`.",
          _ours("MAX_TENANTS")),
    Param("tenant_header", p.parse_str, "X-Tenant-ID", "Trusted request header carrying the tenant id.",
          _ours("TENANT_HEADER")),
    Param("tenant_sources", p.string_list(("header", "claim", "subdomain", "baggage")), ("header",),
          "Where the tenant comes from, in order: `header`, `claim`, `subdomain`, `baggage`.",
          _ours("TENANT_SOURCES")),
    Param("tenant_claim", p.parse_str, "tenant_id", "Claim of the verified identity holding the tenant id.",
          _ours("TENANT_CLAIM")),
    Param("tenant_base_domain", p.optional(p.parse_str), None,
          "Base domain for the `subdomain` source: `acme.music.example.com` -> `acme`.",
          _ours("TENANT_BASE_DOMAIN")),
    Param("trust_inbound_baggage", p.parse_bool, False,
          "Honour inbound W3C baggage (internal services only); otherwise inbound baggage is dropped.",
          _ours("TRUST_INBOUND_BAGGAGE")),
    Param("tenant_max_length", p.number(int, 1, 256), 64, "Longest accepted tenant id.",
          _ours("TENANT_MAX_LENGTH")),
    Param("default_tenant", p.parse_str, "unknown", "`tenant.id` of requests without a valid tenant.",
          _ours("DEFAULT_TENANT")),
    Param("tenant_resolver", p.callable_or_none, None,
          "Callable `(request) -> str | None` tried before `tenant_sources` (keyword only)."),
    Param("excluded_urls", p.regex_list, DEFAULT_EXCLUDED_URLS,
          "Regexes searched in the full request URL; matches get no telemetry (health and metrics URLs).",
          _ours("EXCLUDED_URLS"), ("OTEL_PYTHON_EXCLUDED_URLS",)),
    Param("instrument_http_clients", p.parse_bool, True, "Instrument outgoing `requests`/`httpx` calls.",
          _ours("INSTRUMENT_HTTP_CLIENTS")),
    Param("system_metrics", p.parse_bool, True, "Host and process metrics (CPU, memory, disk, network, GC).",
          _ours("SYSTEM_METRICS")),
    Param("self_metrics", p.parse_bool, True,
          "The SDK batch processors' own metrics (`otel.sdk.processor.*`: processed, dropped, queue size and "
          "capacity).", _ours("SELF_METRICS"), ("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED",)),
    Param("gc_freeze", p.parse_bool, True,
          "Move the objects alive at a process's first request out of the garbage collector's reach "
          "(`gc.freeze()`): shorter full collections, lower p99.", _ours("GC_FREEZE")),
    Param("log_level", p.log_level, 20, "Lowest `logging` level exported (root raised to it if unset).",
          _ours("LOG_LEVEL", "MONITORING_LOG_LEVEL")),
    Param("json_logs", p.parse_bool, False,
          "Also write JSON lines (timestamp, level, service, tenant_id, message, metadata, trace_id, "
          "span_id) to stdout.", _ours("JSON_LOGS")),
    Param("slo_latency_threshold_ms", p.number(float, 1, 600_000), 300.0,
          "Latency objective: requests faster than this are `sla.latency=good` in `spotify.sla.requests`.",
          _ours("SLO_LATENCY_THRESHOLD_MS")),
    Param("cost_cpu_time", p.parse_bool, True,
          "Measure each request's thread CPU time for `spotify.cost.cpu_time` and the CPU part of "
          "`spotify.cost.estimated` (two CPU-clock reads per request: system calls on Linux; off: the metric "
          "is not exported).", _ours("COST_CPU_TIME")),
    Param("cost_per_request", p.number(float, 0, 1e6), 0.00001, "Cost model: USD per request.",
          _ours("COST_PER_REQUEST")),
    Param("cost_per_cpu_second", p.number(float, 0, 1e6), 0.00005, "Cost model: USD per CPU second.",
          _ours("COST_PER_CPU_SECOND")),
    Param("cost_per_gb", p.number(float, 0, 1e6), 0.09, "Cost model: USD per GB received or sent.",
          _ours("COST_PER_GB")),
    Param("alertmanager_url", p.parse_url, "http://localhost:9093", "Alertmanager for `AlertManager` (API v2).",
          _ours("ALERTMANAGER_URL", "ALERTMANAGER_URL")),
    Param("shutdown_timeout", p.number(float, 0.1, 120), 5.0, "Seconds `shutdown()` may take in total.",
          _ours("SHUTDOWN_TIMEOUT")),
)

BY_NAME: dict[str, Param] = {param.name: param for param in PARAMS}


def markdown_table() -> str:
    """The README configuration table, generated from :data:`PARAMS`."""
    rows = ["| keyword | environment (ours) | standard `OTEL_*` | default | meaning |", "|---|---|---|---|---|"]
    for param in PARAMS:
        ours = ", ".join(f"`{name}`" for name in param.env) or "keyword only"
        otel = ", ".join(f"`{name}`" for name in param.otel_env) or "-"
        default = param.default
        if isinstance(default, tuple):
            default = ",".join(default)
        shown = "protocol default" if param.name == "endpoint" else (
            "INFO" if param.name == "log_level" else f"`{default}`" if default not in (None, {}, "") else "-"
        ).replace("|", "\\|")
        rows.append(f"| `{param.name}` | {ours} | {otel} | {shown} | {param.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
