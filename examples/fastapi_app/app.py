"""Multi-tenant music API on FastAPI, instrumented by spotify-otel.

Run with the one-line setup::

    uvicorn examples.fastapi_app.app:app

or with no code change at all (the ``init_telemetry`` call below then finds telemetry already set up)::

    opentelemetry-instrument uvicorn examples.fastapi_app.app:app

Requests carry their tenant in ``X-Tenant-ID``. ``/api/recommendations`` calls the recommendations
service (``RECOMMENDER_URL``, by default this same app's ``/internal/recommendations``) over HTTP,
propagating the tenant in W3C baggage.
"""

from __future__ import annotations

import logging
import os
import threading

import httpx
from fastapi import FastAPI, HTTPException
from opentelemetry import trace

from spotify_otel import current_tenant, get_telemetry, init_telemetry

from . import catalog, jobs

app = FastAPI(title="music-api")

if get_telemetry() is None:  # not already set up by opentelemetry-instrument
    init_telemetry(os.environ.get("OTEL_SERVICE_NAME", "music-api"), app=app)

logger = logging.getLogger("music.api")
tracer = trace.get_tracer("music.api")
RECOMMENDER_URL = os.environ.get("RECOMMENDER_URL", "")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/tracks/{track_id}")
def get_track(track_id: int) -> dict[str, object]:
    with tracer.start_as_current_span("catalog.lookup") as span:
        span.set_attribute("music.track_id", track_id)
        track = catalog.TRACKS.get(track_id)
    if track is None:
        logger.warning("track %s not found", track_id)
        raise HTTPException(status_code=404, detail="track not found")
    logger.info("track fetched", extra={"track_id": track_id})
    return track


@app.get("/api/search")
def search(q: str = "") -> dict[str, object]:
    with tracer.start_as_current_span("catalog.search"):
        results = catalog.search(q)
    logger.info("search for %r returned %d tracks", q, len(results))
    return {"tenant": current_tenant(), "results": results}


@app.get("/api/recommendations")
async def recommendations(genre: str | None = None) -> dict[str, object]:
    base = RECOMMENDER_URL or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{base}/internal/recommendations", params={"genre": genre or ""})
    response.raise_for_status()
    logger.info("recommendations received")
    return response.json()


@app.get("/internal/recommendations")
def internal_recommendations(genre: str = "") -> dict[str, object]:
    """The 'downstream' service: its spans carry the caller's tenant from baggage when trusted."""
    with tracer.start_as_current_span("recommender.rank"):
        picks = catalog.recommend(genre or None)
    logger.info("ranked %d tracks", len(picks))
    return {"tenant": current_tenant(), "tracks": picks}


@app.get("/api/fail")
def fail() -> None:
    logger.error("about to fail on purpose")
    raise RuntimeError("simulated failure in the music API")


@app.post("/api/jobs/refresh")
def refresh(tenants: str = "acme,globex") -> dict[str, str]:
    names = [t for t in tenants.split(",") if t]
    threading.Thread(target=jobs.refresh_recommendations, args=(names,), daemon=True).start()
    return {"status": "started"}
