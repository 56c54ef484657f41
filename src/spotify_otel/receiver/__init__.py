"""A local OTLP receiver: see what a service emits, and assert on it in end-to-end tests.

It speaks real OTLP over gRPC (TraceService/MetricsService/LogsService) and HTTP
(``/v1/traces``, ``/v1/metrics``, ``/v1/logs``, protobuf or JSON, gzip), decodes every request into
typed records and keeps them in a bounded, thread-safe :class:`TelemetryStore`. Optionally it
serves the received metrics in Prometheus text format the way the collector's ``prometheus``
exporter would (:mod:`spotify_otel.receiver.prometheus`).

Usage::

    from spotify_otel.receiver import OTLPReceiver

    with OTLPReceiver(prometheus_port=0) as rx:
        # point the SDK at rx.grpc_endpoint (protocol grpc) or rx.http_endpoint (http/protobuf)
        ...
        assert rx.store.wait_for(lambda s: any(sp.tenant == "acme" for sp in s.spans()), timeout=5)
        rx.store.set_fault("unavailable")   # exporters now see UNAVAILABLE / HTTP 503

From a shell: ``spotify-otel receive`` prints span trees, logs and a per-tenant summary.
"""

from __future__ import annotations

from spotify_otel.receiver.models import ReceivedLog, ReceivedPoint, ReceivedSpan, to_json_dict
from spotify_otel.receiver.prometheus import PrometheusState
from spotify_otel.receiver.server import OTLPReceiver
from spotify_otel.receiver.store import FaultMode, TelemetryStore

__all__ = [
    "FaultMode",
    "OTLPReceiver",
    "PrometheusState",
    "ReceivedLog",
    "ReceivedPoint",
    "ReceivedSpan",
    "TelemetryStore",
    "to_json_dict",
]
