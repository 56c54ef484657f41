"""Property-based fuzzing of what callers and operators control: tenant headers, inbound baggage and
configuration values. Nothing they send may raise, and no invalid tenant id may come out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import baggage
from opentelemetry.context import Context

from spotify_otel import ConfigError
from spotify_otel._params import PARAMS
from spotify_otel._settings import Settings, resolve
from spotify_otel._tenant_propagation import TenantBaggagePropagator
from spotify_otel._tenant_resolution import TenantResolver
from spotify_otel._tenant_validation import TenantValidator
from spotify_otel.integrations.asgi import AsgiRequestView

# Exporter threads left retrying by earlier tests draw from `random` (backoff jitter) while Hypothesis
# generates data, which it reports as a strategy using `random`; nothing here does.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_bytes = st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode("utf-8"))


def resolver(*sources: str, trust: bool = False) -> tuple[TenantResolver, list[tuple[str, str]]]:
    rejected: list[tuple[str, str]] = []
    validator = TenantValidator(64, on_reject=lambda reason, source: rejected.append((reason, source)),
                                warn_interval=3600)
    return TenantResolver(validator, sources or ("header",), "X-Tenant-ID", "tenant_id", "music.example.com",
                          trust), rejected


def scope_with(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "headers": headers, "path": "/", "method": "GET"}


@FUZZ
@given(value=header_bytes, host=header_bytes, bag=header_bytes)
def test_any_tenant_header_resolves_to_a_valid_id_or_none(value: bytes, host: bytes, bag: bytes) -> None:
    resolve_tenant, rejected = resolver("header", "subdomain", "baggage", trust=True)
    view = AsgiRequestView(scope_with([(b"x-tenant-id", value), (b"host", host), (b"baggage", bag)]))
    tenant = resolve_tenant.resolve(view)
    assert tenant is None or VALID.fullmatch(tenant)
    if tenant is not None and tenant == value.decode("latin-1").strip():
        assert not rejected  # the header won straight away


@FUZZ
@given(value=st.text(alphabet=st.characters(codec="latin-1"), max_size=80))
def test_header_validation_matches_the_documented_rule(value: str) -> None:
    resolve_tenant, rejected = resolver("header")
    tenant = resolve_tenant.resolve(AsgiRequestView(scope_with([(b"x-tenant-id", value.encode("latin-1"))])))
    stripped = value.strip()
    if VALID.fullmatch(stripped):
        assert tenant == stripped
    else:
        assert tenant is None
        assert len(rejected) == 1 and rejected[0][1] == "header"


@FUZZ
@given(header=st.text(max_size=400))
def test_untrusted_inbound_baggage_is_always_dropped(header: str) -> None:
    context = TenantBaggagePropagator(trust_inbound=False).extract({"baggage": header}, Context())
    assert baggage.get_all(context) == {}


@FUZZ
@given(header=st.text(max_size=400), tenant=st.from_regex(VALID, fullmatch=True))
def test_trusted_baggage_never_raises_and_outgoing_baggage_carries_our_tenant(header: str, tenant: str) -> None:
    from spotify_otel import tenant_context

    propagator = TenantBaggagePropagator(trust_inbound=True)
    context = propagator.extract({"baggage": header}, Context())
    carrier: dict[str, str] = {}
    with tenant_context(tenant):
        propagator.inject(carrier, context)
    assert f"tenant.id={tenant}" in carrier["baggage"]


env_values = st.text(max_size=40) | st.sampled_from(["", " ", "0", "-1", "1e309", "nan", "true", "grpc", "none",
                                                     "http/protobuf", "10", "99999999999", "a=b,c", "\x00"])


@FUZZ
@given(data=st.data())
def test_any_environment_value_falls_back_instead_of_raising(data: st.DataObject) -> None:
    environ: dict[str, str] = {}
    for param in PARAMS:
        for var in param.env + param.otel_env:
            if data.draw(st.booleans()):
                environ[var] = data.draw(env_values)
    try:
        result = resolve({}, environ)
    except ConfigError as exc:  # only a keyword argument may raise; the environment must not
        raise AssertionError(f"environment raised: {exc}") from exc
    assert isinstance(result, Settings)
    assert 0.0 <= result.sample_ratio <= 1.0 and result.max_tenants >= 1 and result.span_max_queue_size >= 1


@FUZZ
@given(data=st.data())
def test_any_keyword_value_is_accepted_or_a_config_error(data: st.DataObject) -> None:
    param = data.draw(st.sampled_from([p for p in PARAMS if p.name != "tenant_resolver"]))
    value = data.draw(env_values | st.integers(-10**6, 10**9) | st.floats(allow_nan=True) | st.booleans()
                      | st.lists(st.text(max_size=5), max_size=3))
    try:
        result = resolve({param.name: value}, {})
    except ConfigError as exc:
        assert param.name in str(exc)
    else:
        assert result.sources[param.name] == "keyword argument"


def test_unicode_digit_log_level_is_rejected_not_raised() -> None:
    """Found by the fuzzing above: '¹' is ``str.isdigit()`` but not ``int()``-able."""
    settings_from_env = resolve({}, {"SPOTIFY_OTEL_LOG_LEVEL": "¹"})
    assert settings_from_env.sources["log_level"] != "SPOTIFY_OTEL_LOG_LEVEL"  # fell back
    try:
        resolve({"log_level": "¹"}, {})
    except ConfigError as exc:
        assert "log_level" in str(exc)
    else:
        raise AssertionError("an invalid log_level keyword must raise ConfigError")
