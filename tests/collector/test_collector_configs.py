"""Structural checks of every collector configuration (sidecar, agent, gateway, variants, and the copies
embedded in the Kubernetes ConfigMap and the operator resource). The collector cannot run here, so the
rules a real ``otelcol-contrib validate`` would enforce, and our own conventions, are checked on the
parsed YAML."""

from __future__ import annotations

import re
from typing import Any

import pytest
from collector_helpers import (
    AGENT,
    BASH_STYLE,
    GATEWAY,
    SIDECAR,
    VARIANTS,
    VERSION_COMMENT,
    CollectorConfig,
    all_configs,
    component_type,
    env_refs,
    parse_host_port,
    resolve_env_defaults,
    standalone_configs,
    strings_in,
)

CONFIGS = all_configs()
IDS = [config.name for config in CONFIGS]
SIGNALS = ("traces", "metrics", "logs")
PINNED_VERSION = "0.159.0"
# Type names that 0.159.0 replaced (old names still load, deprecated; we use the new ones).
DEPRECATED_TYPES = {
    "otlp": "otlp_grpc",
    "otlphttp": "otlp_http",
    "loadbalancing": "load_balancing",
    "prometheusremotewrite": "prometheus_remote_write",
    "resourcedetection": "resource_detection",
    "k8sattributes": "k8s_attributes",
    "spanmetrics": "span_metrics",
}
# Push exporters batch through sending_queue.batch; these do not need it.
PULL_OR_SELF_BATCHING = {"prometheus", "prometheus_remote_write"}


def pipelines(config: CollectorConfig) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = config.data["service"]["pipelines"]
    return result


def signal_of(pipeline_id: str) -> str:
    return pipeline_id.split("/", 1)[0]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_component_in_a_pipeline_is_defined(config: CollectorConfig) -> None:
    for pipeline_id, pipeline in pipelines(config).items():
        for kind in ("receivers", "processors", "exporters"):
            defined = config.data.get(kind) or {}
            missing = [name for name in pipeline.get(kind, []) if name not in defined]
            assert missing == [], f"{pipeline_id}: {kind} not defined: {missing}"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_defined_component_is_used(config: CollectorConfig) -> None:
    for kind in ("receivers", "processors", "exporters", "connectors"):
        used = {name for pipeline in pipelines(config).values() for name in pipeline.get(kind, [])}
        unused = sorted(set(config.data.get(kind) or {}) - used)
        assert unused == [], f"{kind} defined but in no pipeline: {unused}"
    extensions = set(config.data.get("extensions") or {})
    enabled = set(config.data["service"].get("extensions", []))
    assert extensions == enabled


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_extensions_are_health_check_pprof_and_zpages(config: CollectorConfig) -> None:
    assert config.data["service"]["extensions"] == ["health_check", "pprof", "zpages"]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_signal_has_a_pipeline(config: CollectorConfig) -> None:
    assert {signal_of(pipeline_id) for pipeline_id in pipelines(config)} == set(SIGNALS)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_memory_limiter_is_first_in_every_pipeline(config: CollectorConfig) -> None:
    for pipeline_id, pipeline in pipelines(config).items():
        assert pipeline["processors"][0] == "memory_limiter", pipeline_id


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_processors_run_in_the_documented_order(config: CollectorConfig) -> None:
    order = [
        "memory_limiter",
        "filter",
        "resource_detection",
        "k8s_attributes",
        "transform/tenant",
        "redaction",
        "transform/scrub_log_body",
        "tail_sampling",
    ]

    def rank(processor: str) -> int:
        for index, prefix in enumerate(order):
            if processor == prefix or component_type(processor) == prefix:
                return index
        raise AssertionError(f"processor {processor} has no place in the documented order")

    for pipeline_id, pipeline in pipelines(config).items():
        ranks = [rank(processor) for processor in pipeline["processors"]]
        assert ranks == sorted(ranks), f"{pipeline_id}: {pipeline['processors']}"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_tenant_handling_is_in_every_pipeline_for_its_signal(config: CollectorConfig) -> None:
    contexts = {"traces": "trace_statements", "metrics": "metric_statements", "logs": "log_statements"}
    tenant = config.data["processors"]["transform/tenant"]
    for pipeline_id, pipeline in pipelines(config).items():
        assert "transform/tenant" in pipeline["processors"], pipeline_id
        groups = tenant[contexts[signal_of(pipeline_id)]]
        statements = [statement for group in groups for statement in group["statements"]]
        assert any('set(attributes["tenant.id"], "unknown")' in s for s in statements), pipeline_id


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_scrubbing_is_in_every_pipeline(config: CollectorConfig) -> None:
    for pipeline_id, pipeline in pipelines(config).items():
        assert "redaction/secrets" in pipeline["processors"], pipeline_id
    for pipeline_id, pipeline in pipelines(config).items():
        if signal_of(pipeline_id) == "logs":
            assert "transform/scrub_log_body" in pipeline["processors"]


def _batches(exporter_id: str, exporter: dict[str, Any]) -> bool:
    if component_type(exporter_id) in PULL_OR_SELF_BATCHING:
        return True
    queue = exporter.get("sending_queue")
    if component_type(exporter_id) == "load_balancing":
        queue = exporter["protocol"]["otlp"].get("sending_queue")
    return isinstance(queue, dict) and queue.get("enabled", True) is not False and "batch" in queue


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_pipeline_batches(config: CollectorConfig) -> None:
    for pipeline_id, pipeline in pipelines(config).items():
        if any(component_type(p) == "batch" for p in pipeline["processors"]):
            continue
        for exporter_id in pipeline["exporters"]:
            exporter = config.data["exporters"][exporter_id] or {}
            assert _batches(exporter_id, exporter), f"{pipeline_id}: {exporter_id} does not batch"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_queue_sizes_hold_at_least_one_batch(config: CollectorConfig) -> None:
    for exporter_id, exporter in config.data["exporters"].items():
        queue = (exporter or {}).get("sending_queue")
        if component_type(exporter_id) == "load_balancing":
            queue = exporter["protocol"]["otlp"].get("sending_queue")
        if not queue or "queue_size" not in queue:
            continue
        batch = queue.get("batch") or {}
        assert batch.get("min_size", 0) <= queue["queue_size"], exporter_id
        assert batch.get("min_size", 0) <= batch.get("max_size", batch.get("min_size", 0)), exporter_id


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_no_bash_style_variables(config: CollectorConfig) -> None:
    offending = [text for text in strings_in(config.data) if BASH_STYLE.search(text)]
    assert offending == []


def test_bash_style_detector_catches_shell_syntax() -> None:
    for text in ("$HOST:4317", "${HOST}", "${HOST:-x}", "http://$ES/"):
        assert BASH_STYLE.search(text), text
    for text in ("${env:HOST:-0.0.0.0}:4317", "(^|[._-])token([._-]|$)", "price $5"):
        assert not BASH_STYLE.search(text), text


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_no_deprecated_component_type_names(config: CollectorConfig) -> None:
    for kind in ("processors", "exporters", "connectors", "extensions"):
        for component_id in config.data.get(kind) or {}:
            assert component_type(component_id) not in DEPRECATED_TYPES, f"{kind}: {component_id}"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_otlp_receivers_listen_on_the_sdk_default_ports(config: CollectorConfig) -> None:
    protocols = config.data["receivers"]["otlp"]["protocols"]
    assert parse_host_port(protocols["grpc"]["endpoint"]) == ("0.0.0.0", 4317)
    assert parse_host_port(protocols["http"]["endpoint"]) == ("0.0.0.0", 4318)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_admin_endpoints(config: CollectorConfig) -> None:
    extensions = config.data["extensions"]
    assert parse_host_port(extensions["health_check"]["endpoint"]) == ("0.0.0.0", 13133)
    assert parse_host_port(extensions["pprof"]["endpoint"]) == ("localhost", 1777)
    assert parse_host_port(extensions["zpages"]["endpoint"]) == ("localhost", 55679)
    assert parse_host_port(config.data["exporters"]["prometheus"]["endpoint"]) == ("0.0.0.0", 8889)
    reader = config.data["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    assert resolve_env_defaults(reader) == {"host": "0.0.0.0", "port": 8888}


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_endpoints_and_secrets_come_from_env(config: CollectorConfig) -> None:
    def values_under(keys: tuple[str, ...], tree: Any) -> list[str]:
        found = []
        if isinstance(tree, dict):
            for key, value in tree.items():
                if key in keys and isinstance(value, str):
                    found.append(value)
                found.extend(values_under(keys, value))
        elif isinstance(tree, list):
            for value in tree:
                found.extend(values_under(keys, value))
        return found

    keys = ("endpoint", "hostname", "user", "password", "api_key")
    literal_ok = config.name == "operator/collector.yaml"  # documented: literal listen endpoints there
    for value in values_under(keys, config.data):
        if literal_ok and re.fullmatch(r"0\.0\.0\.0:\d+", value):
            continue
        assert "${env:" in value, f"{value!r} is not configurable through an env variable"


def test_pinned_version_is_written_at_the_top_of_every_config_file() -> None:
    paths = [SIDECAR, AGENT, GATEWAY, *sorted(VARIANTS.glob("*.yaml"))]
    assert len(paths) >= 7
    for path in paths:
        header = "".join(path.read_text(encoding="utf-8").splitlines(True)[:3])
        match = VERSION_COMMENT.search(header)
        assert match, f"{path.name}: no 'opentelemetry-collector-contrib X.Y.Z' in the first lines"
        assert match.group(1) == PINNED_VERSION, path.name


def _by_kind() -> dict[str, dict[str, Any]]:
    return {config.kind: config.data for config in standalone_configs()}


@pytest.mark.parametrize(
    ("section", "name", "kinds"),
    [
        ("processors", "filter/drop_noise", ("sidecar", "agent", "gateway")),
        ("processors", "transform/tenant", ("sidecar", "agent", "gateway")),
        ("processors", "redaction/secrets", ("sidecar", "agent", "gateway")),
        ("processors", "transform/scrub_log_body", ("sidecar", "agent", "gateway")),
        ("processors", "resource_detection", ("sidecar", "agent")),
        ("exporters", "otlp_grpc/jaeger", ("sidecar", "gateway")),
        ("exporters", "prometheus", ("sidecar", "agent", "gateway")),
        ("exporters", "elasticsearch/logs", ("sidecar", "gateway")),
        ("receivers", "otlp", ("sidecar", "agent", "gateway")),
        ("extensions", "health_check", ("sidecar", "agent", "gateway")),
        ("extensions", "pprof", ("sidecar", "agent", "gateway")),
        ("extensions", "zpages", ("sidecar", "agent", "gateway")),
    ],
)
def test_shared_components_are_identical_across_files(section: str, name: str, kinds: tuple[str, ...]) -> None:
    configs = _by_kind()
    reference = configs[kinds[0]][section][name]
    for kind in kinds[1:]:
        assert configs[kind][section][name] == reference, f"{name} differs in the {kind} config"


def test_internal_telemetry_is_identical_across_files() -> None:
    configs = _by_kind()
    assert configs["agent"]["service"]["telemetry"] == configs["sidecar"]["service"]["telemetry"]
    assert configs["gateway"]["service"]["telemetry"] == configs["sidecar"]["service"]["telemetry"]


def test_gateway_memory_limit_is_larger_than_the_sidecars() -> None:
    configs = resolve_env_defaults(_by_kind())
    sidecar = configs["sidecar"]["processors"]["memory_limiter"]
    gateway = configs["gateway"]["processors"]["memory_limiter"]
    assert gateway["limit_mib"] > sidecar["limit_mib"]
    for limiter in (sidecar, gateway):
        assert 0 < limiter["spike_limit_mib"] < limiter["limit_mib"]


def test_tenant_normalisation_is_the_same_for_every_signal() -> None:
    tenant = _by_kind()["sidecar"]["processors"]["transform/tenant"]
    firsts = [tenant[key][0]["statements"][:3] for key in ("trace_statements", "metric_statements", "log_statements")]
    assert firsts[0] == firsts[1] == firsts[2]
    assert [tenant[key][0]["context"] for key in ("trace_statements", "metric_statements", "log_statements")] == [
        "span",
        "datapoint",
        "log",
    ]


def test_elasticsearch_exporter_routes_by_data_stream_attributes() -> None:
    exporter = _by_kind()["sidecar"]["exporters"]["elasticsearch/logs"]
    assert exporter["mapping"]["mode"] == "otel"
    # A static index would disable the per-tenant dynamic routing.
    assert not {"logs_index", "index", "logs_dynamic_index"} & set(exporter)


def test_prometheus_exporter_keeps_resource_attributes_on_target_info() -> None:
    exporter = _by_kind()["sidecar"]["exporters"]["prometheus"]
    assert "resource_to_telemetry_conversion" not in exporter
    assert "resource_constant_labels" not in exporter
    assert exporter["enable_open_metrics"] is True  # exemplars (trace_id) reach Prometheus


def test_gateway_tail_sampling_keeps_errors_slow_traces_and_samples_per_tenant() -> None:
    gateway = resolve_env_defaults(_by_kind()["gateway"])
    sampling = gateway["processors"]["tail_sampling"]
    policies = {policy["name"]: policy for policy in sampling["policies"]}
    assert policies["keep-errors"]["status_code"]["status_codes"] == ["ERROR"]
    assert policies["keep-slow"]["latency"]["threshold_ms"] > 0
    tenant_policies = [
        policy
        for policy in sampling["policies"]
        if policy["type"] == "and"
        and any(sub.get("string_attribute", {}).get("key") == "tenant.id" for sub in policy["and"]["and_sub_policy"])
        and any(sub["type"] == "probabilistic" for sub in policy["and"]["and_sub_policy"])
    ]
    assert len(tenant_policies) >= 2
    percentages = [
        sub["probabilistic"]["sampling_percentage"]
        for policy in tenant_policies
        for sub in policy["and"]["and_sub_policy"]
        if sub["type"] == "probabilistic"
    ]
    assert all(0 <= p <= 100 for p in percentages)
    assert "tail_sampling" in gateway["service"]["pipelines"]["traces"]["processors"]


def test_priority_tenant_default_regex_matches_no_tenant() -> None:
    gateway = resolve_env_defaults(_by_kind()["gateway"])
    policy = next(p for p in gateway["processors"]["tail_sampling"]["policies"] if p["name"] == "keep-priority-tenants")
    pattern = policy["and"]["and_sub_policy"][0]["string_attribute"]["values"][0]
    # Go's \A and \z are \A and \Z in Python.
    python_pattern = pattern.replace("\\z", "\\Z")
    for tenant in ("acme", "unknown", "__overflow__", "a"):
        assert not re.search(python_pattern, tenant)


def test_agent_load_balances_traces_by_trace_id() -> None:
    agent = _by_kind()["agent"]
    exporter = agent["exporters"]["load_balancing"]
    assert exporter["routing_key"] == "traceID"
    assert set(exporter["resolver"]) & {"dns", "k8s"}
    assert "endpoint" not in exporter["protocol"]["otlp"]  # set by the resolver
    assert agent["service"]["pipelines"]["traces"]["exporters"] == ["load_balancing"]
    # Metrics stay on the agent: traceID routing is wrong for metrics.
    assert agent["service"]["pipelines"]["metrics"]["exporters"] == ["prometheus"]
    gateway_port = parse_host_port(_by_kind()["gateway"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])[1]
    assert resolve_env_defaults(exporter["resolver"]["dns"]["port"]) == gateway_port


def test_every_env_reference_is_well_formed() -> None:
    for config in CONFIGS:
        for text in strings_in(config.data):
            if "${" in text:
                stripped = re.sub(r"\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}$]*)?\}", "", text)
                assert "${" not in stripped, f"{config.name}: malformed reference in {text!r}"
        for name, default in env_refs(config.data):
            assert name.isupper(), name
            assert default is None or "}" not in default
