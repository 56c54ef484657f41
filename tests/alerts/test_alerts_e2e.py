"""End to end, every part real: the instrumented FastAPI example (uvicorn) -> OTLP -> the local
receiver's Prometheus endpoint (rendered as the collector's prometheus exporter does) -> Prometheus
2.42 with the application rules -> Alertmanager 0.25 with the real route tree and inhibitions ->
`spotify-otel remediate` (uvicorn, bearer token) -> an action script.

Errors are induced for tenant acme only; globex gets successes. The HighErrorRatio alert must fire
for acme alone, reach the remediation webhook, run the action exactly once (re-deliveries are
deduplicated) and be audited; globex must stay quiet everywhere.

The rules are the real alerts/application.rules.yml with every range shortened to 15s, `for` set to
0s and the groups evaluated every second: same expressions, thresholds and labels.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from _support import BIN, ServerProcess, free_port, http_get, poll, telemetry_env
from alerts_helpers import ALERTS, get_json, load_yaml, needs_servers, start_alertmanager, start_prometheus
from remediation_helpers import TOKEN, write_action

from spotify_otel.receiver import OTLPReceiver
from spotify_otel.remediation import read_audit

pytestmark = [needs_servers, pytest.mark.slow]
APP = "examples.fastapi_app.app:app"
WINDOW = "15s"
DEADLINE = 45.0


def fast_rules(directory: Path) -> Path:
    """application.rules.yml with short windows, `for: 0s` and 1 s evaluation (expressions unchanged)."""
    document = load_yaml(ALERTS / "application.rules.yml")
    for group in document["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["expr"] = re.sub(r"\[\d+[smhdw]\]", f"[{WINDOW}]", rule["expr"])
            if "for" in rule:
                rule["for"] = "0s"
    path = directory / "application-fast.rules.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def alertmanager_config(directory: Path, webhook: str) -> Path:
    """The real route tree and inhibit rules; the remediation receiver posts to ``webhook`` with the
    bearer token from a file, every other receiver to a closed loopback port; timings shortened."""
    config = load_yaml(ALERTS / "alertmanager.yml")
    (directory / "token").write_text(TOKEN, encoding="utf-8")
    receivers = []
    for receiver in config["receivers"]:
        url = webhook if receiver["name"] == "remediation" else "http://127.0.0.1:9/discard"
        hook: dict[str, Any] = {"url": url, "send_resolved": False}
        if receiver["name"] == "remediation":
            hook["http_config"] = {
                "authorization": {"type": "Bearer", "credentials_file": str(directory / "token")}
            }
        receivers.append({"name": receiver["name"], "webhook_configs": [hook]})
    config["receivers"] = receivers
    config["global"] = {"resolve_timeout": "5m"}
    for route in [config["route"], *config["route"]["routes"]]:
        route.update({"group_wait": "1s", "group_interval": "1s", "repeat_interval": "2s"})
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def prometheus_config(
    directory: Path, rules: Path, target: str, metrics_path: str, alertmanager: str
) -> Path:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": "otel-collector-exporter",
                "honor_labels": True,
                "metrics_path": metrics_path,
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def remediation_config(directory: Path) -> Path:
    script = write_action(directory)
    config = {
        "auth": {"token_file": "token"},
        "audit_log": "audit.jsonl",
        "dedup_window": "10m",
        "actions": {
            "mark": {
                "command": [
                    sys.executable,
                    str(script),
                    "--tenant",
                    "{labels.tenant_id}",
                    "--service",
                    "{labels.service}",
                ],
                "timeout": "10s",
                "env": {"RECORD_FILE": str(directory / "runs.jsonl")},
            }
        },
        "rules": [{"alertname": "HighErrorRatio", "match": {"severity": "critical"}, "action": "mark"}],
    }
    path = directory / "remediation.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class Traffic(threading.Thread):
    """acme: alternating failing and good requests; globex: good requests only."""

    def __init__(self, app: ServerProcess) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.stopped = threading.Event()
        self.statuses: dict[str, list[int]] = {"acme": [], "globex": []}

    def run(self) -> None:
        while not self.stopped.is_set():
            for tenant, path in (
                ("acme", "/api/fail"),
                ("acme", "/api/tracks/1"),
                ("globex", "/api/tracks/1"),
            ):
                self.statuses[tenant].append(self.app.get(path, tenant)[0])
            self.stopped.wait(0.02)  # pacing, not synchronisation

    def stop(self) -> None:
        self.stopped.set()
        self.join(10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("e2e")
    started: list[ServerProcess] = []
    rx = OTLPReceiver(prometheus_port=0).start()
    try:
        port = free_port()
        app = ServerProcess(
            [str(BIN / "uvicorn"), APP, "--host", "127.0.0.1", "--port", str(port)],
            telemetry_env(rx.grpc_endpoint, PORT=str(port), OTEL_SERVICE_NAME="music-api"),
            port,
        )
        started.append(app)
        app.wait_ready()
        (directory / "token").write_text(TOKEN, encoding="utf-8")
        remediation_port = free_port()
        remediation = ServerProcess(
            [
                sys.executable,
                "-m",
                "spotify_otel",
                "remediate",
                "--config",
                str(remediation_config(directory)),
                "--host",
                "127.0.0.1",
                "--port",
                str(remediation_port),
                "--log-level",
                "warning",
            ],
            telemetry_env(rx.grpc_endpoint, PYTHONPATH=str(ALERTS.parent / "src")),
            remediation_port,
        )
        started.append(remediation)
        remediation.wait_ready()
        alertmanager = start_alertmanager(
            alertmanager_config(directory, f"{remediation.base_url}/webhook"), directory
        )
        started.append(alertmanager)
        assert rx.prometheus_url is not None
        scrape = urlsplit(rx.prometheus_url)
        prometheus = start_prometheus(
            prometheus_config(
                directory,
                fast_rules(directory),
                scrape.netloc,
                scrape.path or "/metrics",
                f"127.0.0.1:{alertmanager.port}",
            ),
            directory,
        )
        started.append(prometheus)
        yield {
            "dir": directory,
            "app": app,
            "prometheus": prometheus,
            "alertmanager": alertmanager,
            "remediation": remediation,
        }
    finally:
        for server in reversed(started):
            server.stop()
        rx.stop()


def _prometheus_alerts(prometheus: ServerProcess) -> list[dict[str, Any]]:
    alerts = get_json(f"{prometheus.base_url}/api/v1/alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == "HighErrorRatio"]


def _runs(directory: Path) -> list[dict[str, Any]]:
    path = directory / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _audit(directory: Path) -> list[dict[str, Any]]:
    path = directory / "audit.jsonl"
    return read_audit(path) if path.exists() else []


def test_errors_for_one_tenant_page_remediate_once_and_leave_other_tenants_quiet(
    stack: dict[str, Any],
) -> None:
    prometheus, alertmanager, directory = stack["prometheus"], stack["alertmanager"], stack["dir"]
    seen_tenants: set[str] = set()

    def firing_for_acme() -> bool:
        alerts = _prometheus_alerts(prometheus)
        seen_tenants.update(a["labels"]["tenant_id"] for a in alerts)
        return any(a["state"] == "firing" and a["labels"]["severity"] == "critical" for a in alerts)

    traffic = Traffic(stack["app"])
    traffic.start()
    try:
        assert poll(firing_for_acme, DEADLINE, interval=0.25), (
            f"no HighErrorRatio alert in Prometheus; prometheus log:\n{prometheus.output()}"
        )
        # Delivered, run once, audited.
        assert poll(
            lambda: any(r["event"] == "result" for r in _audit(directory)), DEADLINE, interval=0.25
        ), (
            f"no remediation result; audit={_audit(directory)}\nalertmanager log:\n{alertmanager.output()}\n"
            f"remediation log:\n{stack['remediation'].output()}"
        )
        # Alertmanager re-delivers every repeat_interval (2 s): the service deduplicates.
        assert poll(lambda: any(r.get("decision") == "deduplicated" for r in _audit(directory)), DEADLINE), (
            _audit(directory)
        )
        firing_for_acme()
    finally:
        traffic.stop()

    assert 500 in traffic.statuses["acme"] and set(traffic.statuses["globex"]) == {200}
    # Prometheus: the alert exists for acme only (pending or firing, whenever we looked).
    assert seen_tenants == {"acme"}
    by_severity = {a["labels"]["severity"]: a for a in _prometheus_alerts(prometheus)}
    assert by_severity["critical"]["labels"]["service"] == "music-api"
    assert by_severity["critical"]["labels"]["remediation"] == "auto"
    # Alertmanager: active for acme; its warning twin is inhibited by the critical one.
    am_alerts = get_json(f"{alertmanager.base_url}/api/v2/alerts?filter=alertname%3D%22HighErrorRatio%22")
    assert {a["labels"]["tenant_id"] for a in am_alerts} == {"acme"}
    critical = next(a for a in am_alerts if a["labels"]["severity"] == "critical")
    assert critical["status"]["state"] == "active"
    assert poll(
        lambda: any(
            a["labels"]["severity"] == "warning" and a["status"]["inhibitedBy"]
            for a in get_json(
                f"{alertmanager.base_url}/api/v2/alerts?filter=alertname%3D%22HighErrorRatio%22"
            )
        ),
        10,
    )
    # The action ran exactly once, for acme, with the labels as separate arguments.
    [run] = _runs(directory)
    assert run["argv"] == ["--tenant", "acme", "--service", "music-api"]
    assert run["stdin"]["labels"]["tenant_id"] == "acme"
    # The audit log has the decision, the result and the deduplicated re-deliveries; nothing for globex.
    records = _audit(directory)
    decisions = [r for r in records if r["event"] == "decision"]
    assert [d["decision"] for d in decisions if d["decision"] in ("scheduled", "dry_run")] == ["scheduled"]
    assert all(d["labels"].get("tenant_id") == "acme" for d in decisions)
    assert all(d["remote"] == "127.0.0.1" for d in decisions)
    [result] = [r for r in records if r["event"] == "result"]
    assert (result["outcome"], result["alertname"]) == ("succeeded", "HighErrorRatio")
    # Alertmanager authenticated every call (no rejected request before the action's result).
    assert not [r for r in records if r["event"] == "request" and r["time"] <= result["time"]]


def test_the_remediation_service_refuses_callers_without_the_token(stack: dict[str, Any]) -> None:
    remediation = stack["remediation"]
    status, body = http_get(f"{remediation.base_url}/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    request = urllib.request.Request(
        f"{remediation.base_url}/webhook",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 401
    assert poll(lambda: any(r["event"] == "request" and r["status"] == 401 for r in _audit(stack["dir"])), 5)
