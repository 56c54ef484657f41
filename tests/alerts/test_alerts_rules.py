"""The rule files in alerts/: valid for the real promtool, named for prometheus.yml's globs, and every
alert carries a known severity, a service, tenant_id when per tenant, and documented annotations."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from alerts_helpers import (
    ALERTS,
    PROMTOOL,
    ROOT,
    RULE_FILES,
    RUNBOOK_BASE,
    SEVERITIES,
    UNIT_TESTS,
    alert_rules,
    load_yaml,
    needs_promtool,
    run,
    runbook_anchors,
)

AREAS = ("infrastructure", "application", "security", "business", "ml", "pipeline", "anomaly", "slo")
# Not in the catalogue: the collector's hostmetrics receiver, the resource metric every OpenTelemetry
# Prometheus exporter writes, and Prometheus' own scrape health.
EXTERNAL_METRICS = {"system_filesystem_usage_bytes", "target_info", "up"}
METRIC_PREFIXES = ("http_", "spotify_", "system_", "process_", "cpython_", "target_info", "up")


def _catalogue() -> set[str]:
    """Prometheus names documented in docs/metrics.md (histograms expanded to their series)."""
    names: set[str] = set()
    for cell in re.findall(r"\| `([a-z_]+(?:/_[a-z]+)*)`(?= \|)", (ROOT / "docs" / "metrics.md").read_text()):
        base, *suffixes = cell.split("/")
        if base.endswith("_bucket"):
            stem = base[: -len("_bucket")]
            names.update({base, *(stem + s for s in suffixes)})
        else:
            names.add(base)
    return names


def _metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (label matchers, strings and recording rules left out)."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    tokens = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text))
    return {
        t for t in tokens if ":" not in t and t.startswith(METRIC_PREFIXES) and not t.endswith("_over_time")
    }


def test_the_issue_areas_each_have_a_rule_file_matching_the_prometheus_glob() -> None:
    names = {path.name for path in RULE_FILES}
    assert names == {f"{area}.rules.yml" for area in AREAS}
    # Nothing else in alerts/ may match `rules/*.rules.yml` (alertmanager.yml, slo.yaml, tests/ do not).
    assert {p.name for p in ALERTS.glob("*.rules.yml")} == names
    assert not list(ALERTS.glob("rules/*.yml"))


@needs_promtool
def test_promtool_check_rules_accepts_every_rule_file() -> None:
    result = run([str(PROMTOOL), "check", "rules", *map(str, RULE_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_FILES)


@pytest.mark.parametrize(
    ("path", "rule"), list(alert_rules()), ids=lambda v: v.name if isinstance(v, Path) else ""
)
def test_every_alert_has_severity_service_and_runbook_annotations(path: Path, rule: dict[str, Any]) -> None:
    labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
    assert labels.get("severity") in SEVERITIES, (path.name, rule["alert"])
    assert labels.get("service"), f"{rule['alert']} has no service label (grouping key)"
    assert {"summary", "description", "runbook_url"} <= set(annotations), rule["alert"]
    assert annotations["runbook_url"].startswith(RUNBOOK_BASE)
    assert annotations["runbook_url"][len(RUNBOOK_BASE) :] in runbook_anchors(), rule["alert"]


def _aggregated_per_tenant(rule: dict[str, Any]) -> bool:
    # SLO alerts use recording rules named slo:*; test_slo_generated.py checks their tenant scope.
    return "job_tenant:" in rule["expr"] or bool(re.search(r"by \([^)]*tenant_id", rule["expr"]))


PER_TENANT = [(path, rule) for path, rule in alert_rules() if _aggregated_per_tenant(rule)]


def test_the_per_tenant_alerts_cover_every_area_with_tenant_metrics() -> None:
    areas = {path.name for path, _ in PER_TENANT}
    expected = {"application.rules.yml", "security.rules.yml", "business.rules.yml", "ml.rules.yml"}
    assert areas >= expected | {"anomaly.rules.yml"}


@pytest.mark.parametrize(("path", "rule"), PER_TENANT, ids=lambda v: v.name if isinstance(v, Path) else "")
def test_per_tenant_alerts_keep_and_name_the_tenant(path: Path, rule: dict[str, Any]) -> None:
    assert "$labels.tenant_id" in rule["annotations"]["summary"], rule["alert"]
    assert "tenant_id" not in rule.get("labels", {}), "tenant_id must come from the expression"


def test_every_metric_used_is_in_the_catalogue_or_documented_as_external() -> None:
    catalogue = _catalogue()
    assert "http_server_request_duration_seconds_count" in catalogue  # the parser works
    unknown = {}
    for _, rule in alert_rules():
        missing = _metric_names(rule["expr"]) - catalogue - EXTERNAL_METRICS
        if missing:
            unknown[rule["alert"]] = sorted(missing)
    for path in RULE_FILES:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                if "record" in rule and (
                    missing := _metric_names(rule["expr"]) - catalogue - EXTERNAL_METRICS
                ):
                    unknown[rule["record"]] = sorted(missing)
    assert unknown == {}


def test_collector_selectors_accept_names_with_and_without_the_total_suffix() -> None:
    text = (ALERTS / "pipeline.rules.yml").read_text()
    counters = re.findall(r'__name__=~"(otelcol_[^"]+)"', text)
    assert counters, "no collector counter selectors found"
    assert all(selector.endswith("(_total)?") for selector in counters)


def test_every_rule_file_has_unit_tests() -> None:
    tested = {(test.parent / f).resolve() for test in UNIT_TESTS for f in load_yaml(test)["rule_files"]}
    assert {p.resolve() for p in RULE_FILES} <= tested


@needs_promtool
def test_prometheus_yml_loads_exactly_the_rule_files_when_alerts_is_mounted_as_rules(tmp_path: Path) -> None:
    # The compose file mounts alerts/ at /etc/prometheus/rules next to prometheus.yml.
    shutil.copy(ROOT / "collector" / "prometheus" / "prometheus.yml", tmp_path / "prometheus.yml")
    (tmp_path / "rules").symlink_to(ALERTS, target_is_directory=True)
    result = run([str(PROMTOOL), "check", "config", str(tmp_path / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = set(re.findall(r"Checking \S*/rules/(\S+)", result.stdout + result.stderr))
    assert loaded == {path.name for path in RULE_FILES}


def test_collector_alerts_use_the_scrape_job_names_of_prometheus_yml() -> None:
    jobs = {
        job["job_name"]
        for job in load_yaml(ROOT / "collector" / "prometheus" / "prometheus.yml")["scrape_configs"]
    }
    selector = re.search(r'up\{job=~"([^"]+)"\}', (ALERTS / "pipeline.rules.yml").read_text())
    assert selector is not None
    assert set(selector.group(1).split("|")) <= jobs
