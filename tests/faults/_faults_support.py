"""Helpers for the fault suite: an in-process FastAPI app, request drivers, export counters."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import httpx
from fastapi import FastAPI

from spotify_otel import Telemetry
from spotify_otel.receiver import OTLPReceiver, ReceivedSpan

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger("faults.api")


def make_app() -> FastAPI:
    """``GET /api/tracks/{track_id}``: one log line, a small JSON body."""
    app = FastAPI()
    logger.setLevel(logging.INFO)  # pytest's capture handler keeps the root logger at WARNING

    @app.get("/api/tracks/{track_id}")
    async def track(track_id: int) -> dict[str, int]:
        logger.info("track fetched", extra={"track_id": track_id})
        return {"id": track_id}

    return app


async def _drive(app: FastAPI, tenants: Iterable[str | None], path: str) -> list[int]:
    statuses = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for i, tenant in enumerate(tenants):
            headers = {"X-Tenant-ID": tenant} if tenant is not None else {}
            statuses.append((await client.get(path.format(i=i % 100), headers=headers)).status_code)
    return statuses


def hit(app: FastAPI, tenants: Iterable[str | None], path: str = "/api/tracks/{i}") -> list[int]:
    """Send one request per tenant (``None``: no tenant header) through the ASGI app; the statuses."""
    return asyncio.run(_drive(app, tenants, path))


def server_spans(rx: OTLPReceiver, service: str) -> list[ReceivedSpan]:
    """The SERVER spans ``service`` delivered to ``rx``."""
    return [s for s in rx.store.spans() if s.kind == "SERVER" and s.service_name == service]


def failed_items(telemetry: Telemetry) -> int:
    """Spans and log records the exporters failed to deliver, as counted by the export wrappers."""
    total = 0
    for exporter in (telemetry.providers.span_exporter, telemetry.providers.log_exporter):
        if exporter is not None:
            total += exporter.counters.failed_items
    return total


def rss_bytes() -> int:
    """This process's resident set size."""
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
