"""Helpers for the remediation tests: configurations on disk, a recording action script, and an
in-process client for the ASGI app (httpx's ASGI transport, no network)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from spotify_otel.remediation import RemediationApp, create_app, parse_config, read_audit

TOKEN = "s3cret-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T = TypeVar("T")

# Records its argv and stdin (one JSON line per run) in the file named by RECORD_FILE.
ACTION_SCRIPT = """\
import json, os, sys, time
if "--sleep" in sys.argv:
    time.sleep(float(sys.argv[sys.argv.index("--sleep") + 1]))
with open(os.environ["RECORD_FILE"], "a", encoding="utf-8") as out:
    out.write(json.dumps({"argv": sys.argv[1:], "stdin": json.loads(sys.stdin.read())}) + "\\n")
print("done for", sys.argv[1:])
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


def write_action(directory: Path) -> Path:
    script = directory / "record_action.py"
    script.write_text(ACTION_SCRIPT, encoding="utf-8")
    return script


def config_document(directory: Path, **overrides: Any) -> dict[str, Any]:
    """A configuration mapping HighErrorRatio (critical) to the recording script with tenant arguments."""
    script = write_action(directory)
    document: dict[str, Any] = {
        "auth": {"token_env": "TEST_REMEDIATION_TOKEN"},
        "audit_log": "audit/remediation.jsonl",
        "actions": {
            "record": {
                "command": [
                    sys.executable,
                    str(script),
                    "--tenant",
                    "{labels.tenant_id}",
                    "--alert={fingerprint}",
                ],
                "timeout": "10s",
                "env": {"RECORD_FILE": str(directory / "runs.jsonl")},
            },
        },
        "rules": [{"alertname": "HighErrorRatio", "match": {"severity": "critical"}, "action": "record"}],
    }
    document.update(overrides)
    return document


def make_app(directory: Path, **overrides: Any) -> RemediationApp:
    config = parse_config(
        config_document(directory, **overrides), base=directory, environ={"TEST_REMEDIATION_TOKEN": TOKEN}
    )
    return create_app(config)


def runs(directory: Path) -> list[dict[str, Any]]:
    path = directory / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def audit(app: RemediationApp) -> list[dict[str, Any]]:
    return read_audit(app.config.audit_log) if app.config.audit_log.exists() else []


def call(app: RemediationApp, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run ``scenario(client)`` against the app in-process, then wait for its background actions."""

    async def main() -> T:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://remediation") as client:
            result = await scenario(client)
        await app.remediator.drain(15)
        return result

    return asyncio.run(main())
