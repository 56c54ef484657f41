"""One probe per component. Each returns an :class:`Outcome` or raises :class:`ProbeError`.

The runner (:mod:`._runner`) times them, bounds them and turns them into
:class:`~spotify_otel.health._result.CheckResult`. Every HTTP call a probe makes shares the probe's
deadline, so a probe that makes two calls still fits in ``--timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from spotify_otel.health._config import HealthConfig
from spotify_otel.health._http import ProbeError, Response, join, request
from spotify_otel.health._otlp import export_grpc, export_http
from spotify_otel.health._self_metrics import assess


@dataclass(frozen=True)
class Outcome:
    """What a probe found: healthy or not, why, and extra details."""

    healthy: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    """What a probe needs: its endpoint, the config and an absolute deadline (time.monotonic)."""

    endpoint: str
    config: HealthConfig
    deadline: float

    def remaining(self) -> float:
        """Seconds left before the deadline (raises ProbeError when none are left)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProbeError(f"timed out after {self.config.timeout:.1f} s")
        return left

    def get(self, path: str, *, base: str | None = None, headers: dict[str, str] | None = None) -> Response:
        """GET ``path`` under ``base`` (default: the endpoint) within the remaining time."""
        url = join(base or self.endpoint, path) if path else (base or self.endpoint)
        try:
            return request("GET", url, timeout=self.remaining(), headers=headers)
        except ProbeError as exc:
            if str(exc).startswith("timed out"):  # report the configured bound, not the remainder
                raise ProbeError(f"timed out after {self.config.timeout:.1f} s") from exc
            raise


def _json_object(response: Response) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise ProbeError(f"{response.path} did not return a JSON object")
    return data


def check_otlp_grpc(probe: Probe) -> Outcome:
    """An empty ExportTraceServiceRequest over gRPC succeeds."""
    request_ = trace_service_pb2.ExportTraceServiceRequest()
    details = export_grpc(probe.endpoint, request_, timeout=probe.remaining())
    return Outcome(True, "empty trace export accepted", details)


def check_otlp_http(probe: Probe) -> Outcome:
    """An empty ExportTraceServiceRequest POSTed to <base>/v1/traces gets a 2xx."""
    request_ = trace_service_pb2.ExportTraceServiceRequest()
    details = export_http(probe.endpoint, request_, timeout=probe.remaining())
    return Outcome(True, "empty trace export accepted", details)


def check_collector(probe: Probe) -> Outcome:
    """The collector's health_check extension answers 200 (and, if JSON, does not say unhealthy)."""
    response = probe.get("")
    data = response.json()
    details = (
        {k: data[k] for k in ("status", "healthy", "upSince", "uptime") if k in data} if isinstance(data, dict) else {}
    )
    status = str(details.get("status", "")).strip()
    if response.status != 200:
        suffix = f" ({status})" if status else ""
        return Outcome(False, response.error_reason() + suffix, details)
    if details.get("healthy") is False:
        return Outcome(False, f"collector reports unhealthy ({status or 'no status'})", details)
    return Outcome(True, status or "health_check answered 200", details)


def check_prometheus(probe: Probe) -> Outcome:
    """Prometheus answers 200 on /-/ready and on /-/healthy."""
    for path in ("/-/ready", "/-/healthy"):
        response = probe.get(path)
        if response.status != 200:
            return Outcome(False, response.error_reason())
    return Outcome(True, "ready and healthy")


def check_alertmanager(probe: Probe) -> Outcome:
    """Alertmanager is ready and its cluster status is ready (or clustering is disabled)."""
    ready = probe.get("/-/ready")
    if ready.status != 200:
        return Outcome(False, ready.error_reason())
    status = probe.get("/api/v2/status")
    if status.status != 200:
        return Outcome(False, status.error_reason())
    data = _json_object(status)
    cluster = data.get("cluster")
    cluster = cluster if isinstance(cluster, dict) else {}
    version_info = data.get("versionInfo")
    cluster_status = str(cluster.get("status", "unknown"))
    details: dict[str, Any] = {
        "cluster_status": cluster_status,
        "peers": len(cluster.get("peers") or []),
        "version": version_info.get("version") if isinstance(version_info, dict) else None,
    }
    if cluster_status in ("ready", "disabled", "settling"):
        return Outcome(True, f"ready, cluster status {cluster_status}", details)
    return Outcome(False, f"cluster status {cluster_status}", details)


def check_jaeger(probe: Probe) -> Outcome:
    """Jaeger v2's query API /api/v3/services answers 200 JSON; its health endpoint too, if set."""
    response = probe.get("/api/v3/services")
    if response.status != 200:
        return Outcome(False, response.error_reason())
    services = _json_object(response).get("services") or []
    details: dict[str, Any] = {"services": len(services)}
    health_url = probe.config.jaeger_health_url
    if health_url:
        health = probe.get("", base=health_url)
        details["health_status"] = health.status
        if health.status != 200:
            return Outcome(False, f"{health.error_reason()} (Jaeger health)", details)
    return Outcome(True, f"query API answered ({len(services)} services)", details)


def elasticsearch_headers(config: HealthConfig) -> dict[str, str]:
    """Authorization header from ELASTICSEARCH_API_KEY / ELASTICSEARCH_USERNAME+PASSWORD, if set."""
    return {"Authorization": config.elasticsearch_auth} if config.elasticsearch_auth else {}


def check_elasticsearch(probe: Probe) -> Outcome:
    """/_cluster/health: green or yellow is healthy, red (or anything else) is not."""
    response = probe.get("/_cluster/health", headers=elasticsearch_headers(probe.config))
    if response.status in (401, 403):
        hint = " (set ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD)"
        return Outcome(False, response.error_reason() + hint)
    if response.status != 200:
        return Outcome(False, response.error_reason())
    data = _json_object(response)
    status = str(data.get("status", "unknown"))
    keys = ("cluster_name", "status", "number_of_nodes", "unassigned_shards")
    details = {k: data[k] for k in keys if k in data}
    return Outcome(status in ("green", "yellow"), f"cluster status {status}", details)


def check_grafana(probe: Probe) -> Outcome:
    """Grafana's /api/health answers 200 with database "ok"."""
    response = probe.get("/api/health")
    data = response.json() if response.status in (200, 503) else None
    details = {k: data[k] for k in ("database", "version") if k in data} if isinstance(data, dict) else {}
    if response.status != 200:
        return Outcome(False, response.error_reason(), details)
    database = str(details.get("database", "missing"))
    if database != "ok":
        return Outcome(False, f"database {database}", details)
    return Outcome(True, "database ok", details)


def check_telemetry(probe: Probe) -> Outcome:
    """The services' SDK self-metrics in Prometheus: nothing dropped or failed, queues below the threshold."""
    config = probe.config
    healthy, reason, details = assess(probe.get, config.telemetry_window_s, config.telemetry_queue_threshold)
    return Outcome(healthy, reason, details)


CHECKS: dict[str, Callable[[Probe], Outcome]] = {
    "otlp-grpc": check_otlp_grpc,
    "otlp-http": check_otlp_http,
    "collector": check_collector,
    "prometheus": check_prometheus,
    "alertmanager": check_alertmanager,
    "jaeger": check_jaeger,
    "elasticsearch": check_elasticsearch,
    "grafana": check_grafana,
    "telemetry": check_telemetry,
}
