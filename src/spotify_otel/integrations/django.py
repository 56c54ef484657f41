"""Django integration.

Usage: nothing to do; ``init_telemetry()`` (or ``opentelemetry-instrument``) instruments Django. When
settings are not configured yet (the zero-code path runs before ``manage.py`` sets
``DJANGO_SETTINGS_MODULE``), instrumentation waits for ``django.setup()``, which both ``manage.py``
and ``get_wsgi_application()`` call before loading middleware.

The middleware order becomes ``TenantDjangoMiddleware -> OpenTelemetry's Django middleware -> yours``,
so the tenant scope encloses the server span. The contrib middleware's own HTTP metrics are switched
off (they cannot carry the tenant); ours replace them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import TracerProvider

from spotify_otel.integrations import _django_middleware
from spotify_otel.integrations._server import ServerInstrumentation

_logger = logging.getLogger("spotify_otel.integrations")
MIDDLEWARE = "spotify_otel.integrations._django_middleware.TenantDjangoMiddleware"
INSTALL_HINT = "pip install 'spotify-otel[django]'"


def _install(server: ServerInstrumentation, tracer_provider: TracerProvider | None) -> None:
    from django.conf import settings
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware
    from opentelemetry.util.http import ExcludeList

    _django_middleware.configure(server)
    instrumentor = DjangoInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider())
    # Exclusions are regexes; the contrib parser would split them on commas, so set them directly.
    _DjangoMiddleware._excluded_urls = ExcludeList(list(server.excluded_urls))
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        middleware.insert(0, MIDDLEWARE)
        settings.MIDDLEWARE = middleware


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

    installed = [False]
    original_setup = django.setup
    if settings.configured:
        _install(server, tracer_provider)
        installed[0] = True
    else:

        @functools.wraps(original_setup)
        def setup(*args: Any, **kwargs: Any) -> Any:
            django.setup = original_setup
            try:
                _install(server, tracer_provider)
                installed[0] = True
            except Exception:
                _logger.exception("spotify-otel: Django instrumentation failed; serving uninstrumented")
            return original_setup(*args, **kwargs)

        django.setup = setup

    def undo() -> None:
        django.setup = original_setup
        if installed[0]:  # a gunicorn master never calls django.setup(): nothing to uninstrument there
            DjangoInstrumentor().uninstrument()
        _django_middleware.configure(None)

    return undo
