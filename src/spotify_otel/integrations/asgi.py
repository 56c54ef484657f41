"""Pure ASGI middleware (no ``BaseHTTPMiddleware``, which breaks contextvar propagation) that opens the
request's tenant scope and records the HTTP server metrics. It wraps the OpenTelemetry ASGI middleware
from the outside, so the server span starts inside the tenant scope."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from spotify_otel._http_metrics import normalize_method
from spotify_otel.integrations._server import ServerInstrumentation
from spotify_otel.tenant import close_scope, current_scope, open_scope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@functools.lru_cache(maxsize=64)
def _wire_name(name: str) -> bytes:
    """A header name as ASGI servers pass it (lower-case latin-1 bytes)."""
    return name.lower().encode("latin-1")


class AsgiRequestView:
    """:class:`~spotify_otel._tenant_resolution.RequestView` over an ASGI scope."""

    __slots__ = ("raw",)

    def __init__(self, scope: Scope) -> None:
        self.raw = scope

    def header(self, name: str) -> str | None:
        wanted = _wire_name(name)
        for key, value in self.raw.get("headers", ()):  # a handful: scanning beats building a dict
            if key == wanted:
                return value.decode("latin-1")  # type: ignore[no-any-return]
        return None

    def host(self) -> str | None:
        host = self.header("host")
        return host.rsplit(":", 1)[0] if host and not host.endswith("]") else host

    def identity(self) -> Any:
        return self.raw.get("user") or self.raw.get("auth")


def _url(scope: Scope) -> str:
    host = ""
    for key, value in scope.get("headers", ()):
        if key == b"host":
            host = value.decode("latin-1")
            break
    query = scope.get("query_string", b"")
    path = scope.get("root_path", "") + scope.get("path", "")
    return f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query.decode('latin-1')}" if query else "")


def _route(scope: Scope) -> str | None:
    """The matched route template (set by the router in the scope), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


def _content_length(view: AsgiRequestView) -> int:
    value = view.header("content-length")
    return int(value) if value is not None and value.isdigit() else 0


class TenantASGIMiddleware:
    """Opens the tenant scope around the request and records ``http.server.*`` metrics."""

    def __init__(self, app: ASGIApp, server: ServerInstrumentation, bypass: ASGIApp | None = None) -> None:
        self.app = app
        self.server = server
        # Excluded URLs (health checks) go straight here, skipping tracing as well.
        self.bypass = bypass if bypass is not None else app

    def _flush_on_shutdown(self, send: Send) -> Send:
        async def send_after_flush(message: Message) -> None:
            if message.get("type") in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                # the server must finish shutting down whatever happens here
                with contextlib.suppress(Exception):
                    await asyncio.get_running_loop().run_in_executor(None, self.server.on_server_shutdown)
            await send(message)

        return send_after_flush

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "lifespan":
            await self.app(scope, receive, self._flush_on_shutdown(send))
            return
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        self.server.warmup()
        if self.server.is_excluded(_url(scope)):
            await self.bypass(scope, receive, send)
            return
        view = AsgiRequestView(scope)
        try:
            tenant = self.server.resolver.resolve(view)
        except Exception:  # never let telemetry fail a request
            tenant = None
        token = open_scope(tenant)
        metrics = self.server.metrics
        status = 500
        bytes_out = 0
        error_type: str | None = None
        active = None
        start = time.perf_counter()
        cpu_start = metrics.cpu_clock() if metrics is not None else 0.0
        try:
            if metrics is not None:
                active = metrics.started(normalize_method(scope.get("method", "")), scope.get("scheme", "http"),
                                         tenant)

            async def send_with_status(message: Message) -> None:
                nonlocal status, bytes_out
                if message["type"] == "http.response.body":
                    bytes_out += len(message.get("body", b""))
                elif message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            await self.app(scope, receive, send_with_status)
        except BaseException as exc:
            error_type = type(exc).__qualname__
            raise
        finally:
            try:
                if metrics is not None and active is not None:
                    bound = current_scope()
                    metrics.finished(active, time.perf_counter() - start, status, _route(scope),
                                     bound.tenant if bound is not None else tenant, error_type,
                                     metrics.cpu_clock() - cpu_start, _content_length(view), bytes_out)
            finally:
                close_scope(token)
