"""Fixtures of the dashboard tests: the generated dashboards, and a real Prometheus scraping a real OTLP
receiver's Prometheus endpoint (the stand-in for collector + prometheus exporter)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboards_support import Prometheus, load_dashboards

from spotify_otel.receiver import OTLPReceiver


@pytest.fixture(scope="session")
def dashboards() -> dict[str, dict[str, Any]]:
    """``dashboards/*.json`` parsed, by file name."""
    return load_dashboards()


@pytest.fixture(scope="session")
def receiver_with_prometheus() -> Iterator[tuple[OTLPReceiver, Prometheus]]:
    """An OTLP receiver rendering metrics for Prometheus, and a Prometheus scraping it every second."""
    rx = OTLPReceiver(host="127.0.0.1", grpc_port=0, http_port=0, prometheus_port=0).start()
    assert rx.prometheus_url is not None
    target = rx.prometheus_url.removeprefix("http://").removesuffix("/metrics")
    prom = Prometheus([target])
    try:
        yield rx, prom.wait_ready()
    finally:
        prom.stop()
        rx.stop()


@pytest.fixture(scope="session")
def prometheus(receiver_with_prometheus: tuple[OTLPReceiver, Prometheus]) -> Prometheus:
    """The real Prometheus of :func:`receiver_with_prometheus`."""
    return receiver_with_prometheus[1]
