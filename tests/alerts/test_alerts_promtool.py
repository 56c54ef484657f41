"""promtool unit tests (alerts/tests/*.test.yml) pass, and together they make every alert, in each of
its severities, fire for the expected labels and stay quiet where it should."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from alerts_helpers import PROMTOOL, UNIT_TESTS, alert_rules, load_yaml, needs_promtool, run


def _expectations() -> tuple[dict[str, set[str]], set[str], dict[str, list[dict[str, str]]]]:
    """(severities seen firing per alert, alerts with a not-firing case, fired label sets per alert)."""
    fired: dict[str, set[str]] = defaultdict(set)
    quiet: set[str] = set()
    labels: dict[str, list[dict[str, str]]] = defaultdict(list)
    for path in UNIT_TESTS:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                expected = case.get("exp_alerts") or []
                if not expected:
                    quiet.add(case["alertname"])
                for alert in expected:
                    fired[case["alertname"]].add(alert["exp_labels"]["severity"])
                    labels[case["alertname"]].append({k: str(v) for k, v in alert["exp_labels"].items()})
    return fired, quiet, labels


@needs_promtool
@pytest.mark.parametrize("path", UNIT_TESTS, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(path: Path) -> None:
    result = run([str(PROMTOOL), "test", "rules", path.name], cwd=path.parent, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_and_severity_is_tested_firing_and_not_firing() -> None:
    fired, quiet, _ = _expectations()
    defined: dict[str, set[str]] = defaultdict(set)
    for _, rule in alert_rules():
        defined[rule["alert"]].add(rule["labels"]["severity"])
    assert {name: fired.get(name, set()) for name in defined} == dict(defined)
    assert set(defined) - quiet == set()


def test_per_tenant_alerts_are_tested_with_their_tenant_label() -> None:
    _, _, labels = _expectations()
    per_tenant = [rule for _, rule in alert_rules() if "$labels.tenant_id" in rule["annotations"]["summary"]]
    names = {rule["alert"] for rule in per_tenant}
    assert names >= {"HighErrorRatio", "LoginFailureSpike", "TenantTrafficAnomaly", "SLOErrorBudgetBurnFast"}
    for rule in per_tenant:
        static = {k: str(v) for k, v in rule["labels"].items() if "{{" not in str(v)}
        tested = [alert for alert in labels[rule["alert"]] if static.items() <= alert.items()]
        assert tested, (rule["alert"], static)
        assert all("tenant_id" in alert for alert in tested), (rule["alert"], static)
