"""Remediation configuration: validation errors that name the field, secrets kept out of repr, and the
committed example configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alerts_helpers import alert_rules
from remediation_helpers import TOKEN, config_document

from spotify_otel.remediation import RemediationConfigError, load_config, parse_config
from spotify_otel.remediation.config import duration

ROOT = Path(__file__).resolve().parents[2]


def _parse(tmp_path: Path, environ: dict[str, str] | None = None, **overrides: Any) -> Any:
    env = {"TEST_REMEDIATION_TOKEN": TOKEN} if environ is None else environ
    return parse_config(config_document(tmp_path, **overrides), base=tmp_path, environ=env)


def test_a_valid_configuration(tmp_path: Path) -> None:
    config = _parse(tmp_path)
    assert config.token == TOKEN
    assert config.audit_log == tmp_path / "audit" / "remediation.jsonl"
    assert config.rules[0].rate_limit.max_runs == 3 and config.rules[0].rate_limit.period == 3600
    assert (config.dedup_window, config.dry_run, config.port) == (3600.0, False, 9095)
    assert TOKEN not in repr(config)


def test_token_from_a_file_relative_to_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    config = _parse(tmp_path, environ={}, auth={"token_file": "token"})
    assert config.token == TOKEN


@pytest.mark.parametrize(
    ("overrides", "environ", "message"),
    [
        ({"auth": {}}, None, "auth: give exactly one of token_file or token_env"),
        ({}, {}, "auth.token_env (TEST_REMEDIATION_TOKEN): the token must be at least 16 characters"),
        ({}, {"TEST_REMEDIATION_TOKEN": "short"}, "at least 16 characters"),
        ({"auth": {"token_file": "missing"}}, None, "auth.token_file: cannot read"),
        (
            {"actions": {"x": {"command": "restart.sh {labels.tenant_id}"}}},
            None,
            "is a string; give a list of arguments",
        ),
        ({"actions": {"x": {"command": ["{labels.job}", "a"]}}}, None, "cannot use alert labels"),
        (
            {"actions": {"x": {"command": ["run", "{labels.tenant-id}"]}}},
            None,
            "unknown placeholder {labels.tenant-id}",
        ),
        ({"actions": {"x": {"command": ["run", "{annotations.summary}"]}}}, None, "unknown placeholder"),
        ({"actions": {"x": {"command": ["run", "{labels.a"]}}}, None, "unbalanced brace"),
        ({"actions": {"x": {"command": ["run"], "callable": "log"}}}, None, "exactly one of command"),
        (
            {"actions": {"x": {"callable": "no-such-action"}}},
            None,
            "no action registered as 'no-such-action'",
        ),
        ({"actions": {"x": {"callable": "no_such_module:f"}}}, None, "cannot import 'no_such_module:f'"),
        ({"actions": {"x": {"command": ["run"], "timeout": "soon"}}}, None, "actions.x.timeout: 'soon'"),
        ({"actions": {"x": {"command": ["run"], "label_pattern": "("}}}, None, "invalid regular expression"),
        ({"rules": [{"alertname": "A", "action": "nope"}]}, None, "rules[0].action: 'nope' is not defined"),
        (
            {"rules": [{"alertname": "A", "action": "record", "rate_limit": {"max": 0, "per": "1h"}}]},
            None,
            "rules[0].rate_limit.max: 0 must be an integer",
        ),
        ({"rules": []}, None, "rules: must be a non-empty list"),
        ({"dry_run": "yes"}, None, "dry_run: 'yes' must be true or false"),
        ({"shell": True}, None, "unknown field(s) ['shell']"),
    ],
)
def test_invalid_configurations_name_the_field(
    tmp_path: Path, overrides: dict[str, Any], environ: dict[str, str] | None, message: str
) -> None:
    if "actions" in overrides and "rules" not in overrides:
        overrides["rules"] = [{"alertname": "A", "action": "x"}]
    with pytest.raises(RemediationConfigError) as info:
        _parse(tmp_path, environ=environ, **overrides)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("1h", 3600), ("500ms", 0.5), (15, 15)]
)
def test_durations(text: Any, seconds: float) -> None:
    assert duration(text, "x") == seconds


def test_load_config_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(RemediationConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_the_committed_example_configuration_loads() -> None:
    config = load_config(ROOT / "alerts" / "remediation.yaml", environ={"REMEDIATION_TOKEN": TOKEN})
    assert config.dry_run is True
    assert {rule.alertname for rule in config.rules} == {"OtelCollectorQueueFilling", "HighErrorRatio"}
    incident = config.actions["open-incident"]
    assert incident.command[:2] == ("python3", "actions/open_incident.py")
    assert incident.cwd == ROOT / "alerts"
    # Alertmanager routes only remediation="auto" alerts to the service: every rule that maps an
    # alert must match an alerting rule carrying that label.
    auto = [
        (rule["alert"], rule["labels"])
        for _, rule in alert_rules()
        if rule["labels"].get("remediation") == "auto"
    ]
    for rule in config.rules:
        if config.actions[rule.action].func is None:  # the command actions are the automatic ones
            assert any(
                name == rule.alertname and rule.match.items() <= labels.items() for name, labels in auto
            ), rule
