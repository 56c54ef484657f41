"""alerts/alertmanager.yml: valid for the real amtool, routes each severity to its receivers, and its
inhibition rules work in a real Alertmanager; alerts/render-alertmanager.sh fills environment values."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from _support import ServerProcess, poll
from alerts_helpers import (
    ALERTS,
    AMTOOL,
    get_json,
    load_yaml,
    needs_amtool,
    needs_servers,
    post_json,
    run,
    start_alertmanager,
)

CONFIG = ALERTS / "alertmanager.yml"
RENDER = ALERTS / "render-alertmanager.sh"


@needs_amtool
def test_amtool_check_config_accepts_the_configuration() -> None:
    result = run([str(AMTOOL), "check-config", str(CONFIG)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "5 inhibit rules" in result.stdout


@needs_amtool
@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "alertname=OtelCollectorDown"], "pager"),
        (
            ["severity=critical", "alertname=HighErrorRatio", "remediation=auto", "tenant_id=acme"],
            "remediation,pager",
        ),
        (["severity=warning", "alertname=HighErrorRatio", "tenant_id=acme"], "slack-warning"),
        (["severity=warning", "remediation=auto"], "remediation,slack-warning"),
        (["severity=security", "alertname=LoginFailureSpike"], "security"),
        (["severity=security", "remediation=auto"], "security"),
        (["severity=info", "alertname=TenantCostSpike"], "slack-info"),
        (["alertname=Unlabelled"], "slack-warning"),
    ],
)
def test_routing_per_severity(labels: list[str], receivers: str) -> None:
    result = run(
        [
            str(AMTOOL),
            "config",
            "routes",
            "test",
            f"--config.file={CONFIG}",
            f"--verify.receivers={receivers}",
            *labels,
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def _receiver(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in config["receivers"] if r["name"] == name)


def test_receivers_notify_the_channels_of_each_severity() -> None:
    config = load_yaml(CONFIG)
    pager = _receiver(config, "pager")
    assert {"pagerduty_configs", "webhook_configs", "slack_configs"} <= set(pager)  # PagerDuty + SMS + Slack
    assert "sms" in pager["webhook_configs"][0]["url"]
    security = _receiver(config, "security")
    assert {"slack_configs", "email_configs"} <= set(security)
    assert security["slack_configs"][0]["channel"] == "#security"
    info = _receiver(config, "slack-info")
    assert info["slack_configs"][0]["send_resolved"] is False
    remediation = _receiver(config, "remediation")["webhook_configs"][0]
    assert remediation["http_config"]["authorization"]["type"] == "Bearer"
    assert remediation["http_config"]["authorization"]["credentials_file"].startswith(
        "/etc/alertmanager/secrets/"
    )


def test_grouping_and_repeat_intervals_escalate_critical_alerts() -> None:
    route = load_yaml(CONFIG)["route"]
    assert route["group_by"] == ["alertname", "service", "tenant_id"]
    repeat = {
        child["receiver"]: child.get("repeat_interval", route["repeat_interval"]) for child in route["routes"]
    }
    assert repeat["pager"] == "15m"
    assert (repeat["slack-warning"], repeat["slack-info"], repeat["security"]) == ("4h", "24h", "1h")


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def test_no_secret_is_written_in_the_configuration() -> None:
    keys = set(_keys(load_yaml(CONFIG)))
    inline = {
        "api_url",
        "slack_api_url",
        "routing_key",
        "service_key",
        "auth_password",
        "smtp_auth_password",
        "credentials",
        "password",
    }
    assert keys & inline == set()
    assert {"api_url_file", "routing_key_file", "smtp_auth_password_file", "credentials_file"} <= keys


# -- inhibition, in a real Alertmanager ------------------------------------------------------------


def _sinkless_copy(tmp_path: Path) -> Path:
    """The real route tree and inhibit rules, every receiver replaced by a loopback webhook (nothing
    leaves the machine; deliveries to the closed port just fail)."""
    config = load_yaml(CONFIG)
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": "http://127.0.0.1:9/discard"}]}
        for r in config["receivers"]
    ]
    config["global"] = {"resolve_timeout": "5m"}
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("alertmanager")
    server = start_alertmanager(_sinkless_copy(workdir), workdir)
    try:
        yield server
    finally:
        server.stop()


def _post(server: ServerProcess, *alerts: dict[str, str]) -> None:
    body = [{"labels": labels, "annotations": {"summary": "test"}} for labels in alerts]
    assert post_json(f"{server.base_url}/api/v2/alerts", body) == 200


def _inhibited(server: ServerProcess, expected: dict[tuple[str, ...], bool]) -> dict[tuple[str, ...], bool]:
    """(alertname, severity, tenant_id, slo) -> inhibited, as Alertmanager reports them once it agrees with
    ``expected`` (its inhibitor learns the source alerts asynchronously) or after 10 s."""
    seen: dict[tuple[str, ...], bool] = {}

    def settled() -> bool:
        seen.clear()
        for a in get_json(f"{server.base_url}/api/v2/alerts"):
            labels = a["labels"]
            key = (labels["alertname"], labels["severity"], labels.get("tenant_id", ""), labels.get("slo", ""))
            seen[key] = bool(a["status"]["inhibitedBy"])
        return seen == expected

    poll(settled, 10)
    return seen


@needs_servers
def test_inhibition_rules_in_a_real_alertmanager(alertmanager: ServerProcess) -> None:
    api = {"service": "spotify/music-api"}
    _post(
        alertmanager,
        # critical silences the warning of the same alert for the same tenant only
        {"alertname": "HighErrorRatio", "severity": "critical", "tenant_id": "acme", **api},
        {"alertname": "HighErrorRatio", "severity": "warning", "tenant_id": "acme", **api},
        {"alertname": "HighErrorRatio", "severity": "warning", "tenant_id": "globex", **api},
        # an SLO page silences its slow-burn ticket, not another SLO's
        {
            "alertname": "SLOErrorBudgetBurnFast",
            "severity": "critical",
            "slo": "music-availability",
            "tenant_id": "acme",
            **api,
        },
        {
            "alertname": "SLOErrorBudgetBurnSlow",
            "severity": "warning",
            "slo": "music-availability",
            "tenant_id": "acme",
            **api,
        },
        {
            "alertname": "SLOErrorBudgetBurnSlow",
            "severity": "warning",
            "slo": "music-latency",
            "tenant_id": "acme",
            **api,
        },
        # a collector that is down silences the other collector alerts
        {"alertname": "OtelCollectorDown", "severity": "critical", "service": "otel-collector"},
        {"alertname": "OtelCollectorQueueFilling", "severity": "warning", "service": "otel-collector"},
        {"alertname": "ServiceStoppedReporting", "severity": "critical", "service": "spotify/music-api"},
        # warning silences info of the same alert
        {"alertname": "ModelDataDrift", "severity": "warning", "service": "spotify/recommender"},
        {"alertname": "ModelDataDrift", "severity": "info", "service": "spotify/recommender"},
    )
    expected = {
        ("HighErrorRatio", "critical", "acme", ""): False,
        ("HighErrorRatio", "warning", "acme", ""): True,
        ("HighErrorRatio", "warning", "globex", ""): False,
        ("SLOErrorBudgetBurnFast", "critical", "acme", "music-availability"): False,
        ("SLOErrorBudgetBurnSlow", "warning", "acme", "music-availability"): True,
        ("SLOErrorBudgetBurnSlow", "warning", "acme", "music-latency"): False,
        ("OtelCollectorDown", "critical", "", ""): False,
        ("OtelCollectorQueueFilling", "warning", "", ""): True,
        ("ServiceStoppedReporting", "critical", "", ""): True,
        ("ModelDataDrift", "warning", "", ""): False,
        ("ModelDataDrift", "info", "", ""): True,
    }
    assert _inhibited(alertmanager, expected) == expected


# -- render-alertmanager.sh -----------------------------------------------------------------------


def _render(tmp_path: Path, **env: str) -> tuple[Path, Path]:
    out, secrets = tmp_path / "alertmanager.yml", tmp_path / "secrets"
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    result = run(["sh", str(RENDER), str(CONFIG), str(out), str(secrets)], env=environment)
    assert result.returncode == 0, result.stderr
    return out, secrets


@needs_amtool
def test_render_writes_secret_files_and_substitutes_marked_values(tmp_path: Path) -> None:
    out, secrets = _render(
        tmp_path,
        SLACK_WEBHOOK_URL="https://hooks.example/T/B/X",
        PAGERDUTY_ROUTING_KEY="pd-key",
        REMEDIATION_TOKEN="token-0123456789abcdef",
        EMAIL_SMTP_SERVER="mail.corp:25",
        SMS_GATEWAY_URL="http://sms.corp/send?a=1&b='2'",
    )
    config = load_yaml(out)
    assert config["global"]["smtp_smarthost"] == "mail.corp:25"
    assert _receiver(config, "pager")["webhook_configs"][0]["url"] == "http://sms.corp/send?a=1&b='2'"
    assert config["global"]["smtp_from"] == "alertmanager@example.com"  # unset variable: default kept
    assert (secrets / "slack_webhook_url").read_text() == "https://hooks.example/T/B/X"
    assert (secrets / "slack_security_webhook_url").read_text() == "https://hooks.example/T/B/X"
    assert (secrets / "remediation_token").read_text() == "token-0123456789abcdef"
    assert stat.S_IMODE((secrets / "pagerduty_routing_key").stat().st_mode) == 0o600
    assert not (secrets / "sms_gateway_token").exists()
    assert _receiver(config, "pager")["slack_configs"][0]["api_url_file"] == str(
        secrets / "slack_webhook_url"
    )
    assert "https://hooks.example" not in out.read_text()
    result = run([str(AMTOOL), "check-config", str(out)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_without_variables_keeps_the_configuration(tmp_path: Path) -> None:
    out = tmp_path / "alertmanager.yml"
    result = run(["sh", str(RENDER), str(CONFIG), str(out)], env={"PATH": os.environ.get("PATH", "")})
    # Without SECRETS_DIR the default /etc/alertmanager/secrets is used; creating it may be refused
    # on a developer machine, which is the only acceptable failure.
    if result.returncode != 0:
        assert "/etc/alertmanager/secrets" in result.stderr
        pytest.skip("cannot create /etc/alertmanager/secrets here")
    assert out.read_text() == CONFIG.read_text()


def test_render_refuses_a_value_with_a_newline(tmp_path: Path) -> None:
    out = tmp_path / "alertmanager.yml"
    result = run(
        ["sh", str(RENDER), str(CONFIG), str(out), str(tmp_path / "s")],
        env={"PATH": os.environ.get("PATH", ""), "EMAIL_FROM": "a@b.c\ninjected: true"},
    )
    assert result.returncode != 0
    assert "EMAIL_FROM contains a newline" in result.stderr
    assert not out.exists()
