"""W3C baggage propagation with the tenant trust model.

Outgoing requests carry the current tenant as baggage ``tenant.id`` (overriding any inherited value),
so an instrumented downstream service can tag its own telemetry. Inbound baggage is honoured only when
the service trusts its callers (``trust_inbound_baggage``); otherwise it is dropped at the edge, as the
W3C recommends for baggage crossing a trust boundary.
"""

from __future__ import annotations

from opentelemetry import baggage
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context, get_current
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)

from spotify_otel.tenant import TENANT_ATTRIBUTE, current_tenant


class TenantBaggagePropagator(TextMapPropagator):
    """Drop-in replacement for :class:`W3CBaggagePropagator` applying the trust model."""

    def __init__(self, trust_inbound: bool = False) -> None:
        self.trust_inbound = trust_inbound
        self._w3c = W3CBaggagePropagator()

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        if self.trust_inbound:
            return self._w3c.extract(carrier, context, getter)
        return context if context is not None else get_current()

    def inject(
        self, carrier: CarrierT, context: Context | None = None, setter: Setter[CarrierT] = default_setter
    ) -> None:
        tenant = current_tenant()
        if tenant is not None:
            context = baggage.set_baggage(TENANT_ATTRIBUTE, tenant, context)
        self._w3c.inject(carrier, context, setter)

    @property
    def fields(self) -> set[str]:
        return self._w3c.fields
