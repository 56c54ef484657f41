"""Resolve a request's tenant from the configured sources, in order.

Sources: a user callable (``tenant_resolver``), then ``tenant_sources`` in order: ``header`` (a
trusted header set by our gateway, default ``X-Tenant-ID``), ``claim`` (a claim of an identity an
earlier layer has verified), ``subdomain`` (``acme.<tenant_base_domain>``) and ``baggage`` (inbound
W3C baggage ``tenant.id``, honoured only with ``trust_inbound_baggage``). The first valid value wins;
invalid values are rejected by the validator and the next source is tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from opentelemetry import baggage
from opentelemetry.baggage.propagation import W3CBaggagePropagator

from spotify_otel._tenant_validation import TenantValidator
from spotify_otel.tenant import TENANT_ATTRIBUTE

_logger = logging.getLogger("spotify_otel.tenant")
_w3c_baggage = W3CBaggagePropagator()


class RequestView(Protocol):
    """What resolvers may read from a request, whatever the framework."""

    raw: Any

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (lower-case), or ``None``."""

    def host(self) -> str | None:
        """The request's host name without port, or ``None``."""

    def identity(self) -> Any:
        """The verified identity an earlier layer attached (``request.user``, ``scope['user']``)."""


Resolver = Callable[[RequestView], "str | None"]


class TenantResolver:
    """Resolve the tenant of a request; built once from settings, called per request."""

    def __init__(
        self,
        validator: TenantValidator,
        sources: tuple[str, ...] = ("header",),
        header: str = "X-Tenant-ID",
        claim: str = "tenant_id",
        base_domain: str | None = None,
        trust_inbound_baggage: bool = False,
        user_resolver: Callable[[Any], str | None] | None = None,
    ) -> None:
        self.validator = validator
        self.header_name = header.lower()
        self._claim = claim
        self._suffix = "." + base_domain.lower().strip(".") if base_domain else None
        self._user_resolver = user_resolver
        self._steps: list[tuple[str, Resolver]] = []
        if user_resolver is not None:
            self._steps.append(("resolver", self._from_user))
        table: dict[str, Resolver] = {
            "header": self._from_header,
            "claim": self._from_claim,
            "subdomain": self._from_subdomain,
            "baggage": self._from_baggage,
        }
        for source in sources:
            if source == "baggage" and not trust_inbound_baggage:
                _logger.error(
                    "spotify-otel: tenant source 'baggage' ignored: set trust_inbound_baggage "
                    "(SPOTIFY_OTEL_TRUST_INBOUND_BAGGAGE=true) only on services whose callers are trusted"
                )
                continue
            self._steps.append((source, table[source]))

    @property
    def needs_identity(self) -> bool:
        return any(name == "claim" for name, _ in self._steps)

    def resolve(self, request: RequestView) -> str | None:
        """The first valid tenant id from the configured sources, or ``None``. Never raises."""
        for source, step in self._steps:
            try:
                value = step(request)
            except Exception:
                _logger.debug("tenant source %s failed", source, exc_info=True)
                continue
            if value is not None:
                tenant = self.validator.validate(value, source)
                if tenant is not None:
                    return tenant
        return None

    def _from_user(self, request: RequestView) -> str | None:
        assert self._user_resolver is not None
        value = self._user_resolver(request.raw)
        return value if isinstance(value, str) else None

    def _from_header(self, request: RequestView) -> str | None:
        value = request.header(self.header_name)
        return value.strip() if value is not None else None

    def _from_claim(self, request: RequestView) -> str | None:
        identity = request.identity()
        if identity is None:
            return None
        value = identity.get(self._claim) if isinstance(identity, dict) else getattr(identity, self._claim, None)
        return value if isinstance(value, str) else None

    def _from_subdomain(self, request: RequestView) -> str | None:
        host = request.host()
        if not host or self._suffix is None:
            return None
        host = host.lower()
        if not host.endswith(self._suffix):
            return None
        label = host[: -len(self._suffix)]
        return label if label and "." not in label else None

    def _from_baggage(self, request: RequestView) -> str | None:
        header = request.header("baggage")
        if not header:
            return None
        value = baggage.get_baggage(TENANT_ATTRIBUTE, _w3c_baggage.extract({"baggage": header}))
        return value if isinstance(value, str) else None
