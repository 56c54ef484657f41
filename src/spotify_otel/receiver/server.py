"""``OTLPReceiver``: OTLP/gRPC + OTLP/HTTP (+ optional Prometheus ``/metrics``) feeding one store."""

from __future__ import annotations

import contextlib
import threading
from types import TracebackType
from typing import Any

from spotify_otel.receiver.grpc_transport import start_grpc_server
from spotify_otel.receiver.http_server_base import QuickHTTPServer
from spotify_otel.receiver.http_transport import MAX_BODY_BYTES, start_http_server
from spotify_otel.receiver.ingest import DEFAULT_RETRY_AFTER_S
from spotify_otel.receiver.prom_server import start_prometheus_server
from spotify_otel.receiver.prometheus import PrometheusState
from spotify_otel.receiver.store import TelemetryStore


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class OTLPReceiver:
    """A local OTLP endpoint that keeps what it receives in a :class:`TelemetryStore`.

    Args:
        host: address to bind all servers on (default loopback).
        grpc_port: OTLP/gRPC port; 0 picks a free one.
        http_port: OTLP/HTTP port; 0 picks a free one.
        store: the store to fill (a new one by default; one store may back several receivers).
        prometheus_port: serve the received metrics at ``GET /metrics`` on this port (0 = free
            port); None disables the endpoint.
        retry_after: seconds a client refused by an injected fault is told to wait (HTTP
            ``Retry-After``, gRPC ``RetryInfo``).
        max_body_bytes: OTLP/HTTP body cap (compressed and decompressed); larger bodies get 413.

    Example::

        with OTLPReceiver() as rx:
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = rx.http_endpoint
            ...
            assert rx.store.wait_for(lambda s: len(s.spans()) >= 1, timeout=5)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        grpc_port: int = 0,
        http_port: int = 0,
        store: TelemetryStore | None = None,
        prometheus_port: int | None = None,
        *,
        retry_after: float = DEFAULT_RETRY_AFTER_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.host = host
        self.store = store if store is not None else TelemetryStore()
        self.prometheus: PrometheusState | None = PrometheusState() if prometheus_port is not None else None
        self._requested = (grpc_port, http_port, prometheus_port)
        self._retry_after = retry_after
        self._max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._grpc: Any = None
        self._http: QuickHTTPServer | None = None
        self._prom: QuickHTTPServer | None = None
        self._ports: dict[str, int] = {}
        self._unsubscribe: Any = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OTLPReceiver:
        """Bind and start every server; returns self. Raises OSError (nothing left running) on failure."""
        with self._lock:
            if self._ports:
                return self
            self._stopping = threading.Event()
            grpc_port, http_port, prom_port = self._requested
            try:
                self._grpc, self._ports["grpc"] = start_grpc_server(
                    self.host, grpc_port, self.store, self._stopping, self._retry_after
                )
                self._http = start_http_server(
                    self.host, http_port, self.store, self._stopping, self._retry_after, self._max_body_bytes
                )
                self._ports["http"] = self._http.server_port
                if self.prometheus is not None and prom_port is not None:
                    self._unsubscribe = self.store.subscribe(self.prometheus.on_records)
                    self._prom = start_prometheus_server(self.host, prom_port, self.prometheus)
                    self._ports["prometheus"] = self._prom.server_port
            except BaseException:
                self._shutdown(grace=0.0)
                raise
        return self

    def stop(self, grace: float = 1.0) -> None:
        """Stop all servers; in-flight gRPC calls get ``grace`` seconds. Never blocks much longer.

        Requests parked by the "hang" fault are released (answered as unavailable) first.
        """
        with self._lock:
            self._shutdown(grace)

    def _shutdown(self, grace: float) -> None:
        self._stopping.set()
        self.store.wake()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for server in (self._http, self._prom):
            if server is not None:
                with contextlib.suppress(OSError):
                    server.close(timeout=max(grace, 0.2))
        self._http = self._prom = None
        if self._grpc is not None:
            self._grpc.stop(grace).wait(grace + 1.0)
            self._grpc = None
        self._ports = {}

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return bool(self._ports)

    def __enter__(self) -> OTLPReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    def _port(self, name: str) -> int:
        try:
            return self._ports[name]
        except KeyError:
            raise RuntimeError(f"OTLPReceiver is not running (no {name} port); call start() first") from None

    @property
    def grpc_port(self) -> int:
        """The bound OTLP/gRPC port."""
        return self._port("grpc")

    @property
    def http_port(self) -> int:
        """The bound OTLP/HTTP port."""
        return self._port("http")

    @property
    def prometheus_port(self) -> int | None:
        """The bound Prometheus port, or None when disabled."""
        return self._port("prometheus") if self.prometheus is not None else None

    @property
    def grpc_endpoint(self) -> str:
        """``http://host:port`` for ``OTEL_EXPORTER_OTLP_ENDPOINT`` with protocol grpc."""
        return _url(self.host, self.grpc_port)

    @property
    def http_endpoint(self) -> str:
        """``http://host:port`` base URL for OTLP/HTTP (exporters append ``/v1/traces`` etc.)."""
        return _url(self.host, self.http_port)

    @property
    def prometheus_url(self) -> str | None:
        """``http://host:port/metrics``, or None when the Prometheus endpoint is disabled."""
        port = self.prometheus_port
        return None if port is None else _url(self.host, port) + "/metrics"
