"""Vanilla OpenTelemetry on Django (``DjangoInstrumentor`` defaults + SDK + OTLP/gRPC)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.apps.django_site")

from django.core.wsgi import get_wsgi_application
from opentelemetry.instrumentation.django import DjangoInstrumentor

from benchmarks.apps._otel_vanilla import setup

setup("bench-vanilla-django")
DjangoInstrumentor().instrument()
application = get_wsgi_application()
