"""Outgoing HTTP: client spans for ``requests`` and ``httpx`` (when installed), inside the caller's
tenant scope (so they carry ``tenant.id``), with the tenant injected into W3C baggage by the
propagator. ``urllib3`` is instrumented when its contrib package matching our release is installed.
The client instrumentations' own metrics are off: they cannot carry the tenant."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import TracerProvider

_logger = logging.getLogger("spotify_otel.integrations")

_CLIENTS = (
    ("requests", "opentelemetry.instrumentation.requests", "RequestsInstrumentor"),
    ("httpx", "opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
    ("urllib3", "opentelemetry.instrumentation.urllib3", "URLLib3Instrumentor"),
)


def instrument_http_clients(tracer_provider: TracerProvider | None) -> Callable[[], None]:
    """Instrument every available client library; returns an undo callable."""
    done = []
    for library, module_name, class_name in _CLIENTS:
        try:
            importlib.import_module(library)
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            instrumentor = getattr(module, class_name)()
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider())
                done.append(instrumentor)
        except Exception:
            _logger.exception("spotify-otel: could not instrument %s", library)

    def undo() -> None:
        for instrumentor in done:
            instrumentor.uninstrument()

    return undo
