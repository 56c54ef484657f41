"""Fixtures of the Django end-to-end tests: one receiver and one recommender for the session, and each
server mode run once (memoised: a finished run is plain data) whichever test asks for it first."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from _django_e2e import MODES, Scenario, run_scenario, start_recommender
from _support import ServerProcess

from spotify_otel.receiver import OTLPReceiver

GUNICORN_MODES = [name for name, mode in MODES.items() if mode.gunicorn]


@pytest.fixture(scope="session")
def django_rx() -> Iterator[OTLPReceiver]:
    """A real OTLP receiver (gRPC + HTTP) shared by every Django run; services are told apart by name."""
    rx = OTLPReceiver(host="127.0.0.1", grpc_port=0, http_port=0).start()
    try:
        yield rx
    finally:
        rx.stop()


@pytest.fixture(scope="session")
def recommender(django_rx: OTLPReceiver) -> Iterator[ServerProcess]:
    """The downstream service, trusting inbound baggage (SPOTIFY_OTEL_TRUST_INBOUND_BAGGAGE=true)."""
    server = start_recommender(django_rx)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def run_mode(django_rx: OTLPReceiver, recommender: ServerProcess) -> Callable[[str], Scenario]:
    """``run_mode(name)`` runs that server mode once and returns what it produced."""
    done: dict[str, Scenario] = {}

    def run(name: str) -> Scenario:
        if name not in done:
            done[name] = run_scenario(MODES[name], django_rx, recommender)
        return done[name]

    return run


@pytest.fixture(params=list(MODES))
def scenario(request: pytest.FixtureRequest, run_mode: Callable[[str], Scenario]) -> Scenario:
    """Every server mode in turn."""
    return run_mode(request.param)


@pytest.fixture(params=GUNICORN_MODES)
def gunicorn_scenario(request: pytest.FixtureRequest, run_mode: Callable[[str], Scenario]) -> Scenario:
    """The gunicorn modes (two sync workers) in turn."""
    return run_mode(request.param)
