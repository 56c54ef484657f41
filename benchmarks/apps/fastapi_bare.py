"""Uninstrumented FastAPI: ``uvicorn benchmarks.apps.fastapi_bare:app``."""

from __future__ import annotations

from benchmarks.apps._fastapi_routes import build_app

app = build_app()
