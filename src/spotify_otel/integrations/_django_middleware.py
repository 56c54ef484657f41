"""The Django middleware opening the tenant scope and recording ``http.server.*`` metrics.

Sync and async capable. Inserted first in ``MIDDLEWARE`` by :mod:`spotify_otel.integrations.django`.
With the ``claim`` tenant source, the tenant is bound in ``process_view``, after the authentication
middleware has set ``request.user``.
"""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from spotify_otel._http_metrics import normalize_method
from spotify_otel.integrations._django_urls import ExclusionDecisions
from spotify_otel.integrations._server import ServerInstrumentation
from spotify_otel.tenant import bind_tenant, close_scope, current_scope, open_scope

_server: ServerInstrumentation | None = None
EXCLUDED_KEY = "_spotify_otel_excluded"


def configure(server: ServerInstrumentation | None) -> None:
    """Set the per-process instrumentation the middleware uses (``None`` turns it into a pass-through)."""
    global _server
    _server = server


class DjangoRequestView:
    """:class:`~spotify_otel._tenant_resolution.RequestView` over a Django ``HttpRequest``."""

    __slots__ = ("raw",)

    def __init__(self, request: Any) -> None:
        self.raw = request

    def header(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        meta = self.raw.META
        value = meta.get("HTTP_" + key) if key not in ("CONTENT_TYPE", "CONTENT_LENGTH") else meta.get(key)
        return value if isinstance(value, str) else None

    def host(self) -> str | None:
        host = self.header("host")
        return host.rsplit(":", 1)[0] if host and not host.endswith("]") else host

    def identity(self) -> Any:
        user = getattr(self.raw, "user", None)
        auth = getattr(self.raw, "auth", None)  # e.g. DRF/JWT claims
        return auth if isinstance(auth, dict) else user


class HybridMiddleware:
    """A Django middleware usable in sync and async chains (``__call__`` returns a coroutine in the latter)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)  # type: ignore[type-var]


class TenantDjangoMiddleware(HybridMiddleware):
    """Tenant scope + HTTP server metrics around the rest of the middleware chain."""

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        self.server = _server
        self.exclusions = ExclusionDecisions(_server.is_excluded) if _server is not None else None

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        state = self._before(request)
        if state is None:
            return self.get_response(request)
        status, error_type, response = 500, None, None
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        except BaseException as exc:
            error_type = type(exc).__qualname__
            raise
        finally:
            self._after(request, state, status, error_type, response)

    async def _acall(self, request: Any) -> Any:
        state = self._before(request)
        if state is None:
            return await self.get_response(request)
        status, error_type, response = 500, None, None
        try:
            response = await self.get_response(request)
            status = response.status_code
            return response
        except BaseException as exc:
            error_type = type(exc).__qualname__
            raise
        finally:
            self._after(request, state, status, error_type, response)

    def process_view(self, request: Any, view_func: Any, view_args: Any, view_kwargs: Any) -> None:
        server = self.server
        scope = current_scope()
        if server is not None and scope is not None and scope.tenant is None and server.resolver.needs_identity:
            bind_tenant(server.resolver.resolve(DjangoRequestView(request)), source="claim")
        return None

    def process_exception(self, request: Any, exception: BaseException) -> None:
        """Remember the exception class for ``error.type`` (Django turns it into a 500 response)."""
        request._spotify_otel_error = type(exception).__qualname__
        return None

    def _before(self, request: Any) -> tuple[Any, Any, float, float] | None:
        server, exclusions = self.server, self.exclusions
        if server is None or exclusions is None:
            return None
        server.warmup()
        excluded, scheme = exclusions.decide(request)  # a refused host: False, let Django answer it
        request.__dict__[EXCLUDED_KEY] = excluded  # the server span middleware reuses the decision
        if excluded:
            return None
        try:
            tenant = server.resolver.resolve(DjangoRequestView(request))
        except Exception:
            tenant = None
        token = open_scope(tenant)
        metrics = server.metrics
        if metrics is None:
            return token, None, time.perf_counter(), 0.0
        active = metrics.started(normalize_method(request.method or ""), scheme or request.scheme or "http", tenant)
        return token, active, time.perf_counter(), metrics.cpu_clock()

    def _after(self, request: Any, state: tuple[Any, Any, float, float], status: int, error_type: str | None,
               response: Any) -> None:
        token, active, start, cpu_start = state
        try:
            server = self.server
            if server is not None and server.metrics is not None and active is not None:
                match = getattr(request, "resolver_match", None)
                route = getattr(match, "route", None) or None
                scope = current_scope()
                length = request.META.get("CONTENT_LENGTH") or ""
                body = getattr(response, "content", b"") if not getattr(response, "streaming", True) else b""
                error_type = error_type or getattr(request, "_spotify_otel_error", None)
                server.metrics.finished(active, time.perf_counter() - start, status, route,
                                        scope.tenant if scope is not None else None, error_type,
                                        server.metrics.cpu_clock() - cpu_start, int(length) if length.isdigit() else 0,
                                        len(body))
        finally:
            close_scope(token)
