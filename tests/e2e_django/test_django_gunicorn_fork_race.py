"""A gunicorn worker forked while the master's export thread is doing its first export must still
export its own telemetry (the master has telemetry under ``--preload`` and ``opentelemetry-instrument``,
and its periodic metric export can coincide with the fork of a worker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _support import ROOT, poll, telemetry_env

from spotify_otel.receiver import OTLPReceiver

pytestmark = pytest.mark.slow  # a real fork and real OTLP export

SCRIPT = Path(__file__).resolve().parent / "_fork_during_first_export.py"


def test_django_worker_forked_during_first_export_still_exports(django_rx: OTLPReceiver) -> None:
    env = telemetry_env(django_rx.grpc_endpoint, SPOTIFY_OTEL_SHUTDOWN_TIMEOUT="3")
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output

    def names() -> set[str]:
        return {s.name for s in django_rx.store.spans() if s.service_name == "fork-race"}

    poll(lambda: {"master.span", "worker.span"} <= names(), timeout=5)
    assert names() == {"master.span", "worker.span"}, output
    assert "worker: shutdown finished in time: True" in output, output
