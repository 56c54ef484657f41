"""Views of the music API. Nothing here knows about telemetry except the manual ``catalog.*`` spans:
the tenant (``X-Tenant-ID``) lands on every span, log record and HTTP metric by itself."""

from __future__ import annotations

import logging
import threading

import requests
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from opentelemetry import trace

from spotify_otel import current_tenant

from . import catalog, jobs

logger = logging.getLogger("music.api")
tracer = trace.get_tracer("music.api")


def health(request: HttpRequest) -> JsonResponse:
    """Liveness probe (excluded from telemetry by default)."""
    return JsonResponse({"status": "ok"})


def track(request: HttpRequest, track_id: int) -> JsonResponse:
    """One track, looked up inside a manual child span."""
    with tracer.start_as_current_span("catalog.lookup") as span:
        span.set_attribute("music.track_id", track_id)
        found = catalog.TRACKS.get(track_id)
    if found is None:
        logger.warning("track %s not found", track_id)
        raise Http404("track not found")
    logger.info("track fetched", extra={"track_id": track_id})
    return JsonResponse(found)


def search(request: HttpRequest) -> JsonResponse:
    """Tracks matching ``?q=``."""
    query = request.GET.get("q", "")
    with tracer.start_as_current_span("catalog.search"):
        results = catalog.search(query)
    logger.info("search for %r returned %d tracks", query, len(results))
    return JsonResponse({"tenant": current_tenant(), "results": results})


def recommendations(request: HttpRequest) -> JsonResponse:
    """Calls the recommendations service; the tenant travels in W3C baggage."""
    base = settings.RECOMMENDER_URL or f"{request.scheme}://{request.get_host()}"
    genre = request.GET.get("genre", "")
    response = requests.get(f"{base}/internal/recommendations", params={"genre": genre}, timeout=5)
    response.raise_for_status()
    logger.info("recommendations received")
    return JsonResponse(response.json())


def internal_recommendations(request: HttpRequest) -> JsonResponse:
    """The 'downstream' service: its spans carry the caller's tenant from baggage when trusted."""
    with tracer.start_as_current_span("recommender.rank"):
        picks = catalog.recommend(request.GET.get("genre") or None)
    logger.info("ranked %d tracks", len(picks))
    return JsonResponse({"tenant": current_tenant(), "tracks": picks})


def fail(request: HttpRequest) -> JsonResponse:
    """Always raises: a 500 with the exception on the server span."""
    logger.error("about to fail on purpose")
    raise RuntimeError("simulated failure in the music API")


def refresh(request: HttpRequest) -> HttpResponse:
    """Starts the per-tenant background job (``POST ?tenants=acme,globex``)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    names = [t for t in request.GET.get("tenants", "acme,globex").split(",") if t]
    threading.Thread(target=jobs.refresh_recommendations, args=(names,), daemon=True).start()
    return JsonResponse({"status": "started"}, status=202)
