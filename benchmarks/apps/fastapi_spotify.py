"""spotify-otel on FastAPI with its defaults (sampling etc. come from the environment)."""

from __future__ import annotations

from benchmarks.apps._fastapi_routes import build_app
from spotify_otel import init_telemetry

init_telemetry("bench-spotify")
app = build_app()
