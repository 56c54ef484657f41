"""The lean Django server-span middleware against the contrib ``_DjangoMiddleware``: the same requests go
through two Django handlers (one per middleware) and the spans they export are compared."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
import pytest
from _support import configure_django_once
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.test.utils import override_settings
from django.urls import path, re_path
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.instrumentation._semconv import _StabilityMode
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware
from opentelemetry.instrumentation.propagators import (
    TraceResponsePropagator,
    get_global_response_propagator,
    set_global_response_propagator,
)
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, SpanKind
from opentelemetry.util.http import ExcludeList

from spotify_otel._tenant_resolution import TenantResolver
from spotify_otel._tenant_spans import TenantSpanProcessor
from spotify_otel._tenant_validation import TenantValidator
from spotify_otel.integrations import _django_server_span, _django_urls
from spotify_otel.integrations._semconv import use_stable_http_semconv
from spotify_otel.integrations._server import ServerInstrumentation
from spotify_otel.integrations.django import MIDDLEWARE, SPAN_MIDDLEWARE, instrument_django
from spotify_otel.tenant import close_scope, current_tenant, open_scope

EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(TenantSpanProcessor("unknown"))
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
CHILD_TRACER = PROVIDER.get_tracer("test.views")
HERE = __name__
CONTRIB = DjangoInstrumentor._opentelemetry_middleware
EXCLUDED = r"^[a-z]+://[^/]+/health/?$"
PARENT_TRACE, PARENT_SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


# -- the site -------------------------------------------------------------------------------------
def item(request: HttpRequest, item_id: int) -> HttpResponse:
    with CHILD_TRACER.start_as_current_span("load item"):
        return JsonResponse({"id": item_id})


async def aitem(request: HttpRequest, item_id: int) -> HttpResponse:
    with CHILD_TRACER.start_as_current_span("load item"):
        return JsonResponse({"id": item_id})


def boom(request: HttpRequest) -> HttpResponse:
    raise ValueError("boom")


def missing(request: HttpRequest, name: str) -> HttpResponse:
    raise Http404(f"no {name}")


def ok(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return HttpResponse(b"ok", status=int(request.GET.get("status", "200")))


WHOAMI: list[str | None] = []


def whoami(request: HttpRequest) -> HttpResponse:
    WHOAMI.append(current_tenant())
    return HttpResponse(b"ok")


class Urls:
    urlpatterns = [
        path("whoami", whoami),
        path("", ok, name="home"),
        path("items/<int:item_id>", item),
        path("aitems/<int:item_id>", aitem),
        path("boom", boom),
        path("missing/<slug:name>", missing),
        path("health", ok),
        re_path(r"^legacy/(?P<code>[0-9]+)/$", ok),
    ]


class TenantFromHeader:
    """Opens a tenant scope from ``X-Tenant`` and, like ``TenantDjangoMiddleware``, builds the URL it
    matches against the excluded URLs (which validates the host)."""

    sync_capable = async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        with contextlib.suppress(Exception):
            request.build_absolute_uri("?")
        token = open_scope(request.META.get("HTTP_X_TENANT"))
        try:
            return self.get_response(request)
        finally:
            close_scope(token)

    async def _acall(self, request: Any) -> Any:
        with contextlib.suppress(Exception):
            request.build_absolute_uri("?")
        token = open_scope(request.META.get("HTTP_X_TENANT"))
        try:
            return await self.get_response(request)
        finally:
            close_scope(token)


class Gate:
    """Answers 403 before URL resolution for ``?gate=closed`` (a middleware short-circuiting)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.GET.get("gate") == "closed":
            return HttpResponse(b"no", status=403)
        return self.get_response(request)


def stack(span_middleware: str) -> list[str]:
    return [f"{HERE}.TenantFromHeader", span_middleware, f"{HERE}.Gate"]


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def site() -> Iterator[None]:
    configure_django_once()
    use_stable_http_semconv()
    with override_settings(ROOT_URLCONF=Urls, ALLOWED_HOSTS=["testserver", "127.0.0.1"], DEBUG=False,
                           MIDDLEWARE=[]):
        yield


CONTRIB_STATE = ("_tracer", "_meter", "_sem_conv_opt_in_mode", "_excluded_urls", "_active_request_counter",
                 "_duration_histogram_old", "_duration_histogram_new", "_otel_request_hook", "_otel_response_hook")


@pytest.fixture(autouse=True)
def contrib_configured() -> Iterator[None]:
    """``_DjangoMiddleware`` configured as ``DjangoInstrumentor().instrument()`` leaves it for spotify-otel."""
    saved = {name: _DjangoMiddleware.__dict__.get(name) for name in CONTRIB_STATE}
    meter = NoOpMeterProvider().get_meter("test")
    _DjangoMiddleware._tracer = PROVIDER.get_tracer("opentelemetry.instrumentation.django")
    _DjangoMiddleware._meter = meter
    _DjangoMiddleware._sem_conv_opt_in_mode = _StabilityMode.HTTP
    _DjangoMiddleware._excluded_urls = ExcludeList([EXCLUDED])
    _DjangoMiddleware._active_request_counter = meter.create_up_down_counter("active")
    _DjangoMiddleware._duration_histogram_old = _DjangoMiddleware._duration_histogram_new = None
    _DjangoMiddleware._otel_request_hook = _DjangoMiddleware._otel_response_hook = None
    EXPORTER.clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(_DjangoMiddleware, name, value)


# -- driving requests -----------------------------------------------------------------------------
def environ(method: str = "GET", path: str = "/items/7", query: str = "", raw_uri: bool = True,
            **extra: str) -> dict[str, Any]:
    """A WSGI environ as gunicorn builds it (``RAW_URI`` included)."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.1.2.3", "REMOTE_PORT": "51234", "HTTP_HOST": "testserver:8000",
        "HTTP_USER_AGENT": "pytest-agent", "HTTP_X_TENANT": "acme", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if raw_uri:
        env["RAW_URI"] = path + (f"?{query}" if query else "")
    env.update(extra)
    return env


def wsgi_call(span_middleware: str, env: dict[str, Any], alone: bool = False) -> tuple[str, dict[str, str]]:
    """One request through a WSGI handler built with ``span_middleware`` (``alone``: and nothing else);
    the status line and headers."""
    with override_settings(MIDDLEWARE=[span_middleware] if alone else stack(span_middleware)):
        handler = WSGIHandler()
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        got.update(status=status, headers=dict(headers))

    before = trace.get_current_span()
    body = handler(env, start_response)
    b"".join(body)
    body.close()
    assert trace.get_current_span() is before, "the request left its span attached"
    return got["status"], got["headers"]


def asgi_call(span_middleware: str, path: str, query: bytes = b"", headers: tuple[tuple[bytes, bytes], ...] = ()
              ) -> int:
    """One request through an ASGI handler built with ``span_middleware``; the response status."""
    with override_settings(MIDDLEWARE=stack(span_middleware)):
        handler = ASGIHandler()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
             "headers": [(b"host", b"testserver:8000"), (b"user-agent", b"pytest-agent"), (b"x-tenant", b"acme"),
                         *headers], "client": ("10.1.2.3", 51234), "server": ("127.0.0.1", 8000)}
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        disconnected = asyncio.Event()
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await disconnected.wait()  # the client never leaves: Django cancels this listener
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await handler(scope, receive, send)

    asyncio.run(run())
    return int(sent[0]["status"])


def server_spans() -> list[ReadableSpan]:
    return [span for span in EXPORTER.get_finished_spans() if span.instrumentation_scope is not None
            and span.instrumentation_scope.name == "opentelemetry.instrumentation.django"]


def summary(span: ReadableSpan) -> dict[str, Any]:
    """Everything compared between the two middlewares' spans."""
    parent = span.parent
    return {
        "name": span.name, "kind": span.kind, "attributes": dict(span.attributes or {}),
        "status": (span.status.status_code, span.status.description),
        "parent": (f"{parent.trace_id:032x}", f"{parent.span_id:016x}", parent.is_remote) if parent else None,
        "events": [(event.name, {k: v for k, v in (event.attributes or {}).items() if k != "exception.stacktrace"})
                   for event in span.events],
    }


def one_span(call: Callable[[str], object], span_middleware: str) -> tuple[dict[str, Any], list[ReadableSpan]]:
    EXPORTER.clear()
    call(span_middleware)
    spans = server_spans()
    assert len(spans) == 1, [s.name for s in spans]
    children = [s for s in EXPORTER.get_finished_spans() if s.name == "load item"]
    for child in children:  # a view's spans are children of the server span
        assert child.parent is not None and child.parent.span_id == spans[0].context.span_id
    return summary(spans[0]), children


def both_wsgi(env: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    contrib, _ = one_span(lambda mw: wsgi_call(mw, env()), CONTRIB)
    lean, _ = one_span(lambda mw: wsgi_call(mw, env()), SPAN_MIDDLEWARE)
    return contrib, lean


# -- the same span as the contrib middleware -------------------------------------------------------
CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "route with a parameter": lambda: environ(path="/items/7"),
    "query string": lambda: environ(path="/items/8", query="q=a%20b&x=1"),
    "root path named by url_name": lambda: environ(path="/"),
    "regex route": lambda: environ(path="/legacy/42/"),
    "unmatched url (404)": lambda: environ(path="/nope"),
    "view raising (500)": lambda: environ(path="/boom"),
    "view raising Http404": lambda: environ(path="/missing/thing"),
    "5xx returned by the view": lambda: environ(path="/", query="status=503"),
    "unknown method": lambda: environ(method="FOO"),
    "lower-case method": lambda: environ(method="get"),
    "traceparent parent": lambda: environ(HTTP_TRACEPARENT=f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"),
    "short-circuit before resolution": lambda: environ(path="/items/9", query="gate=closed"),
    "no user agent, no remote port": lambda: environ(HTTP_USER_AGENT="", REMOTE_PORT=""),
    "synthetic user agent": lambda: environ(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)"),
    "reverse-resolved client host": lambda: environ(REMOTE_HOST="client.example"),
    "https": lambda: environ(**{"wsgi.url_scheme": "https", "SERVER_PORT": "443"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_wsgi_span_equals_contrib(case: str) -> None:
    contrib, lean = both_wsgi(CASES[case])
    assert lean == contrib


def test_cases_cover_what_they_claim() -> None:
    """Guards the comparison above against comparing two empty or trivial spans."""
    spans = {case: both_wsgi(CASES[case])[1] for case in ("route with a parameter", "view raising (500)",
                                                         "traceparent parent", "unknown method")}
    route = spans["route with a parameter"]
    assert (route["name"], route["kind"], route["attributes"]["http.route"]) == (
        "GET items/<int:item_id>", SpanKind.SERVER, "items/<int:item_id>")
    assert route["attributes"]["tenant.id"] == "acme"
    assert route["attributes"]["url.path"] == "/items/7"
    failed = spans["view raising (500)"]
    assert failed["status"][1] == "ValueError: boom"
    assert failed["attributes"]["error.type"] == "500"
    assert [name for name, _ in failed["events"]] == ["exception"]
    assert spans["traceparent parent"]["parent"] == (PARENT_TRACE, PARENT_SPAN, True)
    assert (spans["unknown method"]["name"], spans["unknown method"]["attributes"]["http.request.method"]) == (
        "HTTP", "_OTHER")


def test_view_spans_are_children_of_the_server_span() -> None:
    _, children = one_span(lambda mw: wsgi_call(mw, environ()), SPAN_MIDDLEWARE)
    assert len(children) == 1


def test_tenant_is_a_start_attribute() -> None:
    """Passed to ``start_span`` (samplers see it; ``TenantSpanProcessor`` has nothing to rewrite)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _DjangoMiddleware._tracer = provider.get_tracer("opentelemetry.instrumentation.django")
    wsgi_call(SPAN_MIDDLEWARE, environ(HTTP_X_TENANT="globex"))
    assert [(span.attributes or {}).get("tenant.id") for span in exporter.get_finished_spans()] == ["globex"]


@pytest.mark.parametrize("alone", [False, True], ids=["after the tenant middleware", "alone"])
def test_excluded_url_gets_no_span(alone: bool) -> None:
    for middleware in (CONTRIB, SPAN_MIDDLEWARE):
        EXPORTER.clear()
        status, _ = wsgi_call(middleware, environ(path="/health"), alone)
        assert (status[:3], server_spans()) == ("200", [])
        wsgi_call(middleware, environ(path="/health/more"), alone)
        assert len(server_spans()) == 1


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(st.text(max_size=12), st.text(alphabet="/;?#.%:@ \t\n\u00e9", max_size=12),
                  st.sampled_from(["", "/app"]))
def test_exclusion_url_is_build_absolute_uri(head: str, tail: str, script_name: str) -> None:
    path_info = ("/" + head + tail).encode("utf-8", "surrogatepass").decode("latin-1")  # as WSGI servers pass it
    request = WSGIHandler.request_class(environ(path=path_info, SCRIPT_NAME=script_name))
    expected = request.build_absolute_uri("?")  # computes the validated scheme and host first
    assert _django_server_span.exclusion_url(request) == expected


def _fresh(request: Any, excluded: Callable[[str], bool]) -> tuple[bool, str | None]:
    """What the tenant middleware decided before the memo: Django's URL and scheme, every time."""
    try:
        return excluded(request.build_absolute_uri("?")), request.scheme
    except Exception:
        return False, None


HOSTS = st.sampled_from(["testserver", "testserver:8000", "127.0.0.1", "evil.example", "", "[::1]:80",
                         "testserver:443"])
OPTIONAL_HOST = st.one_of(st.none(), HOSTS)
PATHS = st.sampled_from(["/health", "/health/", "/items/7", "/a;b", "/h%20x", "/\u00e9t\u00e9"])
SETTINGS = st.fixed_dictionaries({
    "USE_X_FORWARDED_HOST": st.booleans(), "USE_X_FORWARDED_PORT": st.booleans(),
    "SECURE_PROXY_SSL_HEADER": st.sampled_from([None, ("HTTP_X_FORWARDED_PROTO", "https")]),
    "ALLOWED_HOSTS": st.sampled_from([["testserver", "127.0.0.1"], ["*"], [".example"]]),
})


REQUEST_FIELDS = {
    "path": PATHS, "HTTP_HOST": OPTIONAL_HOST, "HTTP_X_FORWARDED_HOST": OPTIONAL_HOST,
    "HTTP_X_FORWARDED_PORT": st.sampled_from([None, "443", "8443"]),
    "HTTP_X_FORWARDED_PROTO": st.sampled_from([None, "https", "http"]),
    "SERVER_NAME": st.sampled_from(["testserver", "127.0.0.1", "evil.example"]),
    "SERVER_PORT": st.sampled_from(["80", "443", "8000", "8443"]),
    "wsgi.url_scheme": st.sampled_from(["http", "https"]),
}
variation = st.sampled_from(sorted(REQUEST_FIELDS)).flatmap(lambda name: st.tuples(st.just(name),
                                                                                    REQUEST_FIELDS[name]))


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(base=st.fixed_dictionaries(REQUEST_FIELDS), variations=st.lists(variation, min_size=1, max_size=6),
                  django_settings=SETTINGS)
def test_remembered_exclusion_decisions_equal_djangos_url(base: dict[str, Any], variations: list[tuple[str, Any]],
                                                          django_settings: dict[str, Any]) -> None:
    """Requests that differ from one another in a single input: a memo key missing that input answers
    one of them with the other's decision (the second pattern makes the scheme and port matter)."""
    excluded = ExcludeList([EXCLUDED, r"^https://[^/]+:8443/items"]).url_disabled
    decisions = _django_urls.ExclusionDecisions(excluded)
    requests = [base] + [{**base, name: value} for name, value in variations]
    with override_settings(**django_settings):
        for fields in requests * 2:  # every request twice: the second from the memo
            extra = {k: v for k, v in fields.items() if k != "path" and v is not None}
            env = environ(path=fields["path"], **extra)
            if fields["HTTP_HOST"] is None:
                del env["HTTP_HOST"]
            request = WSGIHandler.request_class(env)
            assert decisions.decide(request) == _fresh(WSGIHandler.request_class(dict(env)), excluded)


@pytest.mark.parametrize(("field", "values"), [("SERVER_PORT", ("8443", "8000")),
                                               ("HTTP_X_FORWARDED_PORT", ("8443", "8000")),
                                               ("SERVER_NAME", ("testserver", "evil.example"))])
def test_without_a_host_header_the_port_and_server_name_decide(field: str, values: tuple[str, str]) -> None:
    excluded = ExcludeList([r"^https://[^/]+:8443/items"]).url_disabled
    decisions = _django_urls.ExclusionDecisions(excluded)
    with override_settings(USE_X_FORWARDED_PORT=True):
        answers = []
        for value in values * 2:
            env = environ(**{"wsgi.url_scheme": "https", "SERVER_NAME": "testserver", "SERVER_PORT": "8443",
                             field: value})
            del env["HTTP_HOST"]
            answers.append(decisions.decide(WSGIHandler.request_class(env)))
    assert answers == [(True, "https"), (False, None if field == "SERVER_NAME" else "https")] * 2


def _wsgi_attributes_reference(meta: dict[str, Any]) -> dict[str, Any]:
    """The start attributes built field by field for every request (what the templates must give)."""
    method, original, _ = _django_server_span.method_forms(meta.get("REQUEST_METHOD", ""))
    attributes: dict[str, Any] = {}
    if original:
        attributes["http.request.method_original"] = original
    attributes["http.request.method"] = method
    if scheme := meta.get("wsgi.url_scheme"):
        attributes["url.scheme"] = scheme
    if host := meta.get("HTTP_HOST"):
        attributes["server.address"] = host
    if port := _django_server_span._port(meta.get("SERVER_PORT")):
        attributes["server.port"] = port
    if path_info := meta.get("PATH_INFO"):
        attributes["url.path"] = path_info
    if query := meta.get("QUERY_STRING"):
        attributes["url.query"] = query
    if remote := meta.get("REMOTE_ADDR"):
        attributes["client.address"] = remote
    if remote_port := _django_server_span._port(meta.get("REMOTE_PORT")):
        attributes["client.port"] = remote_port
    remote_host = meta.get("REMOTE_HOST")
    if remote_host and remote_host != remote:
        attributes["client.address"] = remote_host
    if user_agent := meta.get("HTTP_USER_AGENT"):
        _django_server_span._user_agent(attributes, user_agent)
    protocol = meta.get("SERVER_PROTOCOL") or ""
    if protocol[:5].upper() == "HTTP/":
        protocol = protocol[5:]
    if protocol:
        attributes["network.protocol.version"] = protocol
    return attributes


META_FIELDS = {
    "REQUEST_METHOD": st.sampled_from(["GET", "get", " POST", "BREW", ""]),
    "wsgi.url_scheme": st.sampled_from(["http", "https", ""]),
    "HTTP_HOST": st.sampled_from(["testserver:8000", "", "h"]),
    "SERVER_PORT": st.sampled_from(["8000", "0", "x", "", "443"]),
    "PATH_INFO": st.sampled_from(["/items/7", "", "/a"]), "QUERY_STRING": st.sampled_from(["", "q=1"]),
    "REMOTE_ADDR": st.sampled_from(["10.1.2.3", ""]), "REMOTE_PORT": st.sampled_from(["51234", "", "no"]),
    "REMOTE_HOST": st.sampled_from(["", "10.1.2.3", "client.example"]),
    "HTTP_USER_AGENT": st.sampled_from(["pytest-agent", "", "Googlebot/2.1", "AlwaysOn"]),
    "SERVER_PROTOCOL": st.sampled_from(["HTTP/1.1", "http/2", "", "HTTP/"]),
}


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(metas=st.lists(st.fixed_dictionaries({}, optional=META_FIELDS), min_size=1, max_size=6))
def test_start_attributes_from_templates_equal_field_by_field(metas: list[dict[str, Any]]) -> None:
    for meta in metas * 2:  # the second time from the templates
        assert list(_django_server_span.wsgi_attributes(meta).items()) == list(
            _wsgi_attributes_reference(meta).items())


def test_a_changed_setting_is_not_answered_from_the_memo() -> None:
    excluded = ExcludeList([EXCLUDED]).url_disabled
    decisions = _django_urls.ExclusionDecisions(excluded)
    request = environ(path="/health", HTTP_HOST="late.example")
    with override_settings(ALLOWED_HOSTS=["late.example"]):
        assert decisions.decide(WSGIHandler.request_class(dict(request))) == (True, "http")
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        assert decisions.decide(WSGIHandler.request_class(dict(request))) == (False, None)  # now refused


def test_refused_hosts_are_not_remembered_and_the_memo_is_bounded() -> None:
    decisions = _django_urls.ExclusionDecisions(ExcludeList([EXCLUDED]).url_disabled, limit=3)
    decisions.decide(WSGIHandler.request_class(environ(HTTP_HOST="evil.example")))
    assert decisions._memo == {}
    for i in range(10):
        decisions.decide(WSGIHandler.request_class(environ(path=f"/items/{i}")))
        assert len(decisions._memo) <= 3


def test_request_classes_of_others_are_decided_every_time() -> None:
    class Pinned(WSGIHandler.request_class):  # type: ignore[name-defined,misc]
        def get_host(self) -> str:
            return str(self.META["HTTP_PINNED"])

    seen: list[str] = []
    decisions = _django_urls.ExclusionDecisions(lambda url: seen.append(url) or url.endswith("/health"))
    for host in ("one.example", "two.example"):
        decisions.decide(Pinned(environ(path="/health", HTTP_PINNED=host)))
    assert seen == ["http://one.example/health", "http://two.example/health"]
    assert decisions._memo == {}


def test_nested_in_another_span_the_span_is_internal() -> None:
    def call(middleware: str) -> None:
        with CHILD_TRACER.start_as_current_span("outer"):
            wsgi_call(middleware, environ())

    contrib, _ = one_span(call, CONTRIB)
    lean, _ = one_span(call, SPAN_MIDDLEWARE)
    assert lean["kind"] == SpanKind.INTERNAL
    assert lean == {**contrib, "parent": lean["parent"]}  # each has its own outer span


def test_response_propagator_injects_the_server_span() -> None:
    previous = get_global_response_propagator()
    set_global_response_propagator(TraceResponsePropagator())
    try:
        for middleware in (CONTRIB, SPAN_MIDDLEWARE):
            EXPORTER.clear()
            _, headers = wsgi_call(middleware, environ())
            span = server_spans()[0].context
            assert headers["traceresponse"] == f"00-{span.trace_id:032x}-{span.span_id:016x}-{span.trace_flags:02x}"
    finally:
        set_global_response_propagator(previous)  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "query"), [("/aitems/5", b"x=1"), ("/items/6", b""), ("/nope", b"")])
def test_asgi_span_equals_contrib(path: str, query: bytes) -> None:
    traceparent = ((b"traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-01".encode()),)
    contrib, contrib_children = one_span(lambda mw: asgi_call(mw, path, query, traceparent), CONTRIB)
    lean, lean_children = one_span(lambda mw: asgi_call(mw, path, query, traceparent), SPAN_MIDDLEWARE)
    assert lean == contrib
    assert lean["parent"] == (PARENT_TRACE, PARENT_SPAN, True)
    assert len(lean_children) == len(contrib_children) == (0 if path == "/nope" else 1)


# -- documented differences -----------------------------------------------------------------------
def test_url_path_is_set_without_raw_uri() -> None:
    """runserver/wsgiref put neither RAW_URI nor REQUEST_URI in the environ: the contrib drops url.*."""
    contrib, lean = both_wsgi(lambda: environ(path="/items/3", query="a=1", raw_uri=False))
    extra = {"url.path": "/items/3", "url.query": "a=1"}
    assert lean == {**contrib, "attributes": {**contrib["attributes"], **extra}}
    assert "url.path" not in contrib["attributes"]


def test_script_name_prefix_keeps_the_route_in_the_name() -> None:
    contrib, lean = both_wsgi(lambda: environ(path="/items/4", SCRIPT_NAME="/app"))
    assert (contrib["name"], lean["name"]) == ("GET", "GET items/<int:item_id>")
    assert lean == {**contrib, "name": lean["name"]}


def test_disallowed_host_is_traced_and_served() -> None:
    EXPORTER.clear()
    status, _ = wsgi_call(SPAN_MIDDLEWARE, environ(HTTP_HOST="evil.example"))
    spans = server_spans()
    assert status[:3] == "200"
    assert [(s.attributes or {}).get("server.address") for s in spans] == ["evil.example"]


def test_exception_escaping_the_chain_ends_the_span() -> None:
    def fail(request: Any) -> Any:
        raise KeyError("lost")

    with override_settings(MIDDLEWARE=[]):
        middleware = _django_server_span.DjangoServerSpanMiddleware(fail)
    request = WSGIHandler.request_class(environ())
    EXPORTER.clear()
    with pytest.raises(KeyError):
        middleware(request)
    assert trace.get_current_span() is trace.INVALID_SPAN
    [span] = server_spans()
    assert ((span.attributes or {})["error.type"], span.status.description) == ("KeyError", "KeyError: 'lost'")


# -- when the contrib middleware stays, and the wiring ----------------------------------------------
def test_lean_supported_only_for_the_configuration_it_reproduces(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _django_server_span.lean_supported()
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "x-request-id")
    assert not _django_server_span.lean_supported()
    monkeypatch.delenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST")
    monkeypatch.setattr(_DjangoMiddleware, "_sem_conv_opt_in_mode", _StabilityMode.HTTP_DUP)
    assert not _django_server_span.lean_supported()


def _server() -> ServerInstrumentation:
    resolver = TenantResolver(TenantValidator(), ("header",), "X-Tenant", "tenant_id", None, False, None)
    return ServerInstrumentation(resolver, None, (EXCLUDED,))


@pytest.fixture
def uninstrumented() -> Iterator[None]:
    assert not DjangoInstrumentor().is_instrumented_by_opentelemetry
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware"]):
        yield
    DjangoInstrumentor().uninstrument()


def test_instrument_django_puts_the_lean_middleware_after_the_tenant_one(uninstrumented: None) -> None:
    undo = instrument_django(_server(), PROVIDER)
    assert undo is not None
    assert settings.MIDDLEWARE == [MIDDLEWARE, SPAN_MIDDLEWARE, "django.middleware.common.CommonMiddleware"]
    assert DjangoInstrumentor().is_instrumented_by_opentelemetry
    undo()
    assert settings.MIDDLEWARE == [MIDDLEWARE, "django.middleware.common.CommonMiddleware"]
    assert not DjangoInstrumentor().is_instrumented_by_opentelemetry
    again = instrument_django(_server(), PROVIDER)  # a second init keeps the tenant scope outermost
    assert again is not None
    assert settings.MIDDLEWARE == [MIDDLEWARE, SPAN_MIDDLEWARE, "django.middleware.common.CommonMiddleware"]
    again()


def test_instrument_django_keeps_the_contrib_middleware_for_header_capture(
        uninstrumented: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", "content-type")
    undo = instrument_django(_server(), PROVIDER)
    assert undo is not None
    assert settings.MIDDLEWARE == [MIDDLEWARE, CONTRIB, "django.middleware.common.CommonMiddleware"]
    undo()


def test_instrument_django_keeps_an_application_s_own_instrumentation(uninstrumented: None) -> None:
    DjangoInstrumentor().instrument(tracer_provider=PROVIDER, meter_provider=NoOpMeterProvider())
    undo = instrument_django(_server(), PROVIDER)
    assert undo is not None
    assert settings.MIDDLEWARE == [MIDDLEWARE, CONTRIB, "django.middleware.common.CommonMiddleware"]
    undo()
    assert DjangoInstrumentor().is_instrumented_by_opentelemetry  # the application's, left in place


def test_without_traces_only_the_tenant_middleware_is_installed(uninstrumented: None) -> None:
    undo = instrument_django(_server(), NoOpTracerProvider())
    assert undo is not None
    assert settings.MIDDLEWARE == [MIDDLEWARE, "django.middleware.common.CommonMiddleware"]
    assert not DjangoInstrumentor().is_instrumented_by_opentelemetry
    handler = WSGIHandler()  # the tenant scope still encloses the view, and no span is started
    before = len(EXPORTER.get_finished_spans())
    body = handler(environ(path="/whoami"), lambda status, headers, exc_info=None: None)
    b"".join(body)
    body.close()
    assert WHOAMI == ["acme"]
    assert len(EXPORTER.get_finished_spans()) == before
    undo()
    assert settings.MIDDLEWARE == [MIDDLEWARE, "django.middleware.common.CommonMiddleware"]
