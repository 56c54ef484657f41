"""Tenant validation, scopes, resolution sources, the trust model in propagation, and the cap."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import baggage
from opentelemetry.context import Context

from spotify_otel import bind_tenant, current_tenant, tenant_context
from spotify_otel._tenant_limits import OVERFLOW_TENANT, TenantLimiter, TenantLimits
from spotify_otel._tenant_propagation import TenantBaggagePropagator
from spotify_otel._tenant_resolution import TenantResolver
from spotify_otel._tenant_validation import TenantValidator
from spotify_otel.tenant import close_scope, open_scope

HOSTILE = ["", "   ", "a" * 10_000, "tenañt", "租户", "acme\r\nX-Evil: 1", "acme;drop table", "../etc/passwd",
           "acme,globex", "acme=1", "-leading-dash", "acme tenant"]


class View:
    def __init__(self, headers: dict[str, str] | None = None, host: str | None = None, user: Any = None) -> None:
        self._headers = {k.lower(): v for k, v in (headers or {}).items()}
        self._host = host
        self._user = user
        self.raw = self

    def header(self, name: str) -> str | None:
        return self._headers.get(name)

    def host(self) -> str | None:
        return self._host

    def identity(self) -> Any:
        return self._user


def test_valid_ids_pass_unchanged() -> None:
    validator = TenantValidator(64)
    for tenant in ["acme", "tenant_1", "Globex-EU", "a.b-c_d", "x" * 64]:
        assert validator.validate(tenant, "header") == tenant


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_rejected_and_counted(value: str) -> None:
    rejected: list[tuple[str, str]] = []
    validator = TenantValidator(64, on_reject=lambda reason, source: rejected.append((reason, source)))
    assert validator.validate(value, "header") is None
    assert len(rejected) == 1 and rejected[0][1] == "header"


def test_rejection_warnings_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    validator = TenantValidator(64, warn_interval=60)
    for _ in range(50):
        validator.validate("bad value!", "header")
    warnings = [r for r in caplog.records if "rejected a tenant id" in r.getMessage()]
    assert len(warnings) == 1
    assert "bad value!" not in caplog.text  # attacker-controlled value never logged


@given(st.text(max_size=300))
def test_validator_never_accepts_outside_charset_or_length(value: str) -> None:
    result = TenantValidator(64).validate(value, "fuzz")
    if result is not None:
        assert result == value and 0 < len(value) <= 64
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in value)


def test_tenant_context_sets_and_restores() -> None:
    assert current_tenant() is None
    with tenant_context("acme"):
        assert current_tenant() == "acme"
        with tenant_context("globex"):
            assert current_tenant() == "globex"
        assert current_tenant() == "acme"
    assert current_tenant() is None


def test_tenant_context_rejects_invalid_ids() -> None:
    with pytest.raises(ValueError, match="invalid tenant id"), tenant_context("bad id!"):
        pass
    assert current_tenant() is None


def test_bind_tenant_only_inside_a_scope_and_only_valid() -> None:
    assert bind_tenant("acme") is False
    token = open_scope(None)
    try:
        assert bind_tenant("not valid!") is False
        assert current_tenant() is None
        assert bind_tenant("acme") is True
        assert current_tenant() == "acme"
    finally:
        close_scope(token)


def test_resolver_sources_in_order_and_fallthrough_on_invalid() -> None:
    resolver = TenantResolver(TenantValidator(), ("header", "subdomain"), base_domain="music.example")
    assert resolver.resolve(View({"X-Tenant-ID": "acme"}, host="globex.music.example")) == "acme"
    assert resolver.resolve(View({"X-Tenant-ID": "bad value"}, host="globex.music.example")) == "globex"
    assert resolver.resolve(View({}, host="music.example")) is None
    assert resolver.resolve(View({}, host="a.b.music.example")) is None
    assert resolver.resolve(View({}, host="evil.example")) is None


def test_custom_header_and_user_callable() -> None:
    resolver = TenantResolver(TenantValidator(), ("header",), header="X-Org",
                              user_resolver=lambda request: "fromcallable" if request.header("x-vip") else None)
    assert resolver.resolve(View({"X-Org": "acme"})) == "acme"
    assert resolver.resolve(View({"X-Org": "acme", "X-VIP": "1"})) == "fromcallable"


def test_claim_source_reads_verified_identity() -> None:
    resolver = TenantResolver(TenantValidator(), ("claim",), claim="org")
    assert resolver.resolve(View(user={"org": "acme"})) == "acme"

    class User:
        org = "globex"

    assert resolver.resolve(View(user=User())) == "globex"
    assert resolver.resolve(View()) is None


def test_baggage_source_needs_trust() -> None:
    untrusted = TenantResolver(TenantValidator(), ("baggage",), trust_inbound_baggage=False)
    trusted = TenantResolver(TenantValidator(), ("baggage",), trust_inbound_baggage=True)
    view = View({"baggage": "tenant.id=acme,other=1"})
    assert untrusted.resolve(view) is None
    assert trusted.resolve(view) == "acme"
    assert trusted.resolve(View({"baggage": "tenant.id=bad%20value"})) is None


def test_propagator_injects_current_tenant_over_inherited_baggage() -> None:
    propagator = TenantBaggagePropagator(trust_inbound=False)
    carrier: dict[str, str] = {}
    inherited = baggage.set_baggage("tenant.id", "spoofed", Context())
    with tenant_context("acme"):
        propagator.inject(carrier, inherited)
    assert "tenant.id=acme" in carrier["baggage"]
    assert "spoofed" not in carrier["baggage"]


def test_untrusted_propagator_drops_inbound_baggage() -> None:
    untrusted = TenantBaggagePropagator(trust_inbound=False).extract({"baggage": "tenant.id=evil"}, Context())
    trusted = TenantBaggagePropagator(trust_inbound=True).extract({"baggage": "tenant.id=acme"}, Context())
    assert baggage.get_baggage("tenant.id", untrusted) is None
    assert baggage.get_baggage("tenant.id", trusted) == "acme"


def test_limiter_caps_distinct_tenants() -> None:
    limiter = TenantLimiter(3, always_allowed=("unknown",))
    values = [limiter(f"t{i}") for i in range(10)]
    assert values[:3] == ["t0", "t1", "t2"]
    assert set(values[3:]) == {OVERFLOW_TENANT}
    assert limiter("t1") == "t1" and limiter("unknown") == "unknown"
    assert limiter.tenants == 3 and limiter.overflowed == 7


def test_limits_are_per_metric() -> None:
    limits = TenantLimits(1)
    assert limits.for_metric("a")("x") == "x"
    assert limits.for_metric("b")("y") == "y"
    assert limits.for_metric("a")("y") == OVERFLOW_TENANT
    assert limits.overflow_counts() == {"a": 1, "b": 0}
