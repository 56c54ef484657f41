"""Send OTLP export requests over gRPC (grpcio) or HTTP (protobuf body), mapping failures to reasons.

Used both by the ``otlp-grpc`` / ``otlp-http`` checks (an empty ``ExportTraceServiceRequest``) and by
the canary (one span, one metric point, one log record).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from spotify_otel.health._http import ProbeError, display_url, join, request

# signal -> (HTTP path, gRPC stub class, response type)
_SIGNALS: dict[str, tuple[str, Any, Any]] = {
    "traces": (
        "/v1/traces",
        trace_service_pb2_grpc.TraceServiceStub,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
    "metrics": (
        "/v1/metrics",
        metrics_service_pb2_grpc.MetricsServiceStub,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "logs": ("/v1/logs", logs_service_pb2_grpc.LogsServiceStub, logs_service_pb2.ExportLogsServiceResponse),
}


def signal_of(message: Message) -> str:
    """The signal ('traces', 'metrics', 'logs') an Export*ServiceRequest carries."""
    if isinstance(message, trace_service_pb2.ExportTraceServiceRequest):
        return "traces"
    if isinstance(message, metrics_service_pb2.ExportMetricsServiceRequest):
        return "metrics"
    if isinstance(message, logs_service_pb2.ExportLogsServiceRequest):
        return "logs"
    raise TypeError(f"not an OTLP export request: {type(message).__name__}")


def _grpc_target(endpoint: str) -> tuple[str, bool]:
    parts = urllib.parse.urlsplit(endpoint)
    return f"{parts.hostname}:{parts.port}", parts.scheme == "https"


def _partial_success(response: Message) -> dict[str, Any]:
    """Details of a partial success (rejected items, error message); empty when fully accepted."""
    if not response.HasField("partial_success"):
        return {}
    partial = response.partial_success
    return {"partial_success": {f.name: value for f, value in partial.ListFields()}}


def grpc_reason(exc: grpc.RpcError, endpoint: str, timeout: float) -> str:
    """One line describing a failed gRPC call."""
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else None) or ""
    target = _grpc_target(endpoint)[0]
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"timed out after {timeout:.1f} s"
    if code is grpc.StatusCode.UNAVAILABLE and "refused" in details.lower():
        return f"connection refused to {target}"
    name = code.name if code is not None else "error"
    return f"gRPC {name} from {target}: {details.strip()[:200]}"


def export_grpc(endpoint: str, message: Message, *, timeout: float) -> dict[str, Any]:
    """Export ``message`` with grpcio; returns details (partial success) or raises ProbeError."""
    _path, stub_class, _response = _SIGNALS[signal_of(message)]
    target, secure = _grpc_target(endpoint)
    credentials = grpc.ssl_channel_credentials() if secure else None
    channel = grpc.secure_channel(target, credentials) if secure else grpc.insecure_channel(target)
    try:
        response = stub_class(channel).Export(message, timeout=timeout)
    except grpc.RpcError as exc:
        raise ProbeError(grpc_reason(exc, endpoint, timeout)) from exc
    finally:
        channel.close()
    return _partial_success(response)


def http_url(base: str, signal: str) -> str:
    """The OTLP/HTTP URL for ``signal`` under ``base`` (a base already ending in /v1/... is reduced)."""
    trimmed = base.rstrip("/")
    for path, _stub, _response in _SIGNALS.values():
        if trimmed.endswith(path):
            trimmed = trimmed[: -len(path)]
    return join(trimmed, _SIGNALS[signal][0])


def export_http(base: str, message: Message, *, timeout: float) -> dict[str, Any]:
    """POST ``message`` as application/x-protobuf; returns details or raises ProbeError (non-2xx too)."""
    signal = signal_of(message)
    url = http_url(base, signal)
    response = request(
        "POST",
        url,
        timeout=timeout,
        body=message.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf", "Accept": "application/x-protobuf"},
    )
    if not response.ok:
        raise ProbeError(response.error_reason())
    details: dict[str, Any] = {"url": display_url(url)}
    decoded = _SIGNALS[signal][2]()
    try:
        decoded.ParseFromString(response.body)
    except DecodeError:
        return details
    return {**details, **_partial_success(decoded)}


def export(protocol: str, endpoint: str, message: Message, *, timeout: float) -> dict[str, Any]:
    """Export over ``protocol`` ('grpc' or 'http/protobuf')."""
    if protocol == "grpc":
        return export_grpc(endpoint, message, timeout=timeout)
    return export_http(endpoint, message, timeout=timeout)
