"""Deployment files: pinned images, one collector version everywhere, consistent ports, probes and
memory limits, and the collector configuration copies (ConfigMap, operator resource) in sync with
/otel-collector.yaml."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from collector_helpers import (
    COLLECTOR,
    COMPOSE,
    CONTRIB_IMAGE,
    DEPLOYMENT_DOC,
    K8S,
    OPERATOR,
    REPO,
    SIDECAR,
    VERSION_COMMENT,
    compose_services,
    load_yaml,
    load_yaml_all,
    parse_host_port,
    resolve_env_defaults,
)

ROOT_CONFIG: dict[str, Any] = load_yaml(SIDECAR)
PINNED = VERSION_COMMENT.search(SIDECAR.read_text(encoding="utf-8")).group(1)  # type: ignore[union-attr]
SDK_PORTS = {"grpc": 4317, "http": 4318}
HEALTH_PORT = parse_host_port(ROOT_CONFIG["extensions"]["health_check"]["endpoint"])[1]
PROMETHEUS_PORT = parse_host_port(ROOT_CONFIG["exporters"]["prometheus"]["endpoint"])[1]
IMAGE_REF = re.compile(
    r"^(?P<name>[a-z0-9._/-]+(?::\d+)?[a-z0-9._/-]*):(?P<tag>[A-Za-z0-9._-]+)(@sha256:[0-9a-f]{64})?$"
)


def _k8s_pod_specs() -> list[dict[str, Any]]:
    specs = []
    for path in (K8S / "deployment.yaml", OPERATOR / "deployment-example.yaml"):
        for doc in load_yaml_all(path):
            if doc["kind"] == "Deployment":
                specs.append(doc["spec"]["template"]["spec"])
    return specs


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _k8s_collector_container() -> dict[str, Any]:
    deployment = load_yaml(K8S / "deployment.yaml")
    spec = deployment["spec"]["template"]["spec"]
    return next(c for c in _containers(spec) if c["name"] == "otel-collector")


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def _mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "k": 1000 / 1024**2, "M": 1e6 / 1024**2, "G": 1e9 / 1024**2}
    units.update({"m": 1e6 / 1024**2, "g": 1e9 / 1024**2, "MiB": 1, "GiB": 1024})
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", str(quantity))
    assert match, quantity
    return float(match.group(1)) * units[match.group(2)]


def all_images() -> list[tuple[str, str]]:
    """(where, image) for every container image the deployment files use."""
    images = [(f"compose:{name}", service["image"]) for name, service in compose_services().items()]
    for spec in _k8s_pod_specs():
        images += [(f"k8s:{c['name']}", c["image"]) for c in _containers(spec)]
    collector_cr = load_yaml(OPERATOR / "collector.yaml")
    images.append(("operator:collector", collector_cr["spec"]["image"]))
    instrumentation = load_yaml(OPERATOR / "instrumentation.yaml")
    images.append(("operator:python", instrumentation["spec"]["python"]["image"]))
    for dockerfile in (OPERATOR / "Dockerfile", COLLECTOR / "compose" / "Dockerfile.app"):
        for line in dockerfile.read_text(encoding="utf-8").splitlines():
            if line.startswith("FROM "):
                images.append((dockerfile.name, line.split()[1]))
    return images


@pytest.mark.parametrize(("where", "image"), all_images(), ids=[w for w, _ in all_images()])
def test_images_are_pinned(where: str, image: str) -> None:
    match = IMAGE_REF.match(image)
    assert match, f"{where}: {image} has no explicit tag"
    assert match.group("tag") not in {"latest", "stable", "main", "edge"}, f"{where}: {image}"
    assert re.search(r"\d", match.group("tag")), f"{where}: {image} is not a version tag"


def test_the_collector_version_is_the_same_everywhere() -> None:
    found: list[tuple[str, str]] = []
    for path in [*COLLECTOR.rglob("*"), SIDECAR, DEPLOYMENT_DOC, REPO / "docs" / "troubleshooting.md"]:
        if path.is_file() and path.suffix in {".yaml", ".yml", ".md", ".sh", ""}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [(path.name, tag) for tag in CONTRIB_IMAGE.findall(text)]
            found += [(path.name, tag) for tag in VERSION_COMMENT.findall(text)]
    assert len(found) >= 10
    assert {tag for _, tag in found} == {PINNED}, sorted(set(found))


def test_the_collector_image_runs_in_compose_k8s_and_operator() -> None:
    expected = f"otel/opentelemetry-collector-contrib:{PINNED}"
    assert compose_services()["otel-collector"]["image"] == expected
    assert _k8s_collector_container()["image"] == expected
    assert load_yaml(OPERATOR / "collector.yaml")["spec"]["image"] == expected


def _port_map(ports: list[str]) -> dict[int, str]:
    """container port -> host binding, from compose short syntax HOST_IP:HOST:CONTAINER."""
    mapping = {}
    for entry in ports:
        parts = str(entry).split(":")
        assert len(parts) == 3, f"{entry}: bind host ports to an address"
        mapping[int(parts[2])] = f"{parts[0]}:{parts[1]}"
    return mapping


def test_compose_publishes_the_sdk_ports_of_the_collector_receivers() -> None:
    collector = compose_services()["otel-collector"]
    ports = _port_map(collector["ports"])
    protocols = ROOT_CONFIG["receivers"]["otlp"]["protocols"]
    for protocol, sdk_port in SDK_PORTS.items():
        receiver_port = parse_host_port(protocols[protocol]["endpoint"])[1]
        assert receiver_port == sdk_port
        assert ports[receiver_port] == f"127.0.0.1:{sdk_port}"
    assert PROMETHEUS_PORT in ports and HEALTH_PORT in ports


def test_compose_binds_every_host_port_to_loopback() -> None:
    for name, service in compose_services().items():
        for binding in _port_map(service.get("ports", [])).values():
            assert binding.startswith("127.0.0.1:"), f"{name}: {binding}"


def test_sdk_defaults_are_the_receiver_ports() -> None:
    params = REPO / "src" / "spotify_otel" / "_params.py"
    if not params.exists():
        pytest.skip("the SDK settings module is not there yet")
    text = params.read_text(encoding="utf-8")
    assert "localhost:4317" in text and "localhost:4318" in text


def test_compose_app_sends_to_the_collector() -> None:
    app = compose_services()["app"]
    assert app["build"] == {"context": "../../", "dockerfile": "collector/compose/Dockerfile.app"}
    assert (COMPOSE.parent / app["build"]["context"] / app["build"]["dockerfile"]).resolve().is_file()
    assert app["command"] == [
        "opentelemetry-instrument", "uvicorn", "examples.fastapi_app.app:app",
        "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    env = app["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://otel-collector:{SDK_PORTS['grpc']}"
    assert env["OTEL_PYTHON_DISTRO"] == env["OTEL_PYTHON_CONFIGURATOR"] == "spotify_otel"
    assert app["depends_on"]["otel-collector"]["condition"] == "service_started"


def test_compose_collector_runs_the_root_configuration() -> None:
    collector = compose_services()["otel-collector"]
    source, target = collector["volumes"][0].split(":")[:2]
    assert (COMPOSE.parent / source).resolve() == SIDECAR
    assert collector["command"] == [f"--config={target}"]
    env = collector["environment"]
    assert env["JAEGER_OTLP_ENDPOINT"] == f"jaeger:{SDK_PORTS['grpc']}"
    assert env["ELASTICSEARCH_ENDPOINT"] == "http://elasticsearch:9200"
    limit = _mebibytes(collector["mem_limit"].upper().replace("M", "Mi"))
    assert int(env["COLLECTOR_MEMORY_LIMIT_MIB"]) <= 0.85 * limit
    assert _mebibytes(env["GOMEMLIMIT"]) < limit


def test_compose_prometheus_flags_and_mounts() -> None:
    prometheus = compose_services()["prometheus"]
    flags = prometheus["command"]
    for flag in (
        "--storage.tsdb.retention.time=30d",
        "--web.enable-lifecycle",
        "--web.enable-admin-api",
        "--config.file=/etc/prometheus/prometheus.yml",
    ):
        assert flag in flags
    mounts = {m.split(":")[1]: m.split(":")[0] for m in prometheus["volumes"]}
    assert (COMPOSE.parent / mounts["/etc/prometheus/prometheus.yml"]).resolve() == (
        COLLECTOR / "prometheus" / "prometheus.yml"
    )
    assert (COMPOSE.parent / mounts["/etc/prometheus/rules"]).resolve() == REPO / "alerts"
    alertmanager = compose_services()["alertmanager"]
    am_mounts = {m.split(":")[1]: m.split(":")[0] for m in alertmanager["volumes"]}
    assert (COMPOSE.parent / am_mounts["/etc/alertmanager/alertmanager.yml"]).resolve() == (
        REPO / "alerts" / "alertmanager.yml"
    )


def test_compose_healthchecks() -> None:
    # The collector and Jaeger images have no shell or HTTP client; es-setup is a one-shot job.
    without = {"otel-collector", "jaeger", "es-setup"}
    for name, service in compose_services().items():
        if name in without:
            assert "healthcheck" not in service, name
        else:
            assert service["healthcheck"]["test"], name


def test_compose_volumes_and_dependencies() -> None:
    compose = load_yaml(COMPOSE)
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith((".", "/")):
                target = (COMPOSE.parent / source).resolve()
                if not target.is_relative_to(REPO / "alerts") and not target.is_relative_to(REPO / "dashboards"):
                    assert target.exists(), f"{name}: {source} does not exist"
            else:
                used.add(source)
        for dependency in service.get("depends_on", {}):
            assert dependency in compose["services"], f"{name} depends on unknown {dependency}"
    assert used == declared


def test_compose_elasticsearch_setup_runs_before_the_collector() -> None:
    services = compose_services()
    assert services["otel-collector"]["depends_on"]["es-setup"]["condition"] == "service_completed_successfully"
    setup = services["es-setup"]
    assert (COMPOSE.parent / setup["volumes"][0].split(":")[0]).resolve() == COLLECTOR / "elasticsearch"
    assert "/setup/install.sh" in setup["entrypoint"]
    assert services["elasticsearch"]["environment"]["path.repo"]


def test_grafana_provisioning() -> None:
    datasources = load_yaml(COLLECTOR / "grafana" / "provisioning" / "datasources" / "datasources.yml")
    by_uid = {ds["uid"]: ds for ds in datasources["datasources"]}
    assert set(by_uid) == {"prometheus", "jaeger", "elasticsearch"}
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["jaeger"]["url"] == "http://jaeger:16686"
    assert by_uid["elasticsearch"]["url"] == "http://elasticsearch:9200"
    index = by_uid["elasticsearch"]["jsonData"]["index"]
    assert re.fullmatch(index.replace(".", r"\.").replace("*", ".*"), "logs-spotify_otel.otel-acme")
    links = by_uid["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert links == [{"name": "trace_id", "datasourceUid": "jaeger"}]
    providers = load_yaml(COLLECTOR / "grafana" / "provisioning" / "dashboards" / "dashboards.yml")
    path = providers["providers"][0]["options"]["path"]
    grafana = compose_services()["grafana"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in grafana["volumes"]}
    assert (COMPOSE.parent / mounts[path]).resolve() == REPO / "dashboards"
    assert (COMPOSE.parent / mounts["/etc/grafana/provisioning"]).resolve() == COLLECTOR / "grafana" / "provisioning"


def test_k8s_configmap_is_the_root_configuration() -> None:
    configmap = load_yaml(K8S / "configmap.yaml")
    embedded = configmap["data"]["otel-collector.yaml"]
    assert embedded == SIDECAR.read_text(encoding="utf-8")
    deployment = load_yaml(K8S / "deployment.yaml")
    spec = deployment["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if v["name"] == "otel-collector-config")
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    collector = _k8s_collector_container()
    mount = next(m for m in collector["volumeMounts"] if m["name"] == "otel-collector-config")
    assert collector["args"] == [f"--config={mount['mountPath']}/otel-collector.yaml"]


def test_k8s_probes_hit_the_health_check_port() -> None:
    collector = _k8s_collector_container()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        http = collector[probe]["httpGet"]
        assert (http["port"], http["path"]) == (HEALTH_PORT, "/"), probe
        assert "exec" not in collector[probe]  # the image has no shell
    ports = {p["containerPort"] for p in collector["ports"]}
    assert {HEALTH_PORT, PROMETHEUS_PORT, *SDK_PORTS.values()} <= ports


def test_k8s_collector_memory_limits_are_coherent_with_memory_limiter() -> None:
    collector = _k8s_collector_container()
    env = _env(collector)
    limit = _mebibytes(collector["resources"]["limits"]["memory"])
    limiter = resolve_env_defaults(ROOT_CONFIG["processors"]["memory_limiter"])
    limit_mib = int(env.get("COLLECTOR_MEMORY_LIMIT_MIB", limiter["limit_mib"]))
    spike_mib = int(env.get("COLLECTOR_MEMORY_SPIKE_LIMIT_MIB", limiter["spike_limit_mib"]))
    assert limit_mib <= 0.85 * limit
    assert 0 < spike_mib < limit_mib
    assert _mebibytes(env["GOMEMLIMIT"]) <= limit_mib
    assert _mebibytes(collector["resources"]["requests"]["memory"]) <= limit


def test_k8s_sidecar_is_a_native_sidecar_and_the_app_sends_to_it() -> None:
    deployment = load_yaml(K8S / "deployment.yaml")
    spec = deployment["spec"]["template"]["spec"]
    assert _k8s_collector_container()["restartPolicy"] == "Always"
    app = next(c for c in spec["containers"] if c["name"] == "app")
    assert _env(app)["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://localhost:{SDK_PORTS['grpc']}"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(PROMETHEUS_PORT)
    service = load_yaml(K8S / "service.yaml")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert PROMETHEUS_PORT in {p["port"] for p in service["spec"]["ports"]}


def test_k8s_kustomization_lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_the_manifests() -> None:
    result = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc)
    assert kinds == ["ConfigMap", "Deployment", "Service"]


def test_operator_collector_is_the_root_configuration_as_a_sidecar() -> None:
    resource = load_yaml(OPERATOR / "collector.yaml")
    assert resource["apiVersion"] == "opentelemetry.io/v1beta1"
    assert resource["kind"] == "OpenTelemetryCollector"
    assert resource["spec"]["mode"] == "sidecar"
    assert resolve_env_defaults(resource["spec"]["config"]) == resolve_env_defaults(ROOT_CONFIG)
    env = {item["name"]: item.get("value") for item in resource["spec"]["env"]}
    limit = _mebibytes(resource["spec"]["resources"]["limits"]["memory"])
    assert int(env["COLLECTOR_MEMORY_LIMIT_MIB"]) <= 0.85 * limit


def test_operator_instrumentation_uses_the_spotify_otel_distro() -> None:
    instrumentation = load_yaml(OPERATOR / "instrumentation.yaml")
    assert instrumentation["kind"] == "Instrumentation"
    python = instrumentation["spec"]["python"]
    env = {item["name"]: item["value"] for item in python["env"]}
    assert env["OTEL_PYTHON_DISTRO"] == "spotify_otel"
    assert env["OTEL_PYTHON_CONFIGURATOR"] == "spotify_otel"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert instrumentation["spec"]["exporter"]["endpoint"] == f"http://localhost:{SDK_PORTS['grpc']}"


def test_operator_annotations_name_the_operator_resources() -> None:
    deployment = load_yaml(OPERATOR / "deployment-example.yaml")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    collector = load_yaml(OPERATOR / "collector.yaml")["metadata"]["name"]
    instrumentation = load_yaml(OPERATOR / "instrumentation.yaml")["metadata"]["name"]
    assert annotations["sidecar.opentelemetry.io/inject"] == collector
    assert annotations["instrumentation.opentelemetry.io/inject-python"] == instrumentation
    assert "annotations" not in deployment["metadata"]  # they belong on the pod template
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "opentelemetry-instrument" not in command


def test_operator_dockerfile_installs_the_distro_into_autoinstrumentation() -> None:
    text = (OPERATOR / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"pip install --target /autoinstrumentation .*SPOTIFY_OTEL_SPEC", text)
    assert 'ARG SPOTIFY_OTEL_SPEC=".[all]"' in text
    assert "COPY --from=build /autoinstrumentation /autoinstrumentation" in text
    assert "chmod -R go+r /autoinstrumentation" in text
    assert re.search(r"^FROM busybox:", text, re.MULTILINE)  # the operator's init container runs cp


def test_app_dockerfile() -> None:
    text = (COLLECTOR / "compose" / "Dockerfile.app").read_text(encoding="utf-8")
    assert 'pip install ".[all]"' in text
    assert text.index('pip install ".[all]"') < text.index("COPY examples")
    assert "opentelemetry-instrument" in text and "USER 10001" in text


def test_elasticsearch_template_and_policy() -> None:
    template = json.loads((COLLECTOR / "elasticsearch" / "index-template.json").read_text(encoding="utf-8"))
    policy = json.loads((COLLECTOR / "elasticsearch" / "ilm-policy.json").read_text(encoding="utf-8"))
    install = (COLLECTOR / "elasticsearch" / "install.sh").read_text(encoding="utf-8")
    pattern = template["index_patterns"][0]
    assert re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), "logs-spotify_otel.otel-acme")
    assert template["data_stream"] == {}
    assert template["priority"] > 120  # above the built-in logs-otel@template
    assert "otel@mappings" in template["composed_of"]
    settings = template["template"]["settings"]
    assert settings["index.codec"] == "best_compression"
    assert f"/_ilm/policy/{settings['index.lifecycle.name']}" in install
    tenant = template["template"]["mappings"]["properties"]["attributes"]["properties"]["tenant.id"]
    assert tenant["type"] == "keyword"
    phases = policy["policy"]["phases"]
    assert phases["hot"]["actions"]["rollover"]
    assert phases["delete"]["min_age"] == "30d"
    assert phases["delete"]["actions"] == {"delete": {}}


def test_compose_env_example_lists_what_compose_interpolates() -> None:
    compose_text = COMPOSE.read_text(encoding="utf-8")
    interpolated = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)(?::-[^}]*)?\}", compose_text))
    example = (COMPOSE.parent / ".env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, re.MULTILINE))
    assert interpolated <= defined
    assert (COMPOSE.parent / ".gitignore").read_text(encoding="utf-8").split() == [".env"]
