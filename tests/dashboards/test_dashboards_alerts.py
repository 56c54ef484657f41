"""The dashboards colour values at the levels the alert rules fire at (alerts/*.rules.yml, slo.yaml)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from _support import ROOT
from dashboards_support import DASHBOARDS

sys.path.insert(0, str(DASHBOARDS))
from _dashgen import thresholds as th

ALERTS = ROOT / "alerts"


@dataclass(frozen=True)
class Rule:
    """One alerting rule of alerts/*.rules.yml."""

    alert: str
    expr: str
    labels: dict[str, str]


def _rules() -> list[Rule]:
    rules = []
    for path in sorted(ALERTS.glob("*.rules.yml")):
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in document["groups"]:
            rules += [Rule(r["alert"], r["expr"], r.get("labels", {}))
                      for r in group["rules"] if "alert" in r]
    return rules


RULES = _rules()
MIRRORED = [t for t in th.ALL if t.patterns]


def test_alert_rules_are_there_to_compare_with() -> None:
    assert len(RULES) >= 20
    assert len(MIRRORED) >= 10


@pytest.mark.parametrize("threshold", MIRRORED, ids=[t.key for t in MIRRORED])
def test_threshold_levels_equal_the_alert_rule(threshold: th.Threshold) -> None:
    rules = [rule for rule in RULES if rule.alert == threshold.alert]
    assert rules, f"no alert rule named {threshold.alert}"
    found = {(float(match.group(1)), rule.labels["severity"])
             for rule in rules for pattern in threshold.patterns
             for match in re.finditer(pattern, rule.expr, re.MULTILINE)}
    assert found == set(threshold.levels)


def test_burn_rate_windows_equal_the_generated_slo_rules() -> None:
    found = set()
    for rule in RULES:
        if rule.alert.startswith("SLOErrorBudgetBurn") and rule.labels.get("slo_window") == "30d":
            pairs = re.findall(r"ratio_rate(\w+)\{[^}]*\} > \(([0-9.]+) \*", rule.expr)
            for (long, factor), (short, short_factor) in zip(pairs[::2], pairs[1::2], strict=True):
                assert factor == short_factor
                found.add((long, short, float(factor), rule.labels["severity"]))
    assert found == set(th.BURN_WINDOWS)


def test_every_slo_objective_can_be_picked_on_the_slo_dashboard() -> None:
    spec: dict[str, Any] = yaml.safe_load((ALERTS / "slo.yaml").read_text(encoding="utf-8"))
    objectives = {round(float(value) / 100, 6)
                  for slo in spec["slos"] for value in slo["objectives"].values()}
    assert objectives <= {float(choice) for choice in th.SLO_CHOICES}
    assert {th.SLO_AVAILABILITY, th.SLO_LATENCY} <= objectives
