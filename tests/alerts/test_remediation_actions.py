"""Remediation actions and their policies: commands without a shell, timeouts that kill, registered
Python callables, failures recorded in the audit log, dedup and rate-limit windows."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from alerts_helpers import webhook_alert, webhook_payload
from remediation_helpers import AUTH, audit, call, make_app, runs

from spotify_otel.remediation import ActionContext, load_config, register_action
from spotify_otel.remediation.actions import run_command
from spotify_otel.remediation.policy import Deduplicator, RateLimiter
from spotify_otel.remediation.templating import DEFAULT_LABEL_PATTERN, UnsafeValueError, render_argv

CALLS: list[dict[str, Any]] = []
PATTERN = re.compile(DEFAULT_LABEL_PATTERN)


@register_action("test-record-sync")
def _record_sync(ctx: ActionContext) -> str:
    CALLS.append(
        {"kind": "sync", "tenant": ctx.labels["tenant_id"], "thread": threading.current_thread().name}
    )
    return f"handled {ctx.labels['tenant_id']}"


@register_action("test-record-async")
async def _record_async(ctx: ActionContext) -> None:
    await asyncio.sleep(0)
    CALLS.append({"kind": "async", "tenant": ctx.labels["tenant_id"]})


@register_action("test-explode")
def _explode(ctx: ActionContext) -> None:
    raise RuntimeError(f"cannot fix {ctx.alertname}")


@register_action("test-slow")
async def _slow(ctx: ActionContext) -> None:
    await asyncio.sleep(5)


def _post(app: Any, *alerts: dict[str, Any]) -> Any:
    async def scenario(client: Any) -> Any:
        return (await client.post("/webhook", json=webhook_payload(list(alerts)), headers=AUTH)).json()

    return call(app, scenario)


def _callable_app(tmp_path: Path, name: str, timeout: str = "5s") -> Any:
    return make_app(
        tmp_path,
        actions={"py": {"callable": name, "timeout": timeout}},
        rules=[{"alertname": "HighErrorRatio", "action": "py"}],
    )


@pytest.mark.parametrize(("name", "kind"), [("test-record-sync", "sync"), ("test-record-async", "async")])
def test_registered_callables_get_the_alert(tmp_path: Path, name: str, kind: str) -> None:
    CALLS.clear()
    app = _callable_app(tmp_path, name)
    assert _post(app, webhook_alert(tenant_id="acme"))["results"][0]["decision"] == "scheduled"
    assert [(c["kind"], c["tenant"]) for c in CALLS] == [(kind, "acme")]
    result = audit(app)[-1]
    assert (result["event"], result["outcome"]) == ("result", "succeeded")
    if kind == "sync":
        assert CALLS[0]["thread"] != "MainThread"  # blocking code stays off the event loop
        assert result["output"] == "handled acme"


def test_callables_by_import_path(tmp_path: Path) -> None:
    CALLS.clear()
    app = _callable_app(tmp_path, f"{__name__}:_record_sync")
    _post(app, webhook_alert(tenant_id="globex"))
    assert [c["tenant"] for c in CALLS] == ["globex"]


def test_a_failing_callable_is_audited_as_failed(tmp_path: Path) -> None:
    app = _callable_app(tmp_path, "test-explode")
    _post(app, webhook_alert())
    result = audit(app)[-1]
    assert (result["outcome"], result["error"]) == ("failed", "RuntimeError: cannot fix HighErrorRatio")


def test_a_slow_callable_times_out(tmp_path: Path) -> None:
    app = _callable_app(tmp_path, "test-slow", timeout="200ms")
    _post(app, webhook_alert())
    result = audit(app)[-1]
    assert (result["outcome"], result["error"]) == ("timeout", "no result after 0.2 s")


def test_a_command_that_exceeds_its_timeout_is_killed(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    record = app.config.actions["record"]
    argv = [sys.executable, record.command[1], "--sleep", "30"]
    result = asyncio.run(run_command(argv, b"{}", 0.5, dict(record.env), tmp_path))
    assert result.outcome == "timeout"
    assert result.exit_code is not None and result.exit_code < 0  # killed by a signal
    assert result.duration_ms < 5000
    assert runs(tmp_path) == []


def test_a_failing_command_records_its_exit_code_and_output(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    env = dict(app.config.actions["record"].env) | {"EXIT_CODE": "3"}
    result = asyncio.run(
        run_command([sys.executable, app.config.actions["record"].command[1]], b"{}", 5, env, tmp_path)
    )
    assert (result.outcome, result.exit_code) == ("failed", 3)
    assert "done for" in result.output


def test_a_missing_program_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = asyncio.run(run_command([str(tmp_path / "nope")], b"", 5, {}, tmp_path))
    assert result.outcome == "error"
    assert "cannot execute" in result.error


def test_commands_get_a_minimal_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REMEDIATION_TOKEN", "must-not-leak-0123456789")
    script = tmp_path / "env.py"
    script.write_text("import os, json; print(json.dumps(sorted(os.environ)))")
    result = asyncio.run(run_command([sys.executable, str(script)], b"", 5, {"EXTRA": "1"}, tmp_path))
    names = set(json.loads(result.output))
    assert "TEST_REMEDIATION_TOKEN" not in names
    assert "EXTRA" in names
    assert names <= {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "EXTRA", "LC_CTYPE", "PYTHONHASHSEED"}


def test_argv_rendering_keeps_each_label_one_argument() -> None:
    labels = {"tenant_id": "acme", "job": "spotify/music-api"}
    argv = render_argv(
        ["run", "--tenant={labels.tenant_id}", "{labels.job}", "{{literal}}", "{fingerprint}"],
        labels,
        "abc123",
        PATTERN,
    )
    assert argv == ["run", "--tenant=acme", "spotify/music-api", "{literal}", "abc123"]
    with pytest.raises(UnsafeValueError, match="starts with '-'"):
        render_argv(["{labels.tenant_id}"], {"tenant_id": "-x"}, "f", re.compile(".*"))
    with pytest.raises(UnsafeValueError, match="control character"):
        render_argv(["{labels.tenant_id}"], {"tenant_id": "a\x00b"}, "f", re.compile(".*"))


def test_deduplicator_forgets_after_its_window() -> None:
    now = [0.0]
    dedup = Deduplicator(60, clock=lambda: now[0])
    dedup.record("fp")
    assert dedup.seen("fp")
    now[0] = 59.9
    assert dedup.seen("fp")
    now[0] = 60.0
    assert not dedup.seen("fp")


def test_rate_limiter_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(2):
        assert limiter.allow("r", 2, 10)
        limiter.record("r")
    assert not limiter.allow("r", 2, 10)
    assert limiter.allow("other", 2, 10)
    now[0] = 10.0
    assert limiter.allow("r", 2, 10)


def test_the_example_action_runs_with_rendered_arguments(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "alerts" / "remediation.yaml", environ={"REMEDIATION_TOKEN": "t" * 20})
    spec = config.actions["open-incident"]
    labels = {"alertname": "HighErrorRatio", "service": "spotify/example-fastapi", "tenant_id": "acme"}
    argv = render_argv(spec.command, labels, "4f1c2a9be0d3c7aa", spec.label_pattern)
    stdin = json.dumps({"alertname": "HighErrorRatio", "annotations": {"summary": "errors"}}).encode()
    result = asyncio.run(run_command(argv, stdin, spec.timeout, {"INCIDENT_DIR": str(tmp_path)}, spec.cwd))
    assert result.outcome == "succeeded", result
    incident = json.loads((tmp_path / "acme.json").read_text())
    assert (incident["service"], incident["fingerprint"], incident["summary"]) == (
        "spotify/example-fastapi",
        "4f1c2a9be0d3c7aa",
        "errors",
    )
