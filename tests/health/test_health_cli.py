"""The command line: both entry points, exit codes, usage errors and the documentation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spotify_otel.health import SETTINGS, CheckResult, HealthReport, SignalResult, Status, build_parser
from spotify_otel.health._result import CanaryReport, SendResult
from spotify_otel.health._settings import SECRET_ENV

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "health.md"
RunCli = Callable[..., tuple[int, str, str]]


def _run_module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SPOTIFY_OTEL_"))}
    environ["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env={**environ, **(env or {})}, timeout=60
    )


@pytest.mark.parametrize("entry", [["-m", "spotify_otel.health"], ["-m", "spotify_otel", "health"]])
def test_both_entry_points_run_the_checks(entry: list[str], dead_url: str) -> None:
    result = _run_module(*entry, "--json", "--check", "grafana", "--require", "grafana", "--grafana-url", dead_url)

    document = json.loads(result.stdout)
    assert result.returncode == 1
    assert [(c["component"], c["status"]) for c in document["checks"]] == [("grafana", "unhealthy")]


@pytest.mark.parametrize("entry", [["-m", "spotify_otel.health"], ["-m", "spotify_otel", "health"]])
def test_invalid_url_from_environment_is_a_usage_error_naming_it(entry: list[str]) -> None:
    result = _run_module(*entry, env={"GRAFANA_URL": "grafana:3000"})

    assert result.returncode == 2
    assert "GRAFANA_URL" in result.stderr and "'grafana:3000'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["--no-such-flag"], ["--check-all", "--check", "grafana"], ["--check", "kafka"], ["--timeout", "-1"]],
)
def test_usage_errors_exit_2(args: list[str], run_cli: RunCli) -> None:
    code, out, err = run_cli(*args)

    assert code == 2
    assert out == ""
    assert "error" in err


def test_python_m_health_main_shares_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    from spotify_otel.health import main

    assert main(["--check-all", "--check", "grafana"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_every_setting_is_a_flag_of_both_parsers(capsys: pytest.CaptureFixture[str]) -> None:
    from spotify_otel.cli import main as cli_main

    with pytest.raises(SystemExit) as info:
        cli_main(["health", "--help"])
    sub_help = capsys.readouterr().out
    module_help = build_parser().format_help()

    assert info.value.code == 0
    for setting in SETTINGS:
        assert setting.flag in sub_help and setting.flag in module_help
    for flag in ("--check-all", "--canary", "--json"):
        assert flag in sub_help and flag in module_help


def test_docs_describe_every_flag_environment_variable_and_exit_code() -> None:
    text = DOCS.read_text()
    flags = {action for action in build_parser()._option_string_actions if action.startswith("--")} - {"--help"}

    missing_flags = sorted(f for f in flags if f"`{f}" not in text)
    missing_env = sorted(e for s in SETTINGS for e in s.env if f"`{e}`" not in text)
    missing_secrets = sorted(e for e in SECRET_ENV if f"`{e}`" not in text)
    assert (missing_flags, missing_env, missing_secrets) == ([], [], [])
    for code in ("| 0 |", "| 1 |", "| 2 |"):
        assert code in text


def _example_report() -> HealthReport:
    check = CheckResult("grafana", Status.HEALTHY, 1.0, "database ok", "http://g", {"database": "ok"}, True)
    signal = SignalResult("traces", "jaeger", Status.HEALTHY, True, 12.0, "found", "http://j", {})
    canary = CanaryReport("id", "grpc", "http://o", 30.0, (SendResult("traces", True, "accepted", 1.0),), (signal,))
    return HealthReport((check,), canary, "2025-01-01T00:00:00Z", 5.0)


def _documented_fields(text: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_.\[\]<>]+)` \|", text, flags=re.MULTILINE))


def _paths(document: dict[str, Any]) -> set[str]:
    paths = (set(document) - {"checks"}) | {"checks[]"}
    paths |= {f"checks[].{k}" for k in document["checks"][0]}
    paths |= {f"canary.{k}" for k in document["canary"] if k not in ("sent", "signals")}
    return paths | {"canary.sent.<signal>", "canary.signals[]"}


def test_json_schema_fields_are_all_documented() -> None:
    document = _example_report().to_dict()

    documented = _documented_fields(DOCS.read_text())

    assert sorted(_paths(document) - documented) == []
    assert set(document["canary"]["signals"][0]) == {
        "signal",
        "backend",
        "status",
        "found",
        "delay_ms",
        "reason",
        "endpoint",
        "details",
    }
    assert f"schema version {document['schema_version']}" in DOCS.read_text()
