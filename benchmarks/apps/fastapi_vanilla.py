"""Vanilla OpenTelemetry on FastAPI (``FastAPIInstrumentor`` defaults + SDK + OTLP/gRPC)."""

from __future__ import annotations

from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from benchmarks.apps._fastapi_routes import build_app
from benchmarks.apps._otel_vanilla import setup

setup("bench-vanilla")
app = build_app()
FastAPIInstrumentor.instrument_app(app)
