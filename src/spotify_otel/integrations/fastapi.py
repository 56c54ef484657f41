"""FastAPI integration.

Usage: nothing to do; ``init_telemetry()`` instruments every ``FastAPI`` application, including one
created before the call, as long as it has not served a request yet. Pass ``app=`` to instrument one
that already has.

How: ``FastAPI.build_middleware_stack`` is wrapped at class level, so each application builds its
stack as ``TenantASGIMiddleware -> ServerSpanMiddleware -> the application's own stack``. The
tenant scope therefore encloses the server span; the ``receive``/``send`` internal spans are not
produced (they double a request's span count for little information); excluded URLs bypass both
layers. :class:`~spotify_otel.integrations._server_span.ServerSpanMiddleware` makes the same server
span as the contrib ``OpenTelemetryMiddleware`` at a third of its cost and hands websockets (and, when
header capture is configured, everything) to the contrib middleware.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import TracerProvider
from opentelemetry.util.http import ExcludeList

from spotify_otel.integrations._server import ServerInstrumentation, traces_off
from spotify_otel.integrations._server_span import ServerSpanMiddleware
from spotify_otel.integrations.asgi import TenantASGIMiddleware

_logger = logging.getLogger("spotify_otel.integrations")
INSTALL_HINT = "pip install 'spotify-otel[fastapi]'"


def instrument_fastapi(
    server: ServerInstrumentation, tracer_provider: TracerProvider | None, app: Any = None
) -> Callable[[], None] | None:
    """Instrument all FastAPI apps; returns an undo callable, or ``None`` when FastAPI is absent."""
    try:
        import fastapi
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.fastapi import _get_default_span_details
        from opentelemetry.instrumentation.fastapi.package import _instruments  # noqa: F401
    except ImportError:
        if app is not None:
            _logger.warning("spotify-otel: app= given but FastAPI instrumentation is missing: %s", INSTALL_HINT)
        return None

    from opentelemetry.trace import get_tracer

    tracer = get_tracer("opentelemetry.instrumentation.fastapi", tracer_provider=tracer_provider)
    meter = NoOpMeterProvider().get_meter("spotify_otel.fastapi")
    original = fastapi.FastAPI.build_middleware_stack
    tracing_off = traces_off(tracer_provider)

    def build_middleware_stack(self: Any) -> Any:
        stack = original(self)
        try:
            _stand_down_native_telemetry(self)
            traced: Any = stack  # traces disabled: no span layer at all
            if not tracing_off:
                contrib = OpenTelemetryMiddleware(
                    stack, excluded_urls=ExcludeList([]), default_span_details=_get_default_span_details,
                    tracer=tracer, meter=meter, exclude_spans=["receive", "send"],
                )
                traced = contrib if _captures_headers(contrib) else ServerSpanMiddleware(stack, tracer, contrib)
            return TenantASGIMiddleware(traced, server, bypass=stack)
        except Exception:  # never break the application because instrumentation failed
            _logger.exception("spotify-otel: FastAPI instrumentation failed; serving uninstrumented")
            return stack

    fastapi.FastAPI.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
    if app is not None:
        reset_app_stack(app)

    def undo() -> None:
        fastapi.FastAPI.build_middleware_stack = original  # type: ignore[method-assign]

    return undo


def _stand_down_native_telemetry(app: Any) -> None:
    """FastAPI >= 0.16x has OpenTelemetry telemetry of its own, which stands down when it finds the contrib
    middleware in the stack (as it does here) -- after checking the global providers and walking the
    middleware stack on every request. Switching it off in the app's telemetry config makes the same
    decision once (a few us per request)."""
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        for feature in ("tracing", "metrics", "logs", "operation_spans"):
            if feature in config:
                config[feature] = False


def _captures_headers(contrib: Any) -> bool:
    """Header capture (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_*``) is the contrib's job."""
    return bool(getattr(contrib, "http_capture_headers_server_request", None)
                or getattr(contrib, "http_capture_headers_server_response", None))


def reset_app_stack(app: Any) -> None:
    """Make an app that already served requests rebuild its (now instrumented) middleware stack."""
    if getattr(app, "middleware_stack", None) is not None:
        app.middleware_stack = None
