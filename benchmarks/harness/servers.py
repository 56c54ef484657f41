"""The variants under test and their server processes, pinned to one core, stopped by the PID we hold."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVER_CPU = 0
LOAD_CPU = 1


@dataclass(frozen=True)
class Variant:
    """One configuration of the same application: which module serves it and its environment."""

    name: str
    framework: str  # "fastapi" (uvicorn) or "django" (gunicorn)
    module: str
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, port: int) -> list[str]:
        """The server command line (without CPU pinning)."""
        if self.framework == "fastapi":
            return [str(BIN / "uvicorn"), f"benchmarks.apps.{self.module}:app", "--host", "127.0.0.1",
                    "--port", str(port), "--no-access-log", "--log-level", "warning"]
        # gthread keeps connections alive (the sync worker closes each one: ~50k TIME_WAIT sockets a run)
        return [str(BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}",
                "--log-level", "warning", "--no-control-socket", f"benchmarks.apps.{self.module}:application"]


SAMPLED = {"SPOTIFY_OTEL_SAMPLE_RATIO": "0.1"}


def variants(framework: str) -> list[Variant]:
    """Uninstrumented, vanilla OpenTelemetry, spotify-otel defaults, spotify-otel sampling 10 %."""
    return [
        Variant("bare", framework, f"{framework}_bare"),
        Variant("vanilla", framework, f"{framework}_vanilla"),
        Variant("spotify", framework, f"{framework}_spotify"),
        Variant("spotify-sampled", framework, f"{framework}_spotify", SAMPLED),
    ]


def tradeoff_variants(framework: str) -> list[Variant]:
    """Uninstrumented, spotify-otel defaults, and the settings that trade telemetry for throughput
    (docs/configuration.md, "What the defaults cost"): INFO records not exported, no thread CPU clock,
    both."""
    warn_logs = {"SPOTIFY_OTEL_LOG_LEVEL": "WARNING"}
    no_cpu_clock = {"SPOTIFY_OTEL_COST_CPU_TIME": "false"}
    return [
        Variant("bare", framework, f"{framework}_bare"),
        Variant("spotify", framework, f"{framework}_spotify"),
        Variant("spotify-warn-logs", framework, f"{framework}_spotify", warn_logs),
        Variant("spotify-no-cpu-clock", framework, f"{framework}_spotify", no_cpu_clock),
        Variant("spotify-both", framework, f"{framework}_spotify", {**warn_logs, **no_cpu_clock}),
    ]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin_this_process(cpu: int) -> None:
    """Pin the calling thread (and the threads it starts later) to ``cpu``, when that CPU exists."""
    if hasattr(os, "sched_setaffinity") and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def pinned(argv: list[str], cpu: int) -> list[str]:
    """``argv`` run under ``taskset`` on ``cpu`` (unchanged when taskset or the CPU is missing)."""
    taskset = "/usr/bin/taskset"
    if os.path.exists(taskset) and (os.cpu_count() or 1) > cpu:
        return [taskset, "-c", str(cpu), *argv]
    return argv


def clean_env(endpoint: str, extra: dict[str, str]) -> dict[str, str]:
    """The environment without any telemetry setting of ours, pointing OTLP at ``endpoint``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SPOTIFY_OTEL_", "MONITORING_"))}
    env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


class Server:
    """A variant serving on a free port, pinned to the server CPU."""

    def __init__(self, variant: Variant, endpoint: str, extra_env: dict[str, str] | None = None) -> None:
        self.variant = variant
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(prefix=f"bench-{variant.name}-", suffix=".log", delete=False)  # noqa: SIM115
        env = clean_env(endpoint, {**variant.env, **(extra_env or {})})
        self.process = subprocess.Popen(pinned(variant.argv(self.port), SERVER_CPU), env=env, cwd=ROOT,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> Server:
        """Block until ``/health`` answers 200; raises with the server output otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.variant.name} did not start:\n{self.output()}")

    def rss_bytes(self) -> int:
        """Resident set size of the server process (gunicorn: master plus its workers)."""
        pids = [self.process.pid, *_children(self.process.pid)]
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server's process group (by our PID), SIGKILL after ``timeout``."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass

    def output(self) -> str:
        """What the server printed."""
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]
