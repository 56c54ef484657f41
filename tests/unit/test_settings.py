"""Settings: precedence, validation errors naming the setting and accepted values, documentation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from spotify_otel._params import PARAMS, markdown_table
from spotify_otel._settings import resolve
from spotify_otel.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_keyword_beats_ours_beats_otel_beats_default() -> None:
    env = {"SPOTIFY_OTEL_EXPORTER_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
           "OTEL_SERVICE_NAME": "from-otel"}
    assert resolve({}, {}).protocol == "grpc"
    assert resolve({}, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}).protocol == "http/protobuf"
    assert resolve({}, env).protocol == "http/protobuf"
    assert resolve({"protocol": "grpc"}, env).protocol == "grpc"
    assert resolve({}, env).service_name == "from-otel"
    assert resolve({"service_name": "kw"}, env).service_name == "kw"
    assert resolve({}, env).sources["protocol"] == "SPOTIFY_OTEL_EXPORTER_PROTOCOL"


def test_monitoring_aliases_from_the_seed() -> None:
    settings = resolve({}, {"MONITORING_ENABLED": "false", "MONITORING_LOG_LEVEL": "DEBUG"})
    assert settings.enabled is False
    assert settings.log_level == logging.DEBUG


def test_otel_sdk_disabled_turns_everything_off() -> None:
    assert resolve({}, {"OTEL_SDK_DISABLED": "true"}).enabled is False
    assert resolve({}, {"OTEL_SDK_DISABLED": "false"}).enabled is True


def test_otel_exporter_none_switches_a_signal_off() -> None:
    settings = resolve({}, {"OTEL_TRACES_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "otlp"})
    assert settings.traces_enabled is False
    assert settings.logs_enabled is True


@pytest.mark.parametrize(
    ("setting", "value", "accepted"),
    [
        ("protocol", "udp", "'grpc', 'http/protobuf'"),
        ("endpoint", "localhost:4317", "absolute http:// or https:// URL"),
        ("endpoint", "http://", "absolute http:// or https:// URL"),
        ("sample_ratio", 1.5, "between 0.0 and 1.0"),
        ("metric_export_interval_ms", "soon", "an integer"),
        ("compression", "brotli", "'none', 'gzip'"),
        ("tenant_sources", "header,cookie", "'header', 'claim', 'subdomain', 'baggage'"),
        ("enabled", "maybe", "true/false"),
    ],
)
def test_bad_keyword_raises_naming_setting_value_and_accepted(setting: str, value: object, accepted: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve({setting: value}, {})
    message = str(info.value)
    assert setting in message
    assert repr(value) in message
    assert accepted in message
    assert "keyword argument" in message


def test_unknown_keyword_is_rejected() -> None:
    with pytest.raises(ConfigError, match="'protocl'"):
        resolve({"protocl": "grpc"}, {})


@pytest.mark.parametrize(
    ("var", "value", "setting", "expected_default"),
    [
        ("SPOTIFY_OTEL_EXPORTER_PROTOCOL", "udp", "protocol", "grpc"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5", "sample_ratio", 1.0),
        ("SPOTIFY_OTEL_METRIC_EXPORT_INTERVAL", "ten", "metric_export_interval_ms", 10_000),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", "endpoint", None),
    ],
)
def test_bad_environment_value_logs_error_and_falls_back(
    caplog: pytest.LogCaptureFixture, var: str, value: str, setting: str, expected_default: object
) -> None:
    with caplog.at_level(logging.ERROR, logger="spotify_otel.config"):
        settings = resolve({}, {var: value})
    assert getattr(settings, setting) == expected_default
    assert var in caplog.text and repr(value) in caplog.text and "accepted" in caplog.text


def test_bad_ours_falls_back_to_valid_otel_value() -> None:
    settings = resolve({}, {"SPOTIFY_OTEL_EXPORTER_PROTOCOL": "udp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert settings.protocol == "http/protobuf"


def test_subdomain_source_requires_base_domain() -> None:
    with pytest.raises(ConfigError, match="tenant_base_domain"):
        resolve({"tenant_sources": ["subdomain"]}, {})
    assert resolve({"tenant_sources": "subdomain", "tenant_base_domain": "music.example"}, {}).tenant_sources == (
        "subdomain",
    )


def test_repr_masks_headers() -> None:
    settings = resolve({"headers": {"authorization": "Bearer s3cret"}}, {})
    assert "s3cret" not in repr(settings)
    assert "authorization" in repr(settings)


def test_endpoint_defaults_follow_protocol() -> None:
    assert resolve({}, {}).resolved_endpoint == "http://localhost:4317"
    assert resolve({"protocol": "http/protobuf"}, {}).resolved_endpoint == "http://localhost:4318"


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    table = markdown_table()
    assert table in readme, "README configuration table is stale: paste `python -m spotify_otel._params`"
    for param in PARAMS:
        assert f"| `{param.name}` |" in readme
        assert param.doc


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), "1e309", "nan"])
def test_non_finite_numbers_are_config_errors(value: object) -> None:
    with pytest.raises(ConfigError, match="span_schedule_delay_ms"):
        resolve({"span_schedule_delay_ms": value}, {})
