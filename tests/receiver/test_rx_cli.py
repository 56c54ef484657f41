"""``spotify-otel receive``: a subprocess that prints trees, logs and summaries, and exits cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from spotify_otel.cli import main
from spotify_otel.receiver import OTLPReceiver

SRC = Path(__file__).resolve().parents[2] / "src"
BANNER = re.compile(r"OTLP/gRPC (http://\S+)\s+OTLP/HTTP (http://\S+)")


class CLIProcess:
    """``python -m spotify_otel receive ...`` with its stdout collected line by line on a thread."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spotify_otel", "receive", "--grpc-port", "0", "--http-port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_line(self, pattern: str, timeout: float = 10) -> re.Match[str]:
        """Block until a stdout line matches ``pattern``; fail after ``timeout`` seconds."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if match := regex.search(line):
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    pytest.fail(f"no line matching {pattern!r} in: {self.lines}")
                self._cond.wait(min(remaining, 0.5))

    def finish(self, timeout: float = 10) -> tuple[int, str]:
        """Wait for exit; returns (exit code, stderr)."""
        code = self.proc.wait(timeout)
        self._reader.join(5)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        """Kill the process if it is still running (by its own handle)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def cli() -> Iterator[list[CLIProcess]]:
    started: list[CLIProcess] = []
    yield started
    for process in started:
        process.kill()


def _send_request_trace(grpc_endpoint: str, http_endpoint: str, tenant: str) -> str:
    resource = Resource.create({"service.name": "checkout"})
    tp = TracerProvider(resource=resource)
    tp.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=grpc_endpoint, insecure=True)))
    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{http_endpoint}/v1/logs")))
    tracer = tp.get_tracer("demo")
    attrs = {
        "tenant.id": tenant,
        "http.request.method": "GET",
        "http.route": "/orders",
        "http.response.status_code": 200,
    }
    with (
        tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER, attributes=attrs) as root,
        tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT),
    ):
        lp.get_logger("demo").emit(
            severity_number=SeverityNumber.INFO, severity_text="INFO", body="loading orders",
            attributes={"tenant.id": tenant},
        )  # fmt: skip
    tp.shutdown()
    lp.shutdown()
    return format(root.get_span_context().trace_id, "032x")


@pytest.mark.slow
def test_receive_prints_tree_log_and_summary_then_stops_after_duration(cli, tmp_path):
    jsonl = tmp_path / "telemetry.jsonl"
    process = CLIProcess("--duration", "4", "--summary-interval", "1", "--no-color", "--jsonl", str(jsonl))
    cli.append(process)
    grpc_endpoint, http_endpoint = process.wait_line(BANNER.pattern).groups()
    trace_id = _send_request_trace(grpc_endpoint, http_endpoint, "acme-corp")

    process.wait_line(rf"^trace {trace_id}  checkout  2 spans")
    root = process.wait_line(r"^└─ GET /orders  SERVER  .* ms  UNSET  tenant=acme-corp  GET /orders -> 200$")
    child = process.wait_line(r"^   └─ SELECT orders  CLIENT")
    assert root and child
    process.wait_line(rf"INFO  checkout tenant=acme-corp trace={trace_id[:8]} loading orders$")
    process.wait_line(r"── summary .* 2 spans · 1 logs · 0 metric points")
    process.wait_line(r"^\s+acme-corp\s+1\s+0\s+0\.0%")
    code, stderr = process.finish(timeout=15)
    assert code == 0, stderr
    assert any("final summary" in line for line in process.lines)

    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted((r["signal"], r.get("name", ""), r["tenant"] or "") for r in records) == [
        ("log", "", "acme-corp"),
        ("span", "GET /orders", "acme-corp"),
        ("span", "SELECT orders", ""),
    ]
    assert {r["trace_id"] for r in records} == {trace_id}


@pytest.mark.slow
def test_sigterm_prints_final_summary_and_exits_zero(cli):
    process = CLIProcess("--no-color", "--summary-interval", "0", "--prometheus-port", "0")
    cli.append(process)
    prometheus_url = process.wait_line(r"prometheus (http://\S+/metrics)").group(1)
    with urllib.request.urlopen(prometheus_url, timeout=5) as response:
        assert response.status == 200
    process.proc.send_signal(signal.SIGTERM)
    code, stderr = process.finish()
    assert code == 0, stderr
    assert any("final summary" in line for line in process.lines)
    assert any("no SERVER spans received yet" in line for line in process.lines)


def test_busy_port_is_a_one_line_error_with_exit_code_1(capsys):
    with OTLPReceiver() as busy:
        code = main(["receive", "--grpc-port", "0", "--http-port", str(busy.http_port), "--duration", "0"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("spotify-otel receive: error: cannot start the receiver")


def test_quiet_prints_only_the_banner_and_final_summary(capsys):
    code = main(["receive", "--grpc-port", "0", "--http-port", "0", "--duration", "0.2", "--quiet", "--no-color"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("spotify-otel receive: OTLP/gRPC http://127.0.0.1:")
    assert "prometheus off" in lines[0]
    assert lines[1].startswith("── final summary")
    assert lines[2:] == ["   no SERVER spans received yet"]


def test_negative_duration_is_rejected(capsys):
    assert main(["receive", "--duration", "-1"]) == 1
    assert "--duration must be >= 0" in capsys.readouterr().err
