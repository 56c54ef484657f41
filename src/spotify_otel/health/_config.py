"""Resolve the health checker's configuration: flag > environment variable > default.

:func:`resolve` returns one frozen :class:`HealthConfig` or raises
:class:`~spotify_otel.exceptions.ConfigError` naming the setting, the bad value and where it came from.
Nothing here reads the environment at import time.
"""

from __future__ import annotations

import base64
import math
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spotify_otel._durations import parse_seconds
from spotify_otel.exceptions import ConfigError
from spotify_otel.health._settings import (
    COMPONENTS,
    ENDPOINT_SETTINGS,
    PROTOCOLS,
    SETTINGS,
    SIGNALS,
    Setting,
)

_GENERIC_OTLP_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
_STANDARD_OTLP_PORT = {"grpc": 4317, "http/protobuf": 4318}
_URL_ACCEPTED = "an http:// or https:// URL with a host, e.g. http://localhost:9090"
_MAX_WINDOW_S = 30 * 86400


@dataclass(frozen=True)
class HealthConfig:
    """The resolved configuration of one health run (no behaviour; credentials kept out of repr)."""

    checks: tuple[str, ...]
    required: frozenset[str]
    endpoints: Mapping[str, str]
    jaeger_health_url: str | None = None
    timeout: float = 2.0
    canary: bool = False
    canary_timeout: float = 30.0
    canary_signals: tuple[str, ...] = SIGNALS
    protocol: str = "grpc"
    elasticsearch_index: str = "logs-*"
    telemetry_window_s: int = 300
    telemetry_queue_threshold: float = 80.0
    elasticsearch_auth: str | None = field(default=None, repr=False)


_BY_KEY = {s.key: s for s in SETTINGS}


def _lookup(key: str, flags: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str | None, str]:
    """Return (raw value, source description) for a setting, following flag > env > default."""
    setting = _BY_KEY[key]
    value = flags.get(key)
    if value is not None:
        return str(value), f"flag {setting.flag}"
    for name in setting.env:
        if name == _GENERIC_OTLP_ENV:
            continue  # handled by _otlp_endpoint
        if environ.get(name, "").strip():
            return environ[name].strip(), f"environment variable {name}"
    return setting.default, "default"


def _fail(setting: Setting, value: object, source: str, accepted: str) -> ConfigError:
    env = "/".join(setting.env)
    name = f"{setting.flag} / {env}" if env else setting.flag
    return ConfigError(name, value, source, accepted)


def validate_url(setting: Setting, value: str, source: str, *, grpc_target: bool = False) -> str:
    """Return ``value`` as an absolute http(s) URL or raise a ConfigError naming the setting."""
    url = f"http://{value}" if grpc_target and "://" not in value else value  # gRPC style "host:port"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _fail(setting, value, source, f"{_URL_ACCEPTED} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(setting, value, source, _URL_ACCEPTED)
    if grpc_target and port is None:
        raise _fail(setting, value, source, "host:port or http(s)://host:port")
    return url


def _otlp_endpoint(setting: Setting, flags: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    transport = "grpc" if setting.component == "otlp-grpc" else "http/protobuf"
    value, source = _lookup(setting.key, flags, environ)
    generic = environ.get(_GENERIC_OTLP_ENV, "").strip()
    if source == "default" and generic:
        # OTEL_EXPORTER_OTLP_ENDPOINT serves the transport OTEL_EXPORTER_OTLP_PROTOCOL names (default
        # grpc); the other transport is the same host on its standard port when the port is standard.
        declared = environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").strip() or "grpc"
        url = validate_url(setting, generic, f"environment variable {_GENERIC_OTLP_ENV}", grpc_target=True)
        parts = urllib.parse.urlsplit(url)
        if declared == transport:
            value, source = url, f"environment variable {_GENERIC_OTLP_ENV}"
        elif declared in _STANDARD_OTLP_PORT and parts.port == _STANDARD_OTLP_PORT[declared]:
            netloc = parts.netloc.rsplit(":", 1)[0] + f":{_STANDARD_OTLP_PORT[transport]}"
            value = urllib.parse.urlunsplit((parts.scheme, netloc, "", "", ""))
            source = f"environment variable {_GENERIC_OTLP_ENV} (standard port)"
    assert value is not None
    return validate_url(setting, value, source, grpc_target=transport == "grpc")


def parse_components(key: str, flags: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """Parse a comma-separated component list ('all', 'none' allowed); None when unset."""
    raw, source = _lookup(key, flags, environ)
    if raw is None:
        return None
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    if names == ["all"]:
        return COMPONENTS
    if names in ([], ["none"]):
        return ()
    unknown = [n for n in names if n not in COMPONENTS]
    if unknown:
        accepted = "a comma-separated list of " + ", ".join(COMPONENTS) + ", or 'all' / 'none'"
        raise _fail(_BY_KEY[key], raw, source, accepted)
    selected: tuple[str, ...] = tuple(c for c in COMPONENTS if c in names)
    return selected


def _seconds(key: str, flags: Mapping[str, Any], environ: Mapping[str, str]) -> float:
    raw, source = _lookup(key, flags, environ)
    try:
        value = float(raw or "")
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0 or value > 3600:
        raise _fail(_BY_KEY[key], raw, source, "a number of seconds > 0 and <= 3600")
    return value


def _window(flags: Mapping[str, Any], environ: Mapping[str, str]) -> int:
    raw, source = _lookup("telemetry_window", flags, environ)
    seconds = parse_seconds((raw or "").strip().lower()) or 0.0
    if not (seconds.is_integer() and 1 <= seconds <= _MAX_WINDOW_S):
        accepted = "a duration of 1s to 30d such as 90s, 5m or 1h (a bare number is seconds)"
        raise _fail(_BY_KEY["telemetry_window"], raw, source, accepted)
    return int(seconds)


def _percent(key: str, flags: Mapping[str, Any], environ: Mapping[str, str]) -> float:
    raw, source = _lookup(key, flags, environ)
    try:
        value = float((raw or "").strip().removesuffix("%"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= 100:
        raise _fail(_BY_KEY[key], raw, source, "a percentage > 0 and <= 100, e.g. 80")
    return value


def _choice(key: str, flags: Mapping[str, Any], environ: Mapping[str, str], allowed: tuple[str, ...]) -> str:
    raw, source = _lookup(key, flags, environ)
    value = (raw or "").strip().lower()
    if value not in allowed:
        raise _fail(_BY_KEY[key], raw, source, " or ".join(allowed))
    return value


def _signals(flags: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, ...]:
    raw, source = _lookup("canary_signals", flags, environ)
    names = [n.strip().lower() for n in (raw or "").split(",") if n.strip()]
    if not names or any(n not in SIGNALS for n in names):
        raise _fail(_BY_KEY["canary_signals"], raw, source, "a comma-separated list of " + ", ".join(SIGNALS))
    return tuple(s for s in SIGNALS if s in names)


def _elasticsearch_auth(environ: Mapping[str, str]) -> str | None:
    api_key = environ.get("ELASTICSEARCH_API_KEY", "").strip()
    if api_key:
        return f"ApiKey {api_key}"
    user = environ.get("ELASTICSEARCH_USERNAME", "")
    if user:
        password = environ.get("ELASTICSEARCH_PASSWORD", "")
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return None


def resolve(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> HealthConfig:
    """Resolve the configuration from parsed flags (``vars(args)``) and the environment.

    Args:
        flags: setting key -> value given on the command line (``None`` = not given). ``check_all``
            (bool) selects every component, like ``--check all``.
        environ: the environment; ``os.environ`` when omitted.

    Raises:
        ConfigError: a value is invalid; the message names the flag/variable, value and source.
    """
    flags = dict(flags or {})
    environ = os.environ if environ is None else environ
    if flags.get("check_all"):
        flags["check"] = "all"
    endpoints: dict[str, str] = {}
    jaeger_health: str | None = None
    for setting in ENDPOINT_SETTINGS:
        if setting.component in ("otlp-grpc", "otlp-http"):
            endpoints[setting.component] = _otlp_endpoint(setting, flags, environ)
            continue
        raw, source = _lookup(setting.key, flags, environ)
        url = None if raw is None else validate_url(setting, raw, source)
        if setting.component is None:
            jaeger_health = url
        elif url is not None:
            endpoints[setting.component] = url
    endpoints.setdefault("telemetry", endpoints["prometheus"])  # the self-metrics are usually there
    required = parse_components("require", flags, environ) or ()
    checks = parse_components("check", flags, environ)
    explicit_require = _lookup("require", flags, environ)[1] != "default"
    if checks is None:
        checks = required
    elif explicit_require:  # a component explicitly required is always checked
        checks = tuple(c for c in COMPONENTS if c in checks or c in required)
    return HealthConfig(
        checks=checks,
        required=frozenset(c for c in required if c in checks),
        endpoints=endpoints,
        jaeger_health_url=jaeger_health,
        timeout=_seconds("timeout", flags, environ),
        canary=bool(flags.get("canary")),
        canary_timeout=_seconds("canary_timeout", flags, environ),
        canary_signals=_signals(flags, environ),
        protocol=_choice("protocol", flags, environ, PROTOCOLS),
        elasticsearch_index=(_lookup("elasticsearch_index", flags, environ)[0] or "logs-*").strip(),
        telemetry_window_s=_window(flags, environ),
        telemetry_queue_threshold=_percent("telemetry_queue_threshold", flags, environ),
        elasticsearch_auth=_elasticsearch_auth(environ),
    )
