"""spotify-otel on Django with its defaults (sampling etc. come from the environment)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.apps.django_site")

from django.core.wsgi import get_wsgi_application

from spotify_otel import init_telemetry

init_telemetry("bench-spotify-django")
application = get_wsgi_application()
