"""FastAPI servers under real uvicorn, exporting real OTLP to a real receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spotify_otel.receiver import OTLPReceiver


@pytest.fixture(scope="module")
def module_receiver() -> Iterator[OTLPReceiver]:
    rx = OTLPReceiver(host="127.0.0.1", grpc_port=0, http_port=0).start()
    try:
        yield rx
    finally:
        rx.stop()

