"""Uninstrumented Django: ``gunicorn benchmarks.apps.django_bare:application``."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.apps.django_site")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
