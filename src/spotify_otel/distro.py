"""Zero-code entry points for ``opentelemetry-instrument``.

``opentelemetry-instrument uvicorn app:app`` loads :class:`SpotifyOtelDistro` (entry point group
``opentelemetry_distro``) and runs :class:`SpotifyOtelConfigurator` (group
``opentelemetry_configurator``), which calls :func:`~spotify_otel.init_telemetry` — the same code path
as the one-line setup. Instrumentors that ``init_telemetry`` already handles (FastAPI, Django, HTTP
clients, logging, system metrics) are then skipped, so nothing is instrumented twice; every other
installed instrumentor loads as usual. If several distros are installed, select ours with
``OTEL_PYTHON_DISTRO=spotify_otel OTEL_PYTHON_CONFIGURATOR=spotify_otel``.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _BaseConfigurator

_logger = logging.getLogger("spotify_otel.distro")

# Entry point names (group opentelemetry_instrumentor) that init_telemetry instruments itself.
HANDLED_BY_INIT = frozenset({
    "fastapi", "django", "asgi", "wsgi", "requests", "httpx", "httpx2", "urllib3", "logging", "system_metrics",
})


class SpotifyOtelDistro(BaseDistro):  # type: ignore[misc]
    """The spotify-otel distro: configuration comes from the configurator below."""

    def _configure(self, **kwargs: Any) -> None:
        return None

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        if entry_point.name in HANDLED_BY_INIT:
            return
        super().load_instrumentor(entry_point, **kwargs)


class SpotifyOtelConfigurator(_BaseConfigurator):
    """Runs :func:`~spotify_otel.init_telemetry` with settings from the environment."""

    def _configure(self, **kwargs: Any) -> None:
        from spotify_otel._telemetry import init_telemetry

        try:
            init_telemetry()
        except Exception:  # a zero-code setup must never stop the application from starting
            _logger.exception("spotify-otel: telemetry setup failed; the application runs without it")
