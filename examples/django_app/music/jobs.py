"""A background job outside any request: per-tenant work tagged with ``tenant_context``."""

from __future__ import annotations

import logging

from opentelemetry import trace

from spotify_otel import tenant_context

from . import catalog

logger = logging.getLogger("music.jobs")
tracer = trace.get_tracer("music.jobs")


def refresh_recommendations(tenants: list[str]) -> dict[str, int]:
    """Recompute recommendations for each tenant; every span and log line carries that tenant."""
    done: dict[str, int] = {}
    for tenant in tenants:
        with tenant_context(tenant), tracer.start_as_current_span("job.refresh_recommendations") as span:
            picks = catalog.recommend(None)
            span.set_attribute("music.recommendations", len(picks))
            logger.info("refreshed %d recommendations", len(picks))
            done[tenant] = len(picks)
    return done
