"""Fixtures shared by the whole suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support, fastapi_servers
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples

from spotify_otel.receiver import OTLPReceiver


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    """A real OTLP receiver (gRPC + HTTP) on free loopback ports."""
    rx = OTLPReceiver(host="127.0.0.1", grpc_port=0, http_port=0).start()
    try:
        yield rx
    finally:
        rx.stop()
