"""The current tenant: a ContextVar holding a small mutable scope, set and reset by token.

Inside a request the instrumentation opens a scope with the resolved tenant; outside requests (jobs,
consumers) use :func:`tenant_context`. Every span started while a scope is active gets ``tenant.id``,
every log record emitted gets it, and the HTTP server metrics of the request carry it.

Example::

    from spotify_otel import tenant_context, current_tenant

    with tenant_context("acme"):
        assert current_tenant() == "acme"
        process_batch()
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span

from spotify_otel._tenant_validation import TenantValidator

TENANT_ATTRIBUTE = "tenant.id"

# Replaced by init_telemetry with the configured validator (max length, rejection counter).
_validator = TenantValidator()
_claim_name = "tenant_id"


class TenantScope:
    """What one request or ``tenant_context`` block knows about its tenant."""

    __slots__ = ("root_span", "tenant")

    def __init__(self, tenant: str | None) -> None:
        self.tenant = tenant
        # The first span started in the scope (the server span of a request): re-tagged by bind_tenant.
        self.root_span: Span | None = None


_scope: contextvars.ContextVar[TenantScope | None] = contextvars.ContextVar("spotify_otel_tenant", default=None)


def current_scope() -> TenantScope | None:
    """The active scope, or ``None`` outside any request or ``tenant_context``."""
    return _scope.get()


def current_tenant() -> str | None:
    """The tenant id of the current request or ``tenant_context`` block, or ``None``."""
    scope = _scope.get()
    return scope.tenant if scope is not None else None


def open_scope(tenant: str | None) -> contextvars.Token[TenantScope | None]:
    """Start a scope (instrumentation use); pair with :func:`close_scope` in ``finally``."""
    return _scope.set(TenantScope(tenant))


def close_scope(token: contextvars.Token[TenantScope | None]) -> None:
    """End the scope started by :func:`open_scope`."""
    _scope.reset(token)


@contextmanager
def tenant_context(tenant_id: str) -> Iterator[str]:
    """Run a block (background job, queue consumer) on behalf of ``tenant_id``.

    Spans, log records and metrics recorded inside carry ``tenant.id``; outgoing HTTP calls carry it
    in W3C baggage. Nesting is allowed; the outer tenant is restored on exit.

    Raises:
        ValueError: ``tenant_id`` is not a valid tenant id (letters, digits, ``.``, ``_``, ``-``; at
            most the configured maximum length).
    """
    reason = _validator.reason(tenant_id) if isinstance(tenant_id, str) else "not_a_string"
    if reason is not None:
        raise ValueError(f"invalid tenant id for tenant_context ({reason}); accepted: letters, digits, "
                         f"'.', '_', '-', at most {_validator.max_length} characters")
    token = open_scope(tenant_id)
    try:
        yield tenant_id
    finally:
        close_scope(token)


def bind_tenant(tenant_id: str | None, source: str = "application") -> bool:
    """Set the tenant of the current request once the application knows it (e.g. after
    authentication). The server span and spans started afterwards get ``tenant.id``; the request's
    HTTP metrics use it. An invalid id is rejected (counted, warned) and ``False`` is returned.
    Never raises."""
    scope = _scope.get()
    tenant = _validator.validate(tenant_id, source) if isinstance(tenant_id, str) else None
    if scope is None or tenant is None:
        return False
    scope.tenant = tenant
    span = scope.root_span
    if span is not None and span.is_recording():
        span.set_attribute(TENANT_ATTRIBUTE, tenant)
    return True


def bind_tenant_from_claims(claims: Mapping[str, Any] | Any) -> bool:
    """Bind the tenant from an already-verified identity: a claims mapping (JWT payload) or an
    object with the claim as an attribute (the ``claim`` tenant source; claim name configurable via
    ``tenant_claim``). Call it from the dependency or middleware that verifies the identity."""
    value = claims.get(_claim_name) if isinstance(claims, Mapping) else getattr(claims, _claim_name, None)
    return bind_tenant(value if isinstance(value, str) else None, source="claim")


def _configure(validator: TenantValidator, claim_name: str) -> None:
    """Install the configured validator and claim name (called by init_telemetry)."""
    global _validator, _claim_name
    _validator = validator
    _claim_name = claim_name


def validator() -> TenantValidator:
    """The active validator (for resolvers)."""
    return _validator
