"""collector/prometheus/prometheus.yml: valid for the real promtool, and scraping the ports the collector
configuration actually exposes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import PROMETHEUS_YML, SIDECAR, compose_services, load_yaml, parse_host_port

PROMTOOL = "/usr/bin/promtool"
CONFIG: dict[str, Any] = load_yaml(PROMETHEUS_YML)
COLLECTOR: dict[str, Any] = load_yaml(SIDECAR)
VALID_RULES = """groups:
  - name: probe
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
"""
NOT_A_RULE_FILE = """route:
  receiver: default
receivers:
  - name: default
"""


def _job(name: str) -> dict[str, Any]:
    return next(job for job in CONFIG["scrape_configs"] if job["job_name"] == name)


def _copy_with_rules(tmp_path: Path) -> Path:
    target = tmp_path / "prometheus.yml"
    shutil.copy(PROMETHEUS_YML, target)
    (tmp_path / "rules" / "rules").mkdir(parents=True)
    return target


@pytest.mark.skipif(not Path(PROMTOOL).exists(), reason=f"{PROMTOOL} is missing (Debian package prometheus)")
def test_promtool_accepts_the_configuration(tmp_path: Path) -> None:
    config = _copy_with_rules(tmp_path)
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


@pytest.mark.skipif(not Path(PROMTOOL).exists(), reason=f"{PROMTOOL} is missing (Debian package prometheus)")
def test_rule_globs_load_rule_files_but_not_alertmanager_config(tmp_path: Path) -> None:
    config = _copy_with_rules(tmp_path)
    (tmp_path / "rules" / "slo.rules.yml").write_text(VALID_RULES, encoding="utf-8")
    (tmp_path / "rules" / "rules" / "tenants.yml").write_text(VALID_RULES, encoding="utf-8")
    # alerts/alertmanager.yml sits in the same mounted folder and must not be read as rules.
    (tmp_path / "rules" / "alertmanager.yml").write_text(NOT_A_RULE_FILE, encoding="utf-8")
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "slo.rules.yml" in output and "tenants.yml" in output
    assert "alertmanager.yml" not in output


@pytest.mark.skipif(not Path(PROMTOOL).exists(), reason=f"{PROMTOOL} is missing (Debian package prometheus)")
def test_promtool_rejects_a_broken_rule_file_it_loads(tmp_path: Path) -> None:
    config = _copy_with_rules(tmp_path)
    (tmp_path / "rules" / "broken.rules.yml").write_text(NOT_A_RULE_FILE, encoding="utf-8")
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0


def test_application_metrics_job_scrapes_the_prometheus_exporter_port() -> None:
    job = _job("otel-collector-exporter")
    assert job["honor_labels"] is True
    exporter_port = parse_host_port(COLLECTOR["exporters"]["prometheus"]["endpoint"])[1]
    assert job["static_configs"][0]["targets"] == [f"otel-collector:{exporter_port}"]


def test_collector_self_metrics_job_scrapes_the_telemetry_port() -> None:
    reader = COLLECTOR["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    port = int(str(reader["port"]).rsplit(":-", 1)[-1].rstrip("}"))
    assert _job("otel-collector")["static_configs"][0]["targets"] == [f"otel-collector:{port}"]
    assert "honor_labels" not in _job("otel-collector")


def test_prometheus_alertmanager_and_rules() -> None:
    assert _job("prometheus")["static_configs"][0]["targets"] == ["localhost:9090"]
    assert _job("alertmanager")["static_configs"][0]["targets"] == ["alertmanager:9093"]
    targets = CONFIG["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    # Relative rule paths resolve next to /etc/prometheus/prometheus.yml, inside the alerts mount.
    mounts = {m.split(":")[1]: m.split(":")[0] for m in compose_services()["prometheus"]["volumes"]}
    assert "/etc/prometheus/rules" in mounts
    assert all(pattern.startswith("rules/") for pattern in CONFIG["rule_files"])


def test_every_compose_target_is_a_compose_service() -> None:
    services = set(compose_services())
    for job in CONFIG["scrape_configs"]:
        for target in job["static_configs"][0]["targets"]:
            host = target.split(":")[0]
            assert host == "localhost" or host in services, target
