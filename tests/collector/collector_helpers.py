"""Helpers for the collector/deployment tests: where the files are, how to load collector configurations
(standalone files, merged variants, the ConfigMap and operator copies) and how to read ``${env:...}``."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTOR = REPO / "collector"
SIDECAR = REPO / "otel-collector.yaml"
AGENT = COLLECTOR / "agent.yaml"
GATEWAY = COLLECTOR / "gateway.yaml"
VARIANTS = COLLECTOR / "variants"
COMPOSE = COLLECTOR / "compose" / "docker-compose.yml"
K8S = COLLECTOR / "k8s"
OPERATOR = COLLECTOR / "operator"
PROMETHEUS_YML = COLLECTOR / "prometheus" / "prometheus.yml"
SCRIPTS = COLLECTOR / "scripts"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
TROUBLESHOOTING_DOC = REPO / "docs" / "troubleshooting.md"

# ${env:NAME} or ${env:NAME:-default}; the default cannot contain '}' or '$' (collector rule).
ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}$]*))?\}")
# Anything else that looks like shell expansion: $NAME, ${NAME}, ${NAME:-x} (not ${env:...}).
BASH_STYLE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{(?!env:)[^}]*\})")
VERSION_COMMENT = re.compile(r"opentelemetry-collector-contrib (\d+\.\d+\.\d+)")
CONTRIB_IMAGE = re.compile(r"opentelemetry-collector-contrib:([A-Za-z0-9._-]*[A-Za-z0-9])")


def load_yaml(path: Path) -> Any:
    """Parse one YAML document."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    """Parse every document of a (possibly multi-document) YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def merge_configs(base: Any, overlay: Any) -> Any:
    """Merge like the collector does for several --config files: maps recursively, lists replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = merge_configs(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)


def resolve_env_defaults(value: Any) -> Any:
    """Replace every ``${env:NAME:-default}`` by its default (what runs when the variable is unset)."""
    if isinstance(value, dict):
        return {key: resolve_env_defaults(item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_env_defaults(item) for item in value]
    if isinstance(value, str):
        whole = ENV_REF.fullmatch(value)
        if whole and whole.group(2) is not None:
            # A whole-value reference is parsed as YAML by the collector (so "400" becomes 400).
            return yaml.safe_load(whole.group(2)) if whole.group(2) else ""
        return ENV_REF.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(0), value)
    return value


def strings_in(value: Any) -> Iterator[str]:
    """Every string (keys included) in a parsed YAML tree."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str):
        yield value


def env_refs(value: Any) -> list[tuple[str, str | None]]:
    """All ``(NAME, default or None)`` pairs referenced in a parsed configuration."""
    return [(m.group(1), m.group(2)) for text in strings_in(value) for m in ENV_REF.finditer(text)]


@dataclass(frozen=True)
class CollectorConfig:
    """One collector configuration under test, with a name for test ids."""

    name: str
    data: dict[str, Any]
    kind: str  # "sidecar", "agent" or "gateway"


def standalone_configs() -> list[CollectorConfig]:
    """The three configuration files, as written."""
    return [
        CollectorConfig("otel-collector.yaml", load_yaml(SIDECAR), "sidecar"),
        CollectorConfig("collector/agent.yaml", load_yaml(AGENT), "agent"),
        CollectorConfig("collector/gateway.yaml", load_yaml(GATEWAY), "gateway"),
    ]


# Which base files each variant is written for (its header says the same).
VARIANT_BASES = {
    "k8s-attributes.yaml": ("sidecar", "agent"),
    "remote-write.yaml": ("sidecar", "agent", "gateway"),
    "jaeger-tenant.yaml": ("sidecar", "gateway"),
    "elasticsearch-traces.yaml": ("sidecar", "gateway"),
}


def variant_configs() -> list[CollectorConfig]:
    """Every variant merged onto every base it is meant for."""
    bases = {config.kind: config for config in standalone_configs()}
    merged = []
    for variant, kinds in VARIANT_BASES.items():
        overlay = load_yaml(VARIANTS / variant)
        for kind in kinds:
            base = bases[kind]
            merged.append(CollectorConfig(f"{base.name}+variants/{variant}", merge_configs(base.data, overlay), kind))
    return merged


def configmap_config() -> CollectorConfig:
    """The configuration embedded in the plain Kubernetes ConfigMap."""
    configmap = load_yaml(K8S / "configmap.yaml")
    return CollectorConfig("k8s/configmap.yaml", yaml.safe_load(configmap["data"]["otel-collector.yaml"]), "sidecar")


def operator_config() -> CollectorConfig:
    """The configuration embedded in the OpenTelemetryCollector resource."""
    resource = load_yaml(OPERATOR / "collector.yaml")
    return CollectorConfig("operator/collector.yaml", resource["spec"]["config"], "sidecar")


def all_configs() -> list[CollectorConfig]:
    """Every collector configuration the project ships, in every form it is deployed."""
    return [*standalone_configs(), *variant_configs(), configmap_config(), operator_config()]


def component_type(component_id: str) -> str:
    """``otlp_grpc/jaeger`` -> ``otlp_grpc``."""
    return component_id.split("/", 1)[0]


def parse_host_port(endpoint: str) -> tuple[str, int]:
    """``0.0.0.0:4317`` -> ("0.0.0.0", 4317), after resolving env defaults."""
    host, _, port = str(resolve_env_defaults(endpoint)).rpartition(":")
    return host, int(port)


def env_table(doc: Path = DEPLOYMENT_DOC) -> dict[str, str]:
    """The environment-variable table of docs/deployment.md: ``{NAME: default cell}``."""
    table: dict[str, str] = {}
    in_table = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("| Variable |"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                break
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            match = re.fullmatch(r"`([A-Z0-9_]+)`", cells[0])
            if match:
                table[match.group(1)] = cells[1]
    return table


def compose_services() -> dict[str, Any]:
    """``services`` of collector/compose/docker-compose.yml."""
    services: dict[str, Any] = load_yaml(COMPOSE)["services"]
    return services
