"""A small multi-tenant music service instrumented with spotify-otel (FastAPI)."""
