"""Attribute values supplied by application code: validated, and capped per metric like tenants."""

from __future__ import annotations

import re

from spotify_otel._tenant_limits import TenantLimits
from spotify_otel.tenant import current_tenant, validator

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
INVALID = "invalid"
MAX_LABEL_VALUES = 200

# Used before init_telemetry (or when disabled): same semantics, default limits.
_fallback_limits = TenantLimits(100)


def _limits() -> TenantLimits:
    from spotify_otel._telemetry import get_telemetry

    telemetry = get_telemetry()
    return telemetry.limits if telemetry is not None else _fallback_limits


def tenant_value(metric: str, tenant_id: str | None) -> str:
    """The ``tenant.id`` to record: the given one (validated) or the current tenant, capped per metric."""
    limits = _limits()
    if tenant_id is None:
        tenant_id = current_tenant()
    valid = validator().validate(tenant_id, "api") if isinstance(tenant_id, str) else None
    return limits.for_metric(metric)(valid or limits.default_tenant)


def label_value(metric: str, key: str, value: object) -> str:
    """A user-supplied attribute value: ``invalid`` unless it is a short identifier; at most
    ``MAX_LABEL_VALUES`` distinct values per metric and key (then ``__overflow__``)."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, int | float) else ""
    if not _LABEL.fullmatch(text):
        return INVALID
    limits = _limits()
    return limits.for_metric(f"{metric}#{key}", MAX_LABEL_VALUES)(text)
