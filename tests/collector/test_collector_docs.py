"""docs/deployment.md and docs/troubleshooting.md against the files they describe: every collector
environment variable is documented with its real default, the port map is complete, the troubleshooting
guide covers the required problems."""

from __future__ import annotations

import re

import pytest
from collector_helpers import (
    DEPLOYMENT_DOC,
    TROUBLESHOOTING_DOC,
    all_configs,
    compose_services,
    env_refs,
    env_table,
)

TABLE = env_table()
REFERENCES = sorted({(name, default) for config in all_configs() for name, default in env_refs(config.data)})


def test_the_table_was_found() -> None:
    assert len(TABLE) >= 20


@pytest.mark.parametrize(("name", "default"), REFERENCES, ids=[f"{n}={d}" for n, d in REFERENCES])
def test_every_env_reference_is_documented_with_its_default(name: str, default: str | None) -> None:
    assert name in TABLE, f"{name} is not in the table of docs/deployment.md"
    cell = TABLE[name]
    if default is None:
        assert "required" in cell, f"{name} has no default: the table must say it is required"
    elif default == "":
        assert "(empty)" in cell, f"{name}: default is empty"
    else:
        assert f"`{default}`" in cell, f"{name}: default {default!r} not in {cell!r}"


def test_no_stale_rows_in_the_table() -> None:
    referenced = {name for name, _ in REFERENCES}
    assert set(TABLE) - referenced == set()


def test_the_env_table_parser_reads_rows() -> None:
    assert TABLE["COLLECTOR_OTLP_GRPC_PORT"] == "`4317`"


def test_port_map_lists_every_published_port() -> None:
    text = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    section = text[text.index("### Port map") :]
    section = section[: section.index("\n## ")]
    documented = {int(port) for port in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    published = {
        int(str(entry).split(":")[-1]) for service in compose_services().values() for entry in service.get("ports", [])
    }
    assert published <= documented
    assert {4317, 4318, 8888, 8889, 13133, 1777, 55679} <= documented


def test_deployment_guide_covers_the_required_topics() -> None:
    text = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    for heading in (
        "## Running the whole system with docker compose",
        "## Kubernetes: plain manifests",
        "## Kubernetes with the OpenTelemetry Operator",
        "## Scale-out: agents and a tail-sampling gateway",
        "## Collector environment variables",
        "## Validating a collector configuration for real",
        "## Backups and restore",
    ):
        assert heading in text, heading
    assert "otel/opentelemetry-collector-contrib:0.159.0 \\\n  validate --config=" in text


REQUIRED_PROBLEMS = [
    "## No traces in Jaeger",
    "## Missing tenant label",
    "## Dropped spans",
    "## Collector memory_limiter refusals",
    "## Clock skew",
    "## High cardinality and the `__overflow__` tenant",
    "## Elasticsearch mapping conflicts",
]


@pytest.mark.parametrize("heading", REQUIRED_PROBLEMS)
def test_troubleshooting_sections_have_symptoms_checks_and_fixes(heading: str) -> None:
    text = TROUBLESHOOTING_DOC.read_text(encoding="utf-8")
    assert heading in text
    section = text[text.index(heading) + len(heading) :]
    section = section.split("\n## ", 1)[0]
    for part in ("**Symptoms.**", "**Checks.**", "**Fixes.**"):
        assert part in section, f"{heading}: no {part}"
    assert "`" in section  # at least one exact command, query or metric
