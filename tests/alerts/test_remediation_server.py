"""`spotify-otel remediate` as a real server (uvicorn in a subprocess, loopback, stopped by PID)."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from _support import ROOT, ServerProcess, free_port, http_get, poll
from alerts_helpers import webhook_alert, webhook_payload
from remediation_helpers import TOKEN, config_document, runs

from spotify_otel.cli import main
from spotify_otel.remediation import read_audit


def _write_config(directory: Path, **overrides: object) -> Path:
    path = directory / "remediation.yaml"
    path.write_text(yaml.safe_dump(config_document(directory, **overrides)), encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SPOTIFY_OTEL_"))}
    env.update({"TEST_REMEDIATION_TOKEN": TOKEN, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"})
    return env


def start_remediation(config: Path, *extra: str) -> ServerProcess:
    """The remediation service via the CLI, on a free loopback port."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "spotify_otel",
        "remediate",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *extra,
    ]
    return ServerProcess(argv, _env(), port, ready_path="/health").wait_ready(30)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    directory = tmp_path_factory.mktemp("remediation")
    server = start_remediation(_write_config(directory))
    try:
        yield server, directory
    finally:
        server.stop()


def test_the_served_app_authenticates_validates_and_runs(service: tuple[ServerProcess, Path]) -> None:
    server, directory = service
    url = f"{server.base_url}/webhook"
    body = json.dumps(webhook_payload([webhook_alert(severity="critical", tenant_id="acme")])).encode()
    assert _post(url, body, {"Content-Type": "application/json"})[0] == 401
    assert (
        _post(url, b"{", {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})[0] == 400
    )
    status, answer = _post(
        url, body, {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200, answer
    assert poll(lambda: len(runs(directory)) == 1, 10)
    audit_log = directory / "audit" / "remediation.jsonl"
    assert poll(lambda: any(r["event"] == "result" for r in read_audit(audit_log)), 10)
    events = [(r["event"], r.get("decision") or r.get("outcome")) for r in read_audit(audit_log)]
    assert events == [
        ("request", "rejected"),
        ("request", "rejected"),
        ("decision", "scheduled"),
        ("result", "succeeded"),
    ]


def test_sigterm_stops_the_service_cleanly(tmp_path: Path) -> None:
    server = start_remediation(_write_config(tmp_path), "--dry-run", "--log-level", "info")
    status, body = http_get(f"{server.base_url}/health")
    assert (status, json.loads(body)["dry_run"]) == (200, True)
    # uvicorn shuts down gracefully, then re-raises the signal it received.
    assert server.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.output()


def test_check_validates_without_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REMEDIATION_TOKEN", TOKEN)
    assert main(["remediate", "--config", str(_write_config(tmp_path)), "--check"]) == 0
    assert "OK (1 actions, 1 rules" in capsys.readouterr().out
    broken = _write_config(tmp_path, rules=[{"alertname": "X", "action": "missing"}])
    assert main(["remediate", "--config", str(broken), "--check"]) == 1
    assert "rules[0].action: 'missing' is not defined" in capsys.readouterr().err
