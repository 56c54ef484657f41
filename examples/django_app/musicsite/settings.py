"""Settings of the music example: no database, no contrib apps, DEBUG off.

Telemetry needs nothing here: ``init_telemetry()`` (called from ``wsgi.py``/``asgi.py``/``manage.py``)
inserts its middleware first in ``MIDDLEWARE`` and attaches its log handler to the root logger.
"""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-example-key-do-not-use-in-production")
DEBUG = False
_EXTRA_HOSTS = [host for host in os.environ.get("ALLOWED_HOSTS", "").split(",") if host]
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", *_EXTRA_HOSTS]

INSTALLED_APPS = ["music"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "musicsite.urls"
WSGI_APPLICATION = "musicsite.wsgi.application"
ASGI_APPLICATION = "musicsite.asgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

# Only levels: every logger keeps propagating to the root logger, where spotify-otel's OTLP handler is.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"music": {"level": "INFO"}},
}

# URL of the recommendations service; empty = this server's own /internal/recommendations.
RECOMMENDER_URL = os.environ.get("RECOMMENDER_URL", "")
