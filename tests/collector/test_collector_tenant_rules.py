"""The collector's tenant normalisation and scrubbing rules, replayed in Python on sample values.

The OTTL statements and Go regular expressions of otel-collector.yaml are read from the file; the small
subset they use (IsMatch = unanchored search, character classes, (?i), ^/$) behaves the same in Python's
``re``. The tenant rules are compared with the SDK's own validator, so the collector and the SDK cannot
drift apart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from collector_helpers import SIDECAR, load_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

CONFIG: dict[str, Any] = load_yaml(SIDECAR)
TENANT = CONFIG["processors"]["transform/tenant"]
SPAN_STATEMENTS: list[str] = TENANT["trace_statements"][0]["statements"]
LOG_STATEMENTS: list[str] = TENANT["log_statements"][0]["statements"]
REDACTION = CONFIG["processors"]["redaction/secrets"]

# Sentry's default deny-list (REFERENCE.md), exact lower-cased keys.
SENTRY_DENY_LIST = [
    "password", "passwd", "secret", "api_key", "apikey", "auth", "credentials", "mysql_pwd",
    "privatekey", "private_key", "token", "ip_address", "session", "csrftoken", "sessionid",
    "remote_addr", "x_csrftoken", "x_forwarded_for", "set_cookie", "cookie", "authorization",
    "x_api_key", "x_real_ip",
]  # fmt: skip


def _validation_statement() -> str:
    matches = [s for s in SPAN_STATEMENTS if "IsMatch" in s]
    assert len(matches) == 1, "expected one statement with the tenant.id validity rules"
    return matches[0]


def collector_tenant(value: object) -> object:
    """What the three tenant statements of the span context do to attributes["tenant.id"]."""
    statement = _validation_statement()
    patterns = re.findall(r'IsMatch\(attributes\["tenant\.id"\], "([^"]+)"\)', statement)
    max_length = int(re.search(r'Len\(attributes\["tenant\.id"\]\) > (\d+)', statement).group(1))  # type: ignore[union-attr]
    exempt = re.findall(r'attributes\["tenant\.id"\] != "([^"]+)"', statement)
    assert len(patterns) == 2 and exempt == ["__overflow__"]
    if value is None or not isinstance(value, str):
        return "unknown"
    if value not in exempt and (value == "" or len(value) > max_length or any(re.search(p, value) for p in patterns)):
        return "unknown"
    return value


def data_stream_namespace(tenant: str) -> str:
    """What the log statements derive from tenant.id for data_stream.namespace."""
    assert 'ConvertCase(attributes["tenant.id"], "lower")' in " ".join(LOG_STATEMENTS)
    replace = next(s for s in LOG_STATEMENTS if s.startswith('replace_pattern(attributes["data_stream.namespace"]'))
    pattern, replacement = re.findall(r'"([^"]*)"', replace)[1:3]
    return re.sub(pattern, replacement, tenant.lower())


def test_missing_and_non_string_tenants_become_unknown() -> None:
    assert SPAN_STATEMENTS[0] == 'set(attributes["tenant.id"], "unknown") where attributes["tenant.id"] == nil'
    assert collector_tenant(None) == "unknown"
    assert collector_tenant(42) == "unknown"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme", "acme"),
        ("Acme-Corp.eu_1", "Acme-Corp.eu_1"),  # case kept: the SDK's value is the identity
        ("unknown", "unknown"),
        ("__overflow__", "__overflow__"),
        ("a" * 64, "a" * 64),
        ("a" * 65, "unknown"),
        ("", "unknown"),
        ("-acme", "unknown"),
        ("_acme", "unknown"),
        ("acme corp", "unknown"),
        ("acme/../x", "unknown"),
        ("äcme", "unknown"),
        ("acme\n", "unknown"),
    ],
)
def test_tenant_values(value: str, expected: str) -> None:
    assert collector_tenant(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ09._-_ /äé\n", max_size=70))
def test_collector_keeps_exactly_the_tenants_the_sdk_accepts(value: str) -> None:
    validation = pytest.importorskip("spotify_otel._tenant_validation")
    sdk_accepts = validation.TenantValidator(max_length=64).reason(value) is None
    expected = value if sdk_accepts or value == "__overflow__" else "unknown"
    assert collector_tenant(value) == expected


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True))
def test_every_valid_tenant_gives_a_valid_data_stream_name(tenant: str) -> None:
    namespace = data_stream_namespace(collector_tenant(tenant))  # type: ignore[arg-type]
    # Elasticsearch: lower case, no '-' in the namespace, none of \ / * ? " < > | , # : or space.
    assert namespace == namespace.lower()
    assert not re.search(r'[-\\/*?"<>|,# :]', namespace)
    assert len(f"logs-spotify_otel.otel-{namespace}".encode()) <= 255


def test_special_tenants_route_to_their_own_data_streams() -> None:
    assert data_stream_namespace("unknown") == "unknown"
    assert data_stream_namespace("__overflow__") == "__overflow__"
    assert data_stream_namespace("Acme-Corp") == "acme_corp"
    assert 'set(attributes["data_stream.dataset"], "spotify_otel")' in LOG_STATEMENTS


def go_regex(pattern: str) -> re.Pattern[str]:
    """A Go (RE2) pattern of the config as a Python pattern: POSIX classes and \\z differ."""
    return re.compile(pattern.replace("[[:space:]]", r"\s").replace(r"\z", r"\Z"))


def _key_masked(key: str) -> bool:
    return any(go_regex(pattern).search(key) for pattern in REDACTION["blocked_key_patterns"])


@pytest.mark.parametrize("key", SENTRY_DENY_LIST)
def test_sentry_deny_list_keys_are_masked(key: str) -> None:
    assert _key_masked(key)
    assert _key_masked(key.upper())
    assert _key_masked(f"app.{key}")


@pytest.mark.parametrize(
    "key",
    [
        "http.request.header.authorization",
        "http.request.header.cookie",
        "http.response.header.set-cookie",
        "http.request.header.x-api-key",
        "http.request.header.x-forwarded-for",
        "db.password",
        "user.api-key",
        "oauth.client_secret",
        "session.id",
    ],
)
def test_namespaced_secret_keys_are_masked(key: str) -> None:
    assert _key_masked(key)


@pytest.mark.parametrize(
    "key",
    [
        "tenant.id",
        "service.name",
        "http.route",
        "url.path",
        "http.response.status_code",
        "gen_ai.usage.input_tokens",
        "author",
        "tokenizer.name",
        "spotify.tenant.rejected",
        "client.address",
    ],
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not _key_masked(key)


def test_bearer_tokens_and_jwts_are_masked_in_values() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    samples = [f"Authorization: Bearer {jwt}", "bearer abcdefgh12345678", f"token={jwt}"]
    for sample in samples:
        assert any(go_regex(p).search(sample) for p in REDACTION["blocked_values"]), sample
    for ordinary in ("GET /api/v1/bearer", "tenant acme", "eyJ short.x.y"):
        assert not any(go_regex(p).search(ordinary) for p in REDACTION["blocked_values"]), ordinary


def test_log_bodies_are_scrubbed_with_the_same_value_patterns() -> None:
    body = CONFIG["processors"]["transform/scrub_log_body"]["log_statements"][0]["statements"]
    body_patterns = sorted(re.findall(r'replace_pattern\(body, "([^"]+)"', " ".join(body)))
    assert body_patterns == sorted(REDACTION["blocked_values"])
    assert all("where IsString(body)" in statement for statement in body)


def test_redaction_keeps_every_other_attribute_and_adds_none() -> None:
    assert REDACTION["allow_all_keys"] is True
    assert REDACTION["summary"] == "silent"
