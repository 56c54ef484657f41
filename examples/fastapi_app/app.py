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

import asyncio
import logging
import os
import threading
import time

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from opentelemetry import trace

from spotify_otel import current_tenant, get_telemetry, init_telemetry

from . import catalog, jobs
from .platform import MODEL, VERSION, alerts, business, ml, security

app = FastAPI(title="music-api")

if get_telemetry() is None:  # not already set up by opentelemetry-instrument
    init_telemetry(os.environ.get("OTEL_SERVICE_NAME", "music-api"), app=app)

logger = logging.getLogger("music.api")
tracer = trace.get_tracer("music.api")
RECOMMENDER_URL = os.environ.get("RECOMMENDER_URL", "")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def watch_abuse(request: Request) -> None:
    """Per-tenant, per-client sliding-window abuse detection on every /api call."""
    client = request.headers.get("x-client-id") or (request.client.host if request.client else "unknown")
    security.observe_request(client)


@app.get("/api/tracks/{track_id}", dependencies=[Depends(watch_abuse)])
def get_track(track_id: int) -> dict[str, object]:
    with tracer.start_as_current_span("catalog.lookup") as span:
        span.set_attribute("music.track_id", track_id)
        track = catalog.TRACKS.get(track_id)
    if track is None:
        logger.warning("track %s not found", track_id)
        raise HTTPException(status_code=404, detail="track not found")
    logger.info("track fetched", extra={"track_id": track_id})
    return track


@app.get("/api/search", dependencies=[Depends(watch_abuse)])
def search(q: str = "") -> dict[str, object]:
    started = time.perf_counter()
    with tracer.start_as_current_span("catalog.search"):
        results = catalog.search(q)
    business.track_api_call("spotify_search", duration=(time.perf_counter() - started) * 1000)
    logger.info("search for %r returned %d tracks", q, len(results))
    return {"tenant": current_tenant(), "results": results}


@app.get("/api/recommendations", dependencies=[Depends(watch_abuse)])
async def recommendations(genre: str | None = None, tempo: float = 120.0) -> dict[str, object]:
    base = RECOMMENDER_URL or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{base}/internal/recommendations",
                                    params={"genre": genre or "", "tempo": tempo})
    response.raise_for_status()
    logger.info("recommendations received")
    return response.json()


@app.get("/internal/recommendations")
def internal_recommendations(genre: str = "", tempo: float = 120.0) -> dict[str, object]:
    """The 'downstream' service: its spans carry the caller's tenant from baggage when trusted."""
    with tracer.start_as_current_span("recommender.rank"), ml.inference(MODEL, VERSION):
        picks = catalog.recommend(genre or None)
    ml.observe(MODEL, VERSION, {"tempo": tempo, "genre": genre or "jazz"})
    logger.info("ranked %d tracks", len(picks))
    return {"tenant": current_tenant(), "tracks": picks}


@app.post("/api/login")
def login(user: str = "listener", password: str = "") -> dict[str, str]:
    if password != "open-sesame":
        security.failed_login("bad_credentials")
        security.audit(actor=user, action="login", outcome="failure")
        raise HTTPException(status_code=401, detail="invalid credentials")
    security.audit(actor=user, action="login", outcome="success")
    return {"status": "welcome"}


@app.get("/api/admin/reports")
def admin_reports(role: str = "listener") -> dict[str, str]:
    if role != "admin":
        security.authorization_failure("read_reports")
        raise HTTPException(status_code=403, detail="forbidden")
    return {"reports": "ok"}


@app.post("/api/checkout")
def checkout(plan: str = "premium", active_users: int = 0) -> dict[str, str]:
    business.track_conversion("trial_to_paid")
    if active_users:
        business.set_active_users(active_users)
    return {"plan": plan}


@app.post("/api/incidents")
def incident(name: str = "search_outage", impact_usd: float = 0.0, queue: int = 0) -> dict[str, str]:
    business.record_revenue_impact(impact_usd, name)
    business.set_queue_length("recommendation_jobs", queue)
    alerts.trigger_alert("revenue_incident", severity="warning", summary=f"incident {name}")
    return {"recorded": name}


@app.get("/api/slow")
async def slow(ms: int = 400) -> dict[str, int]:
    await asyncio.sleep(min(ms, 5000) / 1000)
    return {"slept_ms": ms}


@app.get("/api/fail")
def fail() -> None:
    logger.error("about to fail on purpose")
    raise RuntimeError("simulated failure in the music API")


@app.post("/api/jobs/refresh")
def refresh(tenants: str = "acme,globex") -> dict[str, str]:
    names = [t for t in tenants.split(",") if t]
    threading.Thread(target=jobs.refresh_recommendations, args=(names,), daemon=True).start()
    return {"status": "started"}
