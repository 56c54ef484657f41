"""Helpers for tests/alerts: paths, rule loading, the real promtool/amtool binaries, and the real
Prometheus and Alertmanager servers started on free loopback ports."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from _support import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "alerts"
RULE_FILES = sorted(ALERTS.glob("*.rules.yml"))
UNIT_TESTS = sorted((ALERTS / "tests").glob("*.test.yml"))
RUNBOOKS = ROOT / "docs" / "runbooks.md"
PROMTOOL = Path("/usr/bin/promtool")
AMTOOL = Path("/usr/bin/amtool")
PROMETHEUS = Path("/usr/bin/prometheus")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
RUNBOOK_BASE = "https://github.com/spotify-otel/spotify-otel/blob/main/docs/runbooks.md#"
SEVERITIES = {"critical", "warning", "info", "security"}

needs_promtool = pytest.mark.skipif(
    not PROMTOOL.exists(), reason="promtool missing (Debian package prometheus)"
)
needs_amtool = pytest.mark.skipif(not AMTOOL.exists(), reason="amtool missing (prometheus-alertmanager)")
needs_servers = pytest.mark.skipif(
    not (PROMETHEUS.exists() and ALERTMANAGER.exists()), reason="prometheus / prometheus-alertmanager missing"
)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules(files: Sequence[Path] = RULE_FILES) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every alerting rule (file, rule) of ``files``."""
    for path in files:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield path, rule


def run(argv: Sequence[str], timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def runbook_anchors() -> set[str]:
    """GitHub-style anchors of the ``###`` (one per alert) headings of docs/runbooks.md."""
    anchors = set()
    for line in RUNBOOKS.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            anchors.add(re.sub(r"[^a-z0-9 -]", "", line[4:].strip().lower()).replace(" ", "-"))
    return anchors


def get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def post_json(url: str, payload: Any, headers: Mapping[str, str] | None = None, timeout: float = 5) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def start_alertmanager(config: Path, workdir: Path) -> ServerProcess:
    """A real Alertmanager on a free loopback port, clustering off, state in ``workdir``."""
    port = free_port()
    argv = [
        str(ALERTMANAGER),
        f"--config.file={config}",
        f"--storage.path={workdir / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    return ServerProcess(
        argv, {"PATH": "/usr/bin:/bin"}, port, ready_path="/-/ready", cwd=workdir
    ).wait_ready(30)


def start_prometheus(config: Path, workdir: Path) -> ServerProcess:
    """A real Prometheus on a free loopback port with its TSDB in ``workdir``."""
    port = free_port()
    argv = [
        str(PROMETHEUS),
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prom-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    return ServerProcess(
        argv, {"PATH": "/usr/bin:/bin"}, port, ready_path="/-/ready", cwd=workdir
    ).wait_ready(30)


def webhook_payload(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An Alertmanager webhook body (version 4) around ``alerts``."""
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "remediation",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "alerts": list(alerts),
    }


def webhook_alert(
    fingerprint: str = "a1b2c3d4e5f60718", status: str = "firing", **labels: str
) -> dict[str, Any]:
    """One alert as Alertmanager's webhook sends it."""
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRatio", **labels},
        "annotations": {"summary": "errors"},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }
