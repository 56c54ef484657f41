"""A lean ASGI server-span middleware for HTTP requests, replacing the contrib ``OpenTelemetryMiddleware``
on the hot path.

It produces the same server span as the contrib middleware configured the way spotify-otel uses it
(stable HTTP semantic conventions, no ``receive``/``send`` spans, no contrib metrics): same name
(``GET /route/{template}``), kind, attributes, status and parent (W3C ``traceparent`` through the
global propagator). It is about three times cheaper because it builds the attributes once and passes
them to ``start_span`` (the contrib middleware sets each one twice), reads ``http.route`` from the
route the router put in the scope instead of matching every route again, and decodes only the four
headers it needs. Websocket connections and response propagators stay with the contrib middleware,
which this one delegates to (and which is used alone when request/response header capture is on).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY, _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.instrumentation.propagators import get_global_response_propagator
from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY_PLAIN
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import sanitize_method

from spotify_otel._lean_spans import LeanSpanStarter, set_built_attributes
from spotify_otel.integrations._semconv import synthetic_type
from spotify_otel.tenant import TENANT_ATTRIBUTE, current_scope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PROPAGATION_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


@functools.lru_cache(maxsize=64)  # bounded: clients choose methods
def _sanitized(method: str) -> str:
    return sanitize_method(method.strip())


def request_attributes(scope: Scope) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The server span's start attributes and the propagation headers (``None`` when there are none)."""
    host: str | None = None
    user_agent: str | None = None
    carrier: dict[str, str] | None = None
    for key, value in scope.get("headers") or ():
        if key == b"host":
            if host is None:
                host = value.decode("latin-1")
        elif key == b"user-agent":
            if user_agent is None:
                user_agent = value.decode("latin-1")
        elif key in _PROPAGATION_HEADERS:
            if carrier is None:
                carrier = {}
            carrier.setdefault(key.decode("latin-1"), value.decode("latin-1"))
    server = scope.get("server") or ("0.0.0.0", 80)
    port = server[1]
    raw_method = scope.get("method", "")
    method = _sanitized(raw_method)
    attributes: dict[str, Any] = {}
    scheme = scope.get("scheme")
    if scheme:
        attributes["url.scheme"] = scheme
    attributes["server.address"] = host if host is not None else (
        str(server[0]) + (f":{port}" if str(port) != "80" else ""))
    if port is not None:
        with contextlib.suppress(TypeError, ValueError):
            attributes["server.port"] = int(port)
    version = scope.get("http_version")
    if version:
        attributes["network.protocol.version"] = version
    path = scope.get("path")
    if path:
        attributes["url.path"] = path
    query = scope.get("query_string")
    if query:
        attributes["url.query"] = query.decode("utf8", "replace") if isinstance(query, bytes) else str(query)
    if raw_method.strip() != method:
        attributes["http.request.method_original"] = raw_method.strip()
    attributes["http.request.method"] = method
    if user_agent:
        attributes["user_agent.original"] = user_agent
        if synthetic := synthetic_type(user_agent):
            attributes["user_agent.synthetic.type"] = synthetic
    tenant_scope = current_scope()
    if tenant_scope is not None and tenant_scope.tenant:
        attributes[TENANT_ATTRIBUTE] = tenant_scope.tenant  # TenantSpanProcessor then has nothing to do
    client = scope.get("client")
    if client is not None:
        attributes["client.address"] = client[0]
        with contextlib.suppress(TypeError, ValueError):
            attributes["client.port"] = int(client[1])
    return attributes, carrier


def route_template(scope: Scope) -> str | None:
    """The matched route template the router stored in the scope, never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else None


class ServerSpanMiddleware:
    """One ``SERVER`` span per HTTP request; other scope types go to ``fallback`` (the contrib one)."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer, fallback: ASGIApp) -> None:
        self.next = app
        self.tracer = tracer
        self.spans = LeanSpanStarter(tracer)
        self.fallback = fallback
        # FastAPI >= 0.16x switches its own native telemetry off when it finds the contrib middleware
        # along the ``.app`` chain of the built stack; the contrib one (wrapping the same stack) is
        # therefore exposed as ``app``, so requests are traced once, by us.
        self.app = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or get_global_response_propagator() is not None:  # type: ignore[no-untyped-call]
            await self.fallback(scope, receive, send)
            return
        current = context.get_current()
        if (current.get(_SUPPRESS_INSTRUMENTATION_KEY) or current.get(_SUPPRESS_INSTRUMENTATION_KEY_PLAIN)
                or current.get(_SUPPRESS_HTTP_INSTRUMENTATION_KEY)):
            await self.next(scope, receive, send)  # what is_http_instrumentation_enabled() checks
            return
        attributes, carrier = request_attributes(scope)
        method = attributes["http.request.method"]
        parent = trace.get_current_span(current)
        if parent is trace.INVALID_SPAN:
            kind = SpanKind.SERVER
            ctx = extract(carrier) if carrier is not None else current
        else:  # already inside a server span (nested ASGI apps)
            kind = SpanKind.INTERNAL
            ctx = current
        span = self.spans.start("HTTP" if method == "_OTHER" else method, ctx, kind, attributes)
        token = context.attach(trace.set_span_in_context(span, ctx))
        status: int | None = None
        ended = False

        async def send_with_status(message: Message) -> None:
            nonlocal status, ended
            kind_of_message = message["type"]
            if kind_of_message == "http.response.start":
                status = int(message["status"])
                _finish(span, scope, method, status)
            await send(message)
            if kind_of_message == "http.response.body" and not message.get("more_body", False) and not ended:
                ended = True
                span.end()

        try:
            await self.next(scope, receive, send_with_status)
        except BaseException as exc:
            if not ended and status is None and span.is_recording():
                _finish(span, scope, method, None)
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            context.detach(token)
            if not ended:
                span.end()


def _finish(span: trace.Span, scope: Scope, method: str, status: int | None) -> None:
    """Route template and response status on the span (once the router and the app have run)."""
    if not span.is_recording():
        return
    route = route_template(scope)
    updates: dict[str, Any] = {}
    if route is not None:
        updates["http.route"] = route
        span.update_name(f"HTTP {route}" if method == "_OTHER" else f"{method} {route}")
    if status is not None:
        updates["http.response.status_code"] = status
        if status >= 500:
            updates["error.type"] = str(status)
            span.set_status(Status(StatusCode.ERROR))
    set_built_attributes(span, updates)
