"""A lean Django server-span middleware, replacing the contrib ``_DjangoMiddleware`` on the hot path.

It makes the span the contrib middleware makes as spotify-otel configures it (stable HTTP semantic
conventions; no metrics, hooks, header capture or traced request attributes, see
:func:`lean_supported`): same tracer, name (``GET <route>``, else ``GET <url_name>``, else the method;
``HTTP`` for unknown methods), kind (``INTERNAL`` inside another span), attributes (from the WSGI
environ, or the ASGI scope), ``ERROR`` status on 5xx, exception event and status when the view raised
(``process_exception``), parent (global propagator), excluded URLs (``_DjangoMiddleware._excluded_urls``)
and response propagator; the span is current while the chain and the view run. It costs about 40 %
of the contrib middleware: attributes built once and passed to ``start_span`` (the contrib sets them
twice), no second URL resolution (the route comes from ``request.resolver_match``), one excluded-URL
check (the contrib builds the absolute URI three times), extraction only when a header the
propagator reads is present.

Differences from the contrib middleware, on purpose:

* The span starts named after the method and gets its route when the response is back (samplers see
  ``GET``). The name follows ``request.resolver_match`` (what Django resolved, ``request.urlconf`` and
  ``SCRIPT_NAME`` included), resolving ``path_info`` only when no view ran and the answer is not a
  404; the contrib resolves ``request.path`` with the default URLconf, so under a ``SCRIPT_NAME`` every
  span is named after the bare method.
* ``url.path``/``url.query`` are set even when the server passes neither ``RAW_URI`` nor
  ``REQUEST_URI`` (``runserver``, ``wsgiref``); the contrib omits them there (``url.path`` is required).
* A ``Host`` outside ``ALLOWED_HOSTS`` gets a span and reaches the application as it would
  uninstrumented (the contrib raises ``DisallowedHost`` itself: no span, a 400). An exception escaping
  the chain (``DEBUG_PROPAGATE_EXCEPTIONS``, ``CancelledError``) ends the span with ``error.type`` =
  the exception class (plus event and ``ERROR`` for ``Exception``); the contrib never ends it. A bad
  ``SERVER_PORT`` or non-UTF-8 query string is skipped or replaced instead of raising.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.urls import resolve
from opentelemetry import context, trace
from opentelemetry.instrumentation._semconv import _StabilityMode
from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware
from opentelemetry.instrumentation.propagators import get_global_response_propagator
from opentelemetry.instrumentation.wsgi import wsgi_getter
from opentelemetry.propagate import extract, get_global_textmap
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import (
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST,
    OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE,
    get_custom_headers,
    sanitize_method,
)

from spotify_otel._lean_spans import LeanSpanStarter, set_built_attributes
from spotify_otel.integrations._django_middleware import EXCLUDED_KEY, HybridMiddleware
from spotify_otel.integrations._django_urls import exclusion_url
from spotify_otel.integrations._semconv import synthetic_type
from spotify_otel.tenant import TENANT_ATTRIBUTE, current_scope

_asgi_getter: Any = None
with contextlib.suppress(ImportError):  # the ``django`` extra does not install the ASGI instrumentation
    from opentelemetry.instrumentation.asgi import asgi_getter as _asgi_getter

_logger = logging.getLogger("spotify_otel.integrations")
_START_TIME_KEY = "opentelemetry-instrumentor-django.starttime_key"
_EXCEPTION_KEY = "_spotify_otel_span_exception"
_State = tuple[trace.Span, object, str]  # span, context token, method for the name
_fields: list[Any] = [None, None, frozenset()]  # propagator, its META keys (None: unknown), header names


@functools.lru_cache(maxsize=64)  # bounded: clients choose methods
def method_forms(raw: str) -> tuple[str, str, str]:
    """``http.request.method``, ``http.request.method_original`` (``""`` when equal) and the span
    name's method (``HTTP`` for unknown methods) of a request method, as the contrib computes them."""
    original, method = raw.strip(), sanitize_method(raw).strip()
    named = sanitize_method(raw.strip())
    return method, original if original != method else "", "HTTP" if named == "_OTHER" else named


def propagation_fields(textmap: Any) -> tuple[tuple[str, ...] | None, frozenset[bytes]]:
    """The ``request.META`` keys and header names the propagator reads (``None``: it does not say)."""
    if _fields[0] is not textmap:
        try:
            names = sorted(str(field).lower() for field in textmap.fields)
        except Exception:
            names = []
        _fields[1] = tuple("HTTP_" + name.upper().replace("-", "_") for name in names) if names else None
        _fields[2] = frozenset(name.encode("latin-1") for name in names)
        _fields[0] = textmap
    return _fields[1], _fields[2]


def _port(value: Any) -> int | None:
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


def _user_agent(attributes: dict[str, Any], user_agent: str) -> None:
    attributes["user_agent.original"] = user_agent
    if synthetic := synthetic_type(user_agent):
        attributes["user_agent.synthetic.type"] = synthetic


@functools.lru_cache(maxsize=256)  # bounded: clients choose these values; the dict is never mutated
def _head(method_raw: str, scheme: Any, host: Any, port: Any) -> dict[str, Any]:
    method, original, _ = method_forms(method_raw)
    head: dict[str, Any] = {}
    if original:
        head["http.request.method_original"] = original
    head["http.request.method"] = method
    if scheme:
        head["url.scheme"] = scheme
    if host:
        head["server.address"] = host
    if server_port := _port(port):
        head["server.port"] = server_port
    return head


@functools.lru_cache(maxsize=256)  # bounded: clients choose these values; the dict is never mutated
def _tail(user_agent: Any, protocol: Any) -> dict[str, Any]:
    tail: dict[str, Any] = {}
    if user_agent:
        _user_agent(tail, user_agent)
    protocol = protocol or ""
    if protocol[:5].upper() == "HTTP/":
        protocol = protocol[5:]
    if protocol:
        tail["network.protocol.version"] = protocol
    return tail


def _template(build: Any, *key: Any) -> dict[str, Any]:
    try:
        return build(*key)  # type: ignore[no-any-return]
    except TypeError:  # an unhashable environ value (not from a WSGI server): built every time
        return build.__wrapped__(*key)  # type: ignore[no-any-return]


def wsgi_attributes(meta: dict[str, Any]) -> dict[str, Any]:
    """The server span's start attributes from a WSGI environ (``request.META``).

    The attributes that repeat from request to request (method, scheme, host and port; user agent and
    protocol) are built once per distinct value and copied; path, query and client are per request."""
    attributes = _template(_head, meta.get("REQUEST_METHOD", ""), meta.get("wsgi.url_scheme"), meta.get("HTTP_HOST"),
                           meta.get("SERVER_PORT")).copy()
    if path := meta.get("PATH_INFO"):
        attributes["url.path"] = path
    if query := meta.get("QUERY_STRING"):
        attributes["url.query"] = query
    if remote := meta.get("REMOTE_ADDR"):
        attributes["client.address"] = remote
    if remote_port := _port(meta.get("REMOTE_PORT")):
        attributes["client.port"] = remote_port
    remote_host = meta.get("REMOTE_HOST")
    if remote_host and remote_host != remote:
        attributes["client.address"] = remote_host
    attributes.update(_template(_tail, meta.get("HTTP_USER_AGENT"), meta.get("SERVER_PROTOCOL")))
    return attributes


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except ValueError:
        return value.decode("unicode_escape")


def asgi_attributes(scope: dict[str, Any], fields: frozenset[bytes]) -> tuple[dict[str, Any], bool]:
    """The start attributes from an ASGI scope, and whether a propagation header is present."""
    attributes: dict[str, Any] = {}
    if scheme := scope.get("scheme"):
        attributes["url.scheme"] = scheme
    server = scope.get("server") or ("0.0.0.0", 80)
    with contextlib.suppress(TypeError):
        attributes["server.address"] = server[0] + (":" + str(server[1]) if str(server[1]) != "80" else "")
    if port := _port(server[1]):
        attributes["server.port"] = port
    if version := scope.get("http_version"):
        attributes["network.protocol.version"] = version
    if path := scope.get("path"):
        attributes["url.path"] = path
        if query := scope.get("query_string"):
            attributes["url.query"] = query.decode("utf-8", "replace") if isinstance(query, bytes) else query
    if raw_method := scope.get("method"):
        method, original, _ = method_forms(raw_method)
        if original:
            attributes["http.request.method_original"] = original
        attributes["http.request.method"] = method
    user_agent: str | None = None
    propagated = False
    for key, value in scope.get("headers") or ():
        lowered = key.lower()
        if lowered == b"user-agent":
            if user_agent is None:
                user_agent = _decode(value)
        elif lowered in fields:
            propagated = True
    if user_agent:
        _user_agent(attributes, user_agent)
    client = scope.get("client")
    if client is not None:
        if client[0]:
            attributes["client.address"] = client[0]
        if client_port := _port(client[1]):
            attributes["client.port"] = client_port
    return attributes, propagated


def lean_supported() -> bool:
    """Whether the lean middleware makes the contrib's span under the current configuration (call it
    after ``DjangoInstrumentor().instrument()``); otherwise the contrib middleware stays in charge."""
    middleware: Any = _DjangoMiddleware
    return bool(
        middleware._sem_conv_opt_in_mode is _StabilityMode.HTTP
        and middleware._tracer is not None
        and not middleware._traced_request_attrs
        and middleware._otel_request_hook is None
        and middleware._otel_response_hook is None
        and not get_custom_headers(OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST)
        and not get_custom_headers(OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE)
    )


class DjangoServerSpanMiddleware(HybridMiddleware):
    """One ``SERVER`` span per request around the rest of the middleware chain (sync and async)."""

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        contrib: Any = _DjangoMiddleware
        self.tracer: trace.Tracer | None = contrib._tracer
        self.spans = LeanSpanStarter(self.tracer) if self.tracer is not None else None
        excluded = contrib._excluded_urls
        self.excluded = excluded if getattr(excluded, "_excluded_urls", True) else None

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        state = self._start(request)
        if state is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except BaseException as exc:
            self._finish(request, state, None, exc)
            raise
        self._finish(request, state, response, None)
        return response

    async def _acall(self, request: Any) -> Any:
        state = self._start(request)
        if state is None:
            return await self.get_response(request)
        try:
            response = await self.get_response(request)
        except BaseException as exc:
            self._finish(request, state, None, exc)
            raise
        self._finish(request, state, response, None)
        return response

    def process_exception(self, request: Any, exception: BaseException) -> None:
        """Remember the view's exception: Django turns it into a response before ``__call__`` sees it."""
        setattr(request, _EXCEPTION_KEY, exception)
        return None

    def _start(self, request: Any) -> _State | None:
        spans = self.spans
        if spans is None:
            return None
        try:
            known = request.__dict__.get(EXCLUDED_KEY)  # TenantDjangoMiddleware decided already
            if known is not None:
                if known:
                    return None
            elif self.excluded is not None:
                try:
                    url: str | None = exclusion_url(request)
                except Exception:  # DisallowedHost: the application answers it, traced
                    url = None
                if url is not None and self.excluded.url_disabled(url):
                    return None
            meta = request.META
            textmap = get_global_textmap()
            keys, fields = propagation_fields(textmap)
            if isinstance(request, ASGIRequest):
                carrier: Any = request.scope
                getter: Any = _asgi_getter
                attributes, propagated = asgi_attributes(carrier, fields)
                propagated = propagated or keys is None
                if getter is None:  # the same headers, duplicates joined by Django
                    carrier, getter = meta, wsgi_getter
            else:
                carrier, getter = meta, wsgi_getter
                attributes = wsgi_attributes(meta)
                propagated = keys is None or not meta.keys().isdisjoint(keys)
            tenant_scope = current_scope()
            if tenant_scope is not None and tenant_scope.tenant:
                attributes[TENANT_ATTRIBUTE] = tenant_scope.tenant
            name_method = method_forms(request.method or "")[2]
            name = name_method if name_method == "HTTP" else request.method
            if trace.get_current_span() is trace.INVALID_SPAN:
                kind = SpanKind.SERVER
                ctx = extract(carrier, getter=getter) if propagated else context.get_current()
            else:
                kind = SpanKind.INTERNAL
                ctx = context.get_current()
            span = spans.start(name, ctx, kind, attributes, meta.get(_START_TIME_KEY))
            token = context.attach(trace.set_span_in_context(span, ctx))
        except Exception:
            _logger.debug("spotify-otel: Django server span not started", exc_info=True)
            return None
        return span, token, name_method

    def _finish(self, request: Any, state: _State, response: Any, escaped: BaseException | None) -> None:
        span, token, name_method = state
        try:
            exception = request.__dict__.pop(_EXCEPTION_KEY, None)
            if span.is_recording():
                _end_attributes(request, span, name_method, response, exception or escaped)
            propagator = get_global_response_propagator()  # type: ignore[no-untyped-call]
            if propagator is not None and response is not None:
                propagator.inject(response)
        except Exception:
            _logger.debug("spotify-otel: Django server span attributes skipped", exc_info=True)
        finally:
            context.detach(token)  # type: ignore[arg-type]
            span.end()


def _end_attributes(request: Any, span: trace.Span, name_method: str, response: Any,
                    exception: BaseException | None) -> None:
    """Route, name, status code and error of a finished request on its (recording) span."""
    status: int | None = response.status_code if response is not None else None
    match = request.resolver_match
    route = getattr(match, "route", None)
    updates: dict[str, Any] = {"http.route": route} if route else {}
    if name_method != "HTTP":
        if match is None and status is not None and status != 404:  # no view ran: name it as the contrib
            with contextlib.suppress(Exception):
                match = resolve(request.path_info, getattr(request, "urlconf", None))
        if label := getattr(match, "route", None) or getattr(match, "url_name", None):
            span.update_name(f"{name_method} {label}")
    error = False
    if status is not None:
        updates["http.response.status_code"] = status
        if status < 100 or status >= 500:
            updates["error.type"] = str(status)
            error = True
    elif exception is not None:
        updates["error.type"] = type(exception).__qualname__
    set_built_attributes(span, updates)
    if error:
        span.set_status(Status(StatusCode.ERROR))
    if isinstance(exception, Exception):
        span.record_exception(exception)
        span.set_status(Status(StatusCode.ERROR, f"{type(exception).__name__}: {exception}"))


