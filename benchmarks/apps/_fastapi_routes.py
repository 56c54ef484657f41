"""The one route every FastAPI variant serves: a path parameter, a log line, a small JSON body."""

from __future__ import annotations

import logging

from fastapi import FastAPI

logger = logging.getLogger("bench.api")
TRACKS = {i: {"id": i, "title": f"track {i}", "artist": "someone", "seconds": 180 + i} for i in range(100)}


def build_app() -> FastAPI:
    """A FastAPI app with ``GET /api/tracks/{track_id}`` and ``GET /health``."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/tracks/{track_id}")
    async def track(track_id: int) -> dict[str, object]:
        logger.info("track fetched", extra={"track_id": track_id})
        return TRACKS.get(track_id % 100, {})

    return app
