"""A one-file Django site (no database) serving the same route as the FastAPI apps.

``DJANGO_SETTINGS_MODULE=benchmarks.apps.django_site``; the WSGI modules ``django_*`` pick the telemetry.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import path

SECRET_KEY = "benchmark-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "benchmarks.apps.django_site"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING_CONFIG = None  # leave logging alone: each variant decides

logger = logging.getLogger("bench.api")
TRACKS = {i: {"id": i, "title": f"track {i}", "artist": "someone", "seconds": 180 + i} for i in range(100)}


def health(request: HttpRequest) -> JsonResponse:
    """Readiness probe."""
    return JsonResponse({"status": "ok"})


def track(request: HttpRequest, track_id: int) -> JsonResponse:
    """The benchmarked view: a log line and a small JSON body."""
    logger.info("track fetched", extra={"track_id": track_id})
    return JsonResponse(TRACKS.get(track_id % 100, {}))


urlpatterns = [path("health", health), path("api/tracks/<int:track_id>", track)]
