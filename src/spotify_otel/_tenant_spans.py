"""Tag every span started inside a tenant scope with ``tenant.id``."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from spotify_otel.tenant import TENANT_ATTRIBUTE, current_scope


class TenantSpanProcessor(SpanProcessor):
    """Sets ``tenant.id`` at span start (server, child and client spans alike).

    Requests whose tenant is not known yet are tagged ``default_tenant``; :func:`bind_tenant` later
    re-tags the request's first span. Spans outside any scope are left alone.
    """

    def __init__(self, default_tenant: str = "unknown") -> None:
        self.default_tenant = default_tenant

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        scope = current_scope()
        if scope is None:
            return
        if scope.root_span is None:
            scope.root_span = span
        value = scope.tenant or self.default_tenant
        # The server span middleware passes the tenant among the start attributes: no second write
        # (each set_attribute takes a lock and re-validates the value).
        if span.attributes is None or span.attributes.get(TENANT_ATTRIBUTE) != value:
            span.set_attribute(TENANT_ATTRIBUTE, value)

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
