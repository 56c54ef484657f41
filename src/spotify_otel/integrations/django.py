"""Django integration.

Usage: nothing to do; ``init_telemetry()`` (or ``opentelemetry-instrument``) instruments Django. When
settings are not configured yet (the zero-code path runs before ``manage.py`` sets
``DJANGO_SETTINGS_MODULE``), instrumentation waits for ``django.setup()``, which both ``manage.py``
and ``get_wsgi_application()`` call before loading middleware.

The middleware order becomes ``TenantDjangoMiddleware -> server span middleware -> yours``, so the
tenant scope encloses the server span. ``DjangoInstrumentor`` is instrumented as usual (its tracer,
excluded URLs and ``is_instrumented_by_opentelemetry`` stay the reference), then its middleware entry
is replaced by :class:`~spotify_otel.integrations._django_server_span.DjangoServerSpanMiddleware`,
which makes the same span at a fraction of the cost. The contrib middleware stays when that one cannot
reproduce its span (old or duplicated semantic conventions, header capture, traced request
attributes) and when the application instrumented Django itself before. The contrib middleware's own
HTTP metrics are switched off (they cannot carry the tenant); ours replace them. With traces off
there is no span middleware at all (as for FastAPI): only the tenant middleware runs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import TracerProvider

from spotify_otel.integrations import _django_middleware
from spotify_otel.integrations._server import ServerInstrumentation, traces_off

_logger = logging.getLogger("spotify_otel.integrations")
MIDDLEWARE = "spotify_otel.integrations._django_middleware.TenantDjangoMiddleware"
SPAN_MIDDLEWARE = "spotify_otel.integrations._django_server_span.DjangoServerSpanMiddleware"
INSTALL_HINT = "pip install 'spotify-otel[django]'"


def _install(server: ServerInstrumentation, tracer_provider: TracerProvider | None) -> bool:
    """Put the middlewares in place; returns whether ``DjangoInstrumentor`` was instrumented here (undo
    uninstruments only what it instrumented)."""
    from django.conf import settings
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware
    from opentelemetry.util.http import ExcludeList

    _django_middleware.configure(server)
    instrumentor = DjangoInstrumentor()
    lean = ours = False
    if not traces_off(tracer_provider) and not instrumentor.is_instrumented_by_opentelemetry:  # else the app's stays
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider())
        lean, ours = _lean_supported(), True
    # Exclusions are regexes; the contrib parser would split them on commas, so set them directly.
    _DjangoMiddleware._excluded_urls = ExcludeList(list(server.excluded_urls))
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if lean and instrumentor._opentelemetry_middleware in middleware:
        middleware[middleware.index(instrumentor._opentelemetry_middleware)] = SPAN_MIDDLEWARE
    if MIDDLEWARE in middleware:  # a second init after undo: keep the tenant scope outermost
        middleware.remove(MIDDLEWARE)
    middleware.insert(0, MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    return ours


def _lean_supported() -> bool:
    try:
        from spotify_otel.integrations._django_server_span import lean_supported
    except ImportError:  # pragma: no cover - a Django too old for the lean middleware's imports
        return False
    return lean_supported()


def instrument_django(
    server: ServerInstrumentation, tracer_provider: TracerProvider | None
) -> Callable[[], None] | None:
    """Instrument Django now, or at ``django.setup()``; returns an undo callable, or ``None``."""
    try:
        import django
        from django.conf import settings
        from opentelemetry.instrumentation.django import DjangoInstrumentor
    except ImportError:
        return None

    installed, ours = [False], [False]
    original_setup = django.setup
    if settings.configured:
        ours[0] = _install(server, tracer_provider)
        installed[0] = True
    else:

        @functools.wraps(original_setup)
        def setup(*args: Any, **kwargs: Any) -> Any:
            django.setup = original_setup
            try:
                ours[0] = _install(server, tracer_provider)
                installed[0] = True
            except Exception:
                _logger.exception("spotify-otel: Django instrumentation failed; serving uninstrumented")
            return original_setup(*args, **kwargs)

        django.setup = setup

    def undo() -> None:
        django.setup = original_setup
        if installed[0]:  # a gunicorn master never calls django.setup(): nothing to uninstrument there
            if ours[0]:  # an application's own DjangoInstrumentor setup stays
                DjangoInstrumentor().uninstrument()
            middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
            if SPAN_MIDDLEWARE in middleware:
                middleware.remove(SPAN_MIDDLEWARE)
                settings.MIDDLEWARE = middleware
        _django_middleware.configure(None)

    return undo
