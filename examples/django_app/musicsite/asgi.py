"""ASGI entry point: ``uvicorn musicsite.asgi:application`` (or gunicorn with uvicorn workers).

The tenant middleware is async-capable; sync views run in Django's thread executor with the request's
context (tenant included) copied over.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from spotify_otel import get_telemetry, init_telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicsite.settings")

if get_telemetry() is None:  # not already set up by opentelemetry-instrument
    init_telemetry(os.environ.get("OTEL_SERVICE_NAME", "music-api"))

application = get_asgi_application()
