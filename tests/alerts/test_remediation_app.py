"""The remediation ASGI app: authentication, payload validation, label-injection refusal, dedup, rate
limits, dry run, and an audit record for every decision and result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from alerts_helpers import webhook_alert, webhook_payload
from remediation_helpers import AUTH, TOKEN, audit, call, make_app, runs


def _post(
    app: Any, body: Any, headers: dict[str, str] | None = None, content: bytes | None = None
) -> httpx.Response:
    async def scenario(client: httpx.AsyncClient) -> httpx.Response:
        if content is not None:
            return await client.post("/webhook", content=content, headers=headers or {})
        return await client.post("/webhook", json=body, headers=headers or {})

    return call(app, scenario)


def _critical(fingerprint: str = "a1b2c3d4e5f60718", **labels: str) -> dict[str, Any]:
    return webhook_alert(fingerprint, severity="critical", **{"tenant_id": "acme", **labels})


def test_a_mapped_alert_runs_its_command_once_with_label_arguments(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = _post(app, webhook_payload([_critical()]), AUTH)
    assert response.status_code == 200
    assert response.json()["results"][0]["decision"] == "scheduled"
    [run] = runs(tmp_path)
    assert run["argv"] == ["--tenant", "acme", "--alert=a1b2c3d4e5f60718"]
    assert run["stdin"]["alertname"] == "HighErrorRatio"
    assert run["stdin"]["labels"]["tenant_id"] == "acme"
    decision, result = audit(app)
    assert (decision["event"], decision["decision"], decision["remote"]) == (
        "decision",
        "scheduled",
        "127.0.0.1",
    )
    assert decision["argv"][-3:] == ["--tenant", "acme", "--alert=a1b2c3d4e5f60718"]
    assert (result["event"], result["outcome"], result["exit_code"]) == ("result", "succeeded", 0)
    assert "done for" in result["output"]


def test_the_bearer_scheme_is_case_insensitive(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = _post(app, webhook_payload([_critical()]), {"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


def test_a_repeated_notification_is_deduplicated_by_fingerprint(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def scenario(client: httpx.AsyncClient) -> list[str]:
        decisions = []
        for _ in range(3):
            response = await client.post("/webhook", json=webhook_payload([_critical()]), headers=AUTH)
            decisions.append(response.json()["results"][0]["decision"])
        return decisions

    assert call(app, scenario) == ["scheduled", "deduplicated", "deduplicated"]
    assert len(runs(tmp_path)) == 1
    assert [r.get("decision") for r in audit(app) if r["event"] == "decision"] == [
        "scheduled",
        "deduplicated",
        "deduplicated",
    ]


def test_rate_limit_per_rule_across_fingerprints(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        rules=[{"alertname": "HighErrorRatio", "action": "record", "rate_limit": {"max": 2, "per": "1h"}}],
    )
    alerts = [_critical(f"{i:016x}", tenant_id=f"t{i}") for i in range(1, 4)]
    response = _post(app, webhook_payload(alerts), AUTH)
    assert [r["decision"] for r in response.json()["results"]] == ["scheduled", "scheduled", "rate_limited"]
    assert "already ran 2 time(s) within 3600 s" in response.json()["results"][2]["reason"]
    assert sorted(run["argv"][1] for run in runs(tmp_path)) == ["t1", "t2"]


def test_dry_run_decides_and_audits_but_executes_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path, dry_run=True)
    response = _post(app, webhook_payload([_critical()]), AUTH)
    assert response.json()["results"][0]["decision"] == "dry_run"
    assert runs(tmp_path) == []
    [record] = audit(app)
    assert (record["decision"], record["argv"][-2]) == ("dry_run", "acme")


def test_resolved_and_unmapped_alerts_are_audited_but_not_run(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    payload = webhook_payload(
        [
            _critical(status="resolved"),
            webhook_alert(
                "00000000000000ff", severity="warning", tenant_id="acme"
            ),  # the rule wants critical
            webhook_alert("00000000000000fe", alertname="DiskFull"),
        ]
    )
    response = _post(app, payload, AUTH)
    assert response.status_code == 200
    assert [r["decision"] for r in response.json()["results"]] == ["ignored", "no_match", "no_match"]
    assert runs(tmp_path) == []
    assert len(audit(app)) == 3


@pytest.mark.parametrize(
    "value",
    [
        "--config=/etc/shadow",
        "-rf",
        "acme; rm -rf /",
        "$(id)",
        "`id`",
        "acme\nextra",
        "../../etc",
        "a b",
        "acme|x",
    ],
)
def test_label_values_that_try_to_inject_arguments_are_rejected(tmp_path: Path, value: str) -> None:
    app = make_app(tmp_path)
    response = _post(app, webhook_payload([_critical(tenant_id=value)]), AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "rejected"
    assert "label tenant_id value" in body["error"]
    assert runs(tmp_path) == []
    [record] = audit(app)
    assert (record["decision"], record["labels"]["tenant_id"]) == ("rejected", value)
    assert "tenant_id" in record["reason"]


def test_a_rejected_alert_does_not_block_the_others_in_the_notification(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    payload = webhook_payload([_critical("0000000000000001", tenant_id="-x"), _critical("0000000000000002")])
    response = _post(app, payload, AUTH)
    assert response.status_code == 422
    assert [r["decision"] for r in response.json()["results"]] == ["rejected", "scheduled"]
    assert [run["argv"][1] for run in runs(tmp_path)] == ["acme"]


def test_a_missing_label_is_rejected_with_its_name(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    alert = _critical()
    del alert["labels"]["tenant_id"]
    response = _post(app, webhook_payload([alert]), AUTH)
    assert response.status_code == 422
    assert "the alert has no label tenant_id" in response.json()["error"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer wrong-token-0123456789"}, "invalid bearer token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid bearer token"),
    ],
)
def test_unauthenticated_calls_are_rejected_and_audited(
    tmp_path: Path, headers: dict[str, str], reason: str
) -> None:
    app = make_app(tmp_path)
    response = _post(app, webhook_payload([_critical()]), headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert reason in response.json()["error"]
    assert runs(tmp_path) == []
    [record] = audit(app)
    assert (record["event"], record["decision"], record["status"]) == ("request", "rejected", 401)
    assert reason in record["reason"]
    assert "labels" not in record  # nothing from an unauthenticated body is trusted or stored


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "malformed payload: body is not JSON"),
        (b"[]", "application/json", 400, "body must be a JSON object"),
        (
            json.dumps({"version": "3", "alerts": []}).encode(),
            "application/json",
            400,
            "version: '3' is not supported",
        ),
        (
            json.dumps({"version": "4", "alerts": {}}).encode(),
            "application/json",
            400,
            "alerts: must be a list",
        ),
        (
            json.dumps(
                webhook_payload([{**webhook_alert(), "labels": {"alertname": "X", "tenant_id": 3}}])
            ).encode(),
            "application/json",
            400,
            "alerts[0].labels.tenant_id: must be a string",
        ),
        (
            json.dumps(webhook_payload([{**webhook_alert(), "fingerprint": "zz; rm"}])).encode(),
            "application/json",
            400,
            "alerts[0].fingerprint",
        ),
        (
            json.dumps(webhook_payload([{**webhook_alert(), "status": "pending"}])).encode(),
            "application/json",
            400,
            "alerts[0].status: 'pending'",
        ),
        (b"alerts=1", "application/x-www-form-urlencoded", 415, "is not application/json"),
    ],
)
def test_malformed_payloads_are_rejected_with_a_clear_error(
    tmp_path: Path, content: bytes, content_type: str, status: int, message: str
) -> None:
    app = make_app(tmp_path)
    response = _post(app, None, {**AUTH, "Content-Type": content_type}, content=content)
    assert response.status_code == status
    assert message in response.json()["error"]
    [record] = audit(app)
    assert (record["decision"], record["status"]) == ("rejected", status)
    assert message in record["reason"]


def test_oversized_bodies_are_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path, max_body_bytes=2048)
    big = webhook_payload([_critical(f"{i:016x}") for i in range(40)])
    response = _post(app, big, AUTH)
    assert response.status_code == 413
    assert audit(app)[0]["status"] == 413


def test_health_methods_and_paths(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def scenario(client: httpx.AsyncClient) -> list[int]:
        health = await client.get("/health")
        assert health.json() == {"status": "ok", "dry_run": False, "running_actions": 0}
        return [
            health.status_code,
            (await client.get("/webhook")).status_code,
            (await client.post("/elsewhere", headers=AUTH)).status_code,
        ]

    assert call(app, scenario) == [200, 405, 404]
    assert audit(app) == []


def test_nothing_runs_when_the_audit_log_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "audit").write_text("a file where the audit directory should be")
    app = make_app(tmp_path)
    response = _post(app, webhook_payload([_critical()]), AUTH)
    assert response.status_code == 500
    assert "no alert without an audit record was executed" in response.json()["error"]
    assert runs(tmp_path) == []
