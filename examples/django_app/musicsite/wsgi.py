"""WSGI entry point: ``gunicorn musicsite.wsgi`` (add ``--preload`` freely: exporters are fork-safe).

``init_telemetry()`` runs before Django loads its middleware, so the tenant middleware is in place
for the first request. Under ``opentelemetry-instrument`` telemetry already exists and is left alone.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from spotify_otel import get_telemetry, init_telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicsite.settings")

if get_telemetry() is None:  # not already set up by opentelemetry-instrument (or manage.py)
    init_telemetry(os.environ.get("OTEL_SERVICE_NAME", "music-api"))

application = get_wsgi_application()
