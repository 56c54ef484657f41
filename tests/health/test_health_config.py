"""Configuration resolution: flag > environment > default, selection, validation with clear errors."""

from __future__ import annotations

import pytest

from spotify_otel.exceptions import ConfigError
from spotify_otel.health import COMPONENTS, DEFAULT_REQUIRED, resolve


def test_defaults() -> None:
    config = resolve({}, {})

    assert config.checks == DEFAULT_REQUIRED
    assert config.required == frozenset(DEFAULT_REQUIRED)
    assert config.timeout == 2.0
    assert config.canary_timeout == 30.0
    assert config.protocol == "grpc"
    assert config.endpoints == {
        "otlp-grpc": "http://localhost:4317",
        "otlp-http": "http://localhost:4318",
        "collector": "http://localhost:13133/",
        "prometheus": "http://localhost:9090",
        "alertmanager": "http://localhost:9093",
        "jaeger": "http://localhost:16686",
        "elasticsearch": "http://localhost:9200",
        "grafana": "http://localhost:3000",
        "telemetry": "http://localhost:9090",
    }
    assert config.jaeger_health_url is None
    assert (config.telemetry_window_s, config.telemetry_queue_threshold) == (300, 80.0)


@pytest.mark.parametrize(
    ("key", "env", "component"),
    [
        ("collector_url", "SPOTIFY_OTEL_HEALTH_COLLECTOR_URL", "collector"),
        ("prometheus_url", "PROMETHEUS_URL", "prometheus"),
        ("alertmanager_url", "ALERTMANAGER_URL", "alertmanager"),
        ("jaeger_url", "JAEGER_QUERY_URL", "jaeger"),
        ("elasticsearch_url", "ELASTICSEARCH_URL", "elasticsearch"),
        ("grafana_url", "GRAFANA_URL", "grafana"),
        ("otlp_grpc_endpoint", "SPOTIFY_OTEL_HEALTH_OTLP_GRPC_ENDPOINT", "otlp-grpc"),
        ("otlp_http_endpoint", "SPOTIFY_OTEL_HEALTH_OTLP_HTTP_ENDPOINT", "otlp-http"),
        ("telemetry_url", "SPOTIFY_OTEL_HEALTH_TELEMETRY_URL", "telemetry"),
    ],
)
def test_flag_beats_environment_beats_default(key: str, env: str, component: str) -> None:
    from_env = resolve({}, {env: "http://from-env:1111"})
    from_flag = resolve({key: "http://from-flag:2222"}, {env: "http://from-env:1111"})

    assert from_env.endpoints[component] == "http://from-env:1111"
    assert from_flag.endpoints[component] == "http://from-flag:2222"


def test_generic_otlp_endpoint_serves_its_protocol_and_derives_the_other_standard_port() -> None:
    grpc = resolve({}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    http = resolve(
        {}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://gw:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    )
    custom = resolve({}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:5000"})

    assert (grpc.endpoints["otlp-grpc"], grpc.endpoints["otlp-http"]) == (
        "http://collector:4317",
        "http://collector:4318",
    )
    assert (http.endpoints["otlp-grpc"], http.endpoints["otlp-http"]) == ("https://gw:4317", "https://gw:4318")
    assert (custom.endpoints["otlp-grpc"], custom.endpoints["otlp-http"]) == (
        "http://collector:5000",
        "http://localhost:4318",
    )
    assert http.protocol == "http/protobuf"


def test_specific_otlp_variable_beats_the_generic_one() -> None:
    config = resolve(
        {},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://generic:4317", "SPOTIFY_OTEL_HEALTH_OTLP_GRPC_ENDPOINT": "other:9999"},
    )

    assert config.endpoints["otlp-grpc"] == "http://other:9999"


@pytest.mark.parametrize(
    ("flags", "environ", "setting", "value", "source"),
    [
        (
            {},
            {"PROMETHEUS_URL": "ftp://prom"},
            "--prometheus-url / PROMETHEUS_URL",
            "ftp://prom",
            "environment variable PROMETHEUS_URL",
        ),
        ({"grafana_url": "localhost:3000"}, {}, "--grafana-url / GRAFANA_URL", "localhost:3000", "flag --grafana-url"),
        ({"jaeger_url": "http://:16686"}, {}, "--jaeger-url / JAEGER_QUERY_URL", "http://:16686", "flag --jaeger-url"),
        (
            {"elasticsearch_url": "http://es:port"},
            {},
            "--elasticsearch-url / ELASTICSEARCH_URL",
            "http://es:port",
            "flag --elasticsearch-url",
        ),
        (
            {},
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector"},
            "--otlp-grpc-endpoint",
            "collector",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        ({"timeout": "0"}, {}, "--timeout / SPOTIFY_OTEL_HEALTH_TIMEOUT", "0", "flag --timeout"),
        (
            {},
            {"SPOTIFY_OTEL_HEALTH_CANARY_TIMEOUT": "soon"},
            "--canary-timeout",
            "soon",
            "SPOTIFY_OTEL_HEALTH_CANARY_TIMEOUT",
        ),
        ({"check": "otlp,prometheus"}, {}, "--check / SPOTIFY_OTEL_HEALTH_CHECK", "otlp,prometheus", "flag --check"),
        (
            {},
            {"SPOTIFY_OTEL_HEALTH_REQUIRED": "kafka"},
            "--require",
            "kafka",
            "environment variable SPOTIFY_OTEL_HEALTH_REQUIRED",
        ),
        ({"protocol": "udp"}, {}, "--protocol / OTEL_EXPORTER_OTLP_PROTOCOL", "udp", "flag --protocol"),
        ({"canary_signals": "profiles"}, {}, "--canary-signals", "profiles", "flag --canary-signals"),
    ],
)
def test_invalid_values_name_the_setting_value_and_source(
    flags: dict[str, str], environ: dict[str, str], setting: str, value: str, source: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(flags, environ)

    message = str(info.value)
    assert setting in message
    assert repr(value) in message
    assert source in message


def test_check_all_selects_every_component_and_keeps_the_default_required() -> None:
    config = resolve({"check_all": True}, {})

    assert config.checks == COMPONENTS
    assert config.required == frozenset(DEFAULT_REQUIRED)


def test_default_required_set_only_applies_to_checked_components() -> None:
    config = resolve({"check": "otlp-grpc,prometheus"}, {})

    assert config.checks == ("otlp-grpc", "prometheus")
    assert config.required == {"otlp-grpc"}


def test_explicitly_required_component_is_always_checked() -> None:
    config = resolve({"check": "prometheus"}, {"SPOTIFY_OTEL_HEALTH_REQUIRED": "grafana,prometheus"})

    assert config.checks == ("prometheus", "grafana")
    assert config.required == {"prometheus", "grafana"}


def test_require_none_and_check_all_from_environment() -> None:
    config = resolve({}, {"SPOTIFY_OTEL_HEALTH_REQUIRED": "none", "SPOTIFY_OTEL_HEALTH_CHECK": "all"})

    assert config.checks == COMPONENTS
    assert config.required == frozenset()


def test_elasticsearch_credentials_are_kept_out_of_repr() -> None:
    api_key = resolve({}, {"ELASTICSEARCH_API_KEY": "abc", "ELASTICSEARCH_USERNAME": "elastic"})
    basic = resolve({}, {"ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": "changeme"})

    assert api_key.elasticsearch_auth == "ApiKey abc"
    assert basic.elasticsearch_auth == "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="
    assert "ZWxhc3RpYzpjaGFuZ2VtZQ" not in repr(basic) and "abc" not in repr(api_key)


def test_telemetry_reads_the_prometheus_url_unless_given_its_own() -> None:
    from_flag = resolve({"prometheus_url": "http://prom:9090"}, {})
    from_env = resolve({}, {"PROMETHEUS_URL": "http://prom-env:9090"})
    own = resolve({"prometheus_url": "http://prom:9090"}, {"SPOTIFY_OTEL_HEALTH_TELEMETRY_URL": "http://thanos:10902"})

    assert from_flag.endpoints["telemetry"] == "http://prom:9090"
    assert from_env.endpoints["telemetry"] == "http://prom-env:9090"
    assert (own.endpoints["prometheus"], own.endpoints["telemetry"]) == ("http://prom:9090", "http://thanos:10902")


@pytest.mark.parametrize(("raw", "seconds"), [("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), (" 45 ", 45),
                                                  ("1.5m", 90)])
def test_telemetry_window_accepts_durations_and_bare_seconds(raw: str, seconds: int) -> None:
    assert resolve({"telemetry_window": raw}, {}).telemetry_window_s == seconds
    assert resolve({}, {"SPOTIFY_OTEL_HEALTH_TELEMETRY_WINDOW": raw}).telemetry_window_s == seconds


@pytest.mark.parametrize(("raw", "percent"), [("95", 95.0), ("62.5%", 62.5), ("100", 100.0)])
def test_telemetry_queue_threshold_is_a_percentage(raw: str, percent: float) -> None:
    assert resolve({"telemetry_queue_threshold": raw}, {}).telemetry_queue_threshold == percent


@pytest.mark.parametrize(
    ("key", "raw", "setting"),
    [
        ("telemetry_window", "5 minutes", "--telemetry-window / SPOTIFY_OTEL_HEALTH_TELEMETRY_WINDOW"),
        ("telemetry_window", "0s", "--telemetry-window / SPOTIFY_OTEL_HEALTH_TELEMETRY_WINDOW"),
        ("telemetry_window", "31d", "--telemetry-window / SPOTIFY_OTEL_HEALTH_TELEMETRY_WINDOW"),
        ("telemetry_window", "1.5s", "--telemetry-window / SPOTIFY_OTEL_HEALTH_TELEMETRY_WINDOW"),
        ("telemetry_queue_threshold", "0", "--telemetry-queue-threshold"),
        ("telemetry_queue_threshold", "120", "--telemetry-queue-threshold"),
        ("telemetry_queue_threshold", "high", "--telemetry-queue-threshold"),
        ("telemetry_url", "prom:9090", "--telemetry-url / SPOTIFY_OTEL_HEALTH_TELEMETRY_URL"),
    ],
)
def test_invalid_telemetry_settings_name_the_setting_and_value(key: str, raw: str, setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve({key: raw}, {})

    message = str(info.value)
    assert setting in message
    assert repr(raw) in message
    assert f"flag {setting.split(' / ')[0]}" in message
