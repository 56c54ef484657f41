"""Shared test helpers: free ports, server subprocesses stopped by PID, polling with a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Evaluate ``condition`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return True
        except Exception:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    """GET ``url``; returns (status, body) for any HTTP status."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def telemetry_env(endpoint: str, protocol: str = "grpc", **extra: str) -> dict[str, str]:
    """A clean environment pointing the SDK at a test receiver with short export delays."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SPOTIFY_OTEL_", "MONITORING_"))}
    env.update({
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "SPOTIFY_OTEL_BSP_SCHEDULE_DELAY": "100",
        "SPOTIFY_OTEL_BLRP_SCHEDULE_DELAY": "100",
        "SPOTIFY_OTEL_METRIC_EXPORT_INTERVAL": "300",
        "SPOTIFY_OTEL_SYSTEM_METRICS": "false",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


class ServerProcess:
    """A server in a subprocess (own process group), stopped by its PID, output kept for diagnostics."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], port: int, ready_path: str = "/health",
                 cwd: Path = ROOT) -> None:
        self.argv = list(argv)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = tempfile.NamedTemporaryFile(prefix="server-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            self.argv, env=dict(env), cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.ready_path = ready_path

    def wait_ready(self, timeout: float = 30.0) -> ServerProcess:
        ok = poll(lambda: self.process.poll() is None and http_get(self.base_url + self.ready_path, timeout=2)[0]
                  < 500, timeout, interval=0.1)
        if not ok:
            self.stop()
            raise AssertionError(f"server {self.argv} not ready in {timeout}s:\n{self.output()}")
        return self

    def get(self, path: str, tenant: str | None = None, headers: Mapping[str, str] | None = None
            ) -> tuple[int, bytes]:
        all_headers = dict(headers or {})
        if tenant is not None:
            all_headers["X-Tenant-ID"] = tenant
        return http_get(self.base_url + path, all_headers)

    def send_signal(self, sig: int) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` to the server's process group (by the PID we hold) and wait; kill on timeout."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass
        return self.process.returncode

    def output(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")


def configure_django_once() -> None:
    """In-process Django for tests that drive a ``WSGIHandler`` themselves: minimal settings (no apps,
    no database, logging left alone), configured once per process; each test module overrides what it
    needs with ``override_settings``."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(SECRET_KEY="test-only", INSTALLED_APPS=[], DATABASES={}, USE_TZ=True,
                           LOGGING_CONFIG=None)
        django.setup()
