"""OTLP/gRPC: TraceService, MetricsService and LogsService ``Export`` on one grpcio server.

gzip-compressed messages are decompressed by grpcio itself. Under an injected fault the call ends
with UNAVAILABLE or RESOURCE_EXHAUSTED plus a ``google.rpc.RetryInfo`` trailer (what the OTLP
exporters read to pace their retries).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from spotify_otel.receiver.ingest import SIGNAL_SPECS, SignalSpec, accept, admit
from spotify_otel.receiver.store import TelemetryStore

MAX_MESSAGE_BYTES = 32 * 1024 * 1024
_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"
_CODES = {"unavailable": grpc.StatusCode.UNAVAILABLE, "resource_exhausted": grpc.StatusCode.RESOURCE_EXHAUSTED}


def _retry_info(seconds: float) -> bytes:
    whole = int(seconds)
    delay = Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))
    encoded: bytes = RetryInfo(retry_delay=delay).SerializeToString()
    return encoded


class _ExportServicer:
    """One ``Export`` method for one signal; grpcio calls it on its worker threads."""

    def __init__(self, store: TelemetryStore, spec: SignalSpec, stopping: threading.Event, retry_after: float):
        self._store = store
        self._spec = spec
        self._stopping = stopping
        self._retry_info = _retry_info(retry_after)

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Handle one export call: refuse it under a fault, otherwise decode and store it."""
        ended = threading.Event()
        if self._store.fault == "hang":

            def on_end() -> None:  # the client cancelled or its deadline passed
                ended.set()
                self._store.wake()

            context.add_callback(on_end)
        fault = admit(self._store, self._spec.signal, "grpc", lambda: ended.is_set() or self._stopping.is_set())
        if fault is not None:
            context.set_trailing_metadata(((_RETRY_INFO_KEY, self._retry_info),))
            context.abort(_CODES[fault], f"spotify-otel receiver: injected fault {fault}")
        accept(self._store, self._spec, request, "grpc")
        return self._spec.response_type()


def _format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def start_grpc_server(
    host: str, port: int, store: TelemetryStore, stopping: threading.Event, retry_after: float, workers: int = 16
) -> tuple[grpc.Server, int]:
    """Start a grpcio server with the three OTLP services on ``host:port``; returns (server, bound port).

    Raises OSError when the address cannot be bound (SO_REUSEPORT is disabled so a busy port fails).
    """
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="otlp-grpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
        _ExportServicer(store, SIGNAL_SPECS["traces"], stopping, retry_after), server
    )
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(  # type: ignore[no-untyped-call]
        _ExportServicer(store, SIGNAL_SPECS["metrics"], stopping, retry_after), server
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(  # type: ignore[no-untyped-call]
        _ExportServicer(store, SIGNAL_SPECS["logs"], stopping, retry_after), server
    )
    address = _format_address(host, port)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:  # grpcio >= 1.5x raises instead of returning 0
        raise OSError(f"cannot bind OTLP/gRPC on {address}: {exc}") from exc
    if not bound:
        raise OSError(f"cannot bind OTLP/gRPC on {address} (address in use?)")
    server.start()
    return server, int(bound)
