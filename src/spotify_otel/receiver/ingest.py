"""What both transports share: the per-signal message types and the admit/decode/store step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from spotify_otel.receiver.decode import decode_logs, decode_metrics, decode_spans
from spotify_otel.receiver.models import Signal, Transport
from spotify_otel.receiver.store import FaultMode, TelemetryStore

DEFAULT_RETRY_AFTER_S = 1.0
"""Delay a refused client is told to wait (HTTP ``Retry-After``, gRPC ``RetryInfo``)."""


@dataclass(frozen=True)
class SignalSpec:
    """The OTLP message types and decoder of one signal."""

    signal: Signal
    request_type: type[Message]
    response_type: type[Message]
    decode: Callable[[Any, Transport], list[Any]]


SIGNAL_SPECS: dict[Signal, SignalSpec] = {
    "traces": SignalSpec("traces", ExportTraceServiceRequest, ExportTraceServiceResponse, decode_spans),
    "metrics": SignalSpec("metrics", ExportMetricsServiceRequest, ExportMetricsServiceResponse, decode_metrics),
    "logs": SignalSpec("logs", ExportLogsServiceRequest, ExportLogsServiceResponse, decode_logs),
}


def admit(store: TelemetryStore, signal: Signal, transport: Transport, abort: Callable[[], bool]) -> FaultMode | None:
    """Apply the store's fault mode to one request; returns the fault to answer with, or None to accept.

    Under ``"hang"`` this blocks until the fault changes or ``abort()`` turns true, then refuses the
    request as ``"unavailable"`` (data received under a fault is never stored).
    """
    fault = store.fault
    if fault is None:
        return None
    if fault == "hang":
        store.hold_while_hanging(abort)
        fault = "unavailable"
    store.record_rejected(signal, transport)
    return fault


def accept(store: TelemetryStore, spec: SignalSpec, request: Message, transport: Transport) -> None:
    """Decode an admitted request and store its records."""
    store.add(spec.signal, spec.decode(request, transport), transport)
