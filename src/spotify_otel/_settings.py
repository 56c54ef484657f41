"""Resolve every setting into one frozen :class:`Settings`.

Precedence: keyword argument > ``SPOTIFY_OTEL_*`` / ``MONITORING_*`` environment > standard ``OTEL_*``
environment > default. A bad keyword argument raises :class:`~spotify_otel.exceptions.ConfigError`; a bad
environment value is logged as an error naming the variable, the value and what is accepted, and the
next source down the chain is used (an operator's typo must not take production down).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from spotify_otel._params import BY_NAME, PARAMS, Param
from spotify_otel._parsers import Rejected
from spotify_otel.exceptions import ConfigError

_logger = logging.getLogger("spotify_otel.config")

SOURCE_KWARG = "keyword argument"
SOURCE_DEFAULT = "default"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The resolved configuration. ``sources`` tells where each value came from."""

    enabled: bool
    service_name: str
    service_version: str | None
    service_namespace: str | None
    environment: str
    resource_attributes: Mapping[str, str]
    protocol: str
    endpoint: str | None
    headers: Mapping[str, str]
    export_timeout: float
    compression: str
    traces_enabled: bool
    metrics_enabled: bool
    logs_enabled: bool
    sampler: str
    sample_ratio: float
    span_schedule_delay_ms: int
    span_max_queue_size: int
    span_max_export_batch_size: int
    log_schedule_delay_ms: int
    log_max_queue_size: int
    log_max_export_batch_size: int
    metric_export_interval_ms: int
    metric_temporality: str
    metric_cardinality_limit: int
    max_tenants: int
    tenant_header: str
    tenant_sources: tuple[str, ...]
    tenant_claim: str
    tenant_base_domain: str | None
    trust_inbound_baggage: bool
    tenant_max_length: int
    default_tenant: str
    tenant_resolver: Callable[[Any], str | None] | None
    excluded_urls: tuple[str, ...]
    instrument_http_clients: bool
    system_metrics: bool
    gc_freeze: bool
    self_metrics: bool
    log_level: int
    json_logs: bool
    slo_latency_threshold_ms: float
    cost_cpu_time: bool
    cost_per_request: float
    cost_per_cpu_second: float
    cost_per_gb: float
    alertmanager_url: str
    shutdown_timeout: float
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def __repr__(self) -> str:  # secrets masked: this object ends up in logs
        shown = []
        for param in PARAMS:
            value = getattr(self, param.name)
            if param.secret and value:
                value = {key: "***" for key in value} if isinstance(value, Mapping) else "***"
            shown.append(f"{param.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def explicit(self, name: str) -> bool:
        """True when the value must be passed to OpenTelemetry explicitly: it did not come from the
        standard ``OTEL_*`` variable that the SDK reads by itself (or that variable was invalid)."""
        source = self.sources.get(name, SOURCE_DEFAULT)
        if source == SOURCE_DEFAULT:
            return any(var in os.environ for var in BY_NAME[name].otel_env)
        return not source.startswith("OTEL_")

    @property
    def resolved_endpoint(self) -> str:
        """The base OTLP endpoint, with the protocol's default port when not configured."""
        if self.endpoint:
            return self.endpoint
        return "http://localhost:4318" if self.protocol == "http/protobuf" else "http://localhost:4317"


def _from_env(param: Param, environ: Mapping[str, str]) -> tuple[Any, str] | None:
    for var in param.env + param.otel_env:
        raw = environ.get(var)
        if raw is None or (raw.strip() == "" and var not in param.env):
            continue
        candidate: Any = raw
        if var in param.otel_env and param.otel_transform is not None:
            candidate = param.otel_transform(raw)
        try:
            return param.parse(candidate), var
        except Rejected as exc:
            _logger.error(
                "spotify-otel: ignoring %s=%r (setting %r): accepted: %s; using the next source instead",
                var, raw, param.name, exc.accepted,
            )
    return None


def resolve(kwargs: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from keyword arguments and the environment.

    Raises:
        ConfigError: a keyword argument is unknown or has an invalid value.
    """
    kwargs = dict(kwargs or {})
    environ = os.environ if environ is None else environ
    unknown = sorted(set(kwargs) - set(BY_NAME))
    if unknown:
        raise ConfigError(unknown[0], kwargs[unknown[0]], SOURCE_KWARG, "one of " + ", ".join(sorted(BY_NAME)))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for param in PARAMS:
        if param.name in kwargs and kwargs[param.name] is not None:
            try:
                values[param.name] = param.parse(kwargs[param.name])
            except Rejected as exc:
                raise ConfigError(param.name, kwargs[param.name], SOURCE_KWARG, exc.accepted) from None
            sources[param.name] = SOURCE_KWARG
            continue
        found = _from_env(param, environ)
        if found is not None:
            values[param.name], sources[param.name] = found
        else:
            values[param.name], sources[param.name] = param.default, SOURCE_DEFAULT
    _check_consistency(values, sources)
    return Settings(**values, sources=sources)


def _check_consistency(values: dict[str, Any], sources: dict[str, str]) -> None:
    if "subdomain" in values["tenant_sources"] and not values["tenant_base_domain"]:
        source = sources["tenant_sources"]
        message = (
            "the 'subdomain' tenant source needs tenant_base_domain (SPOTIFY_OTEL_TENANT_BASE_DOMAIN)"
        )
        if source == SOURCE_KWARG or sources["tenant_base_domain"] == SOURCE_KWARG:
            raise ConfigError("tenant_sources", values["tenant_sources"], source, message)
        _logger.error("spotify-otel: %s; ignoring the subdomain source", message)
        values["tenant_sources"] = tuple(s for s in values["tenant_sources"] if s != "subdomain")
