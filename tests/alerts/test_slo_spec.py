"""The SLO specification: what is accepted, and errors that name the field, the value and the fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from spotify_otel.slo import SpecError, load_spec, parse_spec


def _spec(**entry: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "music",
        "service": "spotify/music-api",
        "objectives": {"availability": 99.9},
    }
    base.update(entry)
    return {"version": 1, "slos": [base]}


def test_an_entry_becomes_one_slo_per_objective_with_defaults() -> None:
    spec = parse_spec(_spec(objectives={"availability": 99.9, "latency": "99"}))
    assert [(s.name, s.sli, s.objective, s.window, s.tenants) for s in spec.slos] == [
        ("music-availability", "availability", Decimal("0.999"), "30d", "all"),
        ("music-latency", "latency", Decimal("0.99"), "30d", "all"),
    ]
    assert spec.slos[0].error_budget == Decimal("0.001")
    assert not spec.slos[0].per_tenant


@pytest.mark.parametrize(
    ("tenants", "expected", "per_tenant"),
    [
        ("all", "all", False),
        ("each", "each", True),
        (["acme", "globex.eu"], ("acme", "globex.eu"), True),
    ],
)
def test_tenant_scopes(tenants: Any, expected: Any, per_tenant: bool) -> None:
    slo = parse_spec(_spec(tenants=tenants)).slos[0]
    assert (slo.tenants, slo.per_tenant) == (expected, per_tenant)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"objectives": {"availability": 0.999}}, "slos[0].objectives.availability: 0.999 is out of range"),
        ({"objectives": {"availability": 100}}, "between 50 and 100 (exclusive)"),
        ({"objectives": {"availability": "high"}}, "'high' is not a number"),
        ({"objectives": {}}, "slos[0].objectives: give at least one of availability, latency"),
        ({"objectives": {"uptime": 99}}, "unknown field(s) ['uptime']"),
        ({"window": "7d"}, "slos[0].window: '7d' is invalid; accepted: 28d to 90d"),
        ({"window": "720h"}, "'720h' is invalid"),
        ({"tenants": ["acme", "-evil"]}, "slos[0].tenants"),
        ({"tenants": ["acme", "acme"]}, "lists a tenant twice"),
        ({"tenants": "some"}, "accepted: all, each, or a non-empty list"),
        ({"name": "Music API"}, "slos[0].name: 'Music API' is invalid"),
        ({"service": 'music"} or vector(1)'}, "slos[0].service"),
        ({"labels": {"severity": "low"}}, "'severity' is set by the generator"),
        ({"labels": {"team": 3}}, "slos[0].labels.team: 3 must be a string"),
        ({"latency_threshold_ms": -5}, "latency_threshold_ms: -5 is out of range"),
        ({"owner": "me"}, "unknown field(s) ['owner']"),
    ],
)
def test_invalid_entries_are_rejected_with_the_field_named(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(_spec(**entry))
    assert message in str(info.value)


def test_document_level_errors() -> None:
    with pytest.raises(SpecError, match=r"version: 2 is not supported; accepted: 1"):
        parse_spec({"version": 2, "slos": []})
    with pytest.raises(SpecError, match="slos: must be a non-empty list"):
        parse_spec({"version": 1, "slos": []})
    duplicate = _spec()
    duplicate["slos"].append(dict(duplicate["slos"][0]))
    with pytest.raises(SpecError, match=r"duplicate SLO names \['music-availability'\]"):
        parse_spec(duplicate)


def test_load_spec_reports_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read SLO specification"):
        load_spec(tmp_path / "missing.yaml")
    broken = tmp_path / "slo.yaml"
    broken.write_text("version: 1\nslos: [\n", encoding="utf-8")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_spec(broken)


def test_the_committed_specification_is_valid() -> None:
    spec = load_spec(Path(__file__).resolve().parents[2] / "alerts" / "slo.yaml")
    assert {slo.tenants if isinstance(slo.tenants, str) else "list" for slo in spec.slos} == {
        "all",
        "each",
        "list",
    }
