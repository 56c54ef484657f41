"""The seed's AlertManager API against a real prometheus-alertmanager, and with it stopped."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _support import free_port, http_get, poll

from spotify_otel import AlertManager

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = pytest.mark.skipif(BINARY is None, reason="Debian prometheus-alertmanager is not installed")


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[str]:
    workdir = Path(tempfile.mkdtemp(prefix="am-"))
    (workdir / "am.yml").write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
    port = free_port()
    process = subprocess.Popen(
        [str(BINARY), f"--config.file={workdir / 'am.yml'}", f"--storage.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        assert poll(lambda: http_get(url + "/-/ready")[0] == 200, 30), "alertmanager did not start"
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def active_alerts(url: str) -> list[dict[str, Any]]:
    status, body = http_get(url + "/api/v2/alerts?active=true&silenced=false&inhibited=false")
    assert status == 200
    return list(json.loads(body))


def test_trigger_alert_as_in_the_seed_reaches_alertmanager(alertmanager: str) -> None:
    alerts = AlertManager(url=alertmanager, service="music-api")
    assert alerts.trigger_alert("high_latency", severity="warning", tenant_id="tenant_1") is True
    found = [a for a in active_alerts(alertmanager) if a["labels"]["alertname"] == "high_latency"]
    assert len(found) == 1
    assert found[0]["labels"] == {"alertname": "high_latency", "severity": "warning", "tenant_id": "tenant_1",
                                  "service": "music-api"}
    assert found[0]["annotations"]["summary"]


def test_repeats_are_deduplicated_and_resolve_ends_the_alert(alertmanager: str) -> None:
    alerts = AlertManager(url=alertmanager, service="music-api", dedup_seconds=60)
    posted = []
    original = alerts._post

    def counting_post(payload: list[dict[str, Any]]) -> bool:
        posted.append(payload)
        return original(payload)

    alerts._post = counting_post  # type: ignore[method-assign]
    for _ in range(5):
        assert alerts.trigger_alert("disk_full", severity="critical", tenant_id="acme")
    assert len(posted) == 1
    assert alerts.resolve_alert("disk_full", severity="critical", tenant_id="acme")
    assert poll(lambda: not [a for a in active_alerts(alertmanager) if a["labels"]["alertname"] == "disk_full"], 10)


def test_alertmanager_down_never_raises_and_counts_failure() -> None:
    alerts = AlertManager(url=f"http://127.0.0.1:{free_port()}", timeout=1.0, retries=2)
    started = time.monotonic()
    assert alerts.trigger_alert("high_latency", severity="warning", tenant_id="tenant_1") is False
    assert alerts.resolve_alert("high_latency") is False
    assert time.monotonic() - started < 3
    assert alerts.failures == 2


def test_invalid_tenant_never_reaches_labels(alertmanager: str) -> None:
    alerts = AlertManager(url=alertmanager, service="music-api")
    assert alerts.trigger_alert("weird", tenant_id="acme\nX-Evil: 1")
    found = [a for a in active_alerts(alertmanager) if a["labels"]["alertname"] == "weird"]
    assert found and found[0]["labels"]["tenant_id"] == "unknown"
