"""OTLP/gRPC exporters that encode with :mod:`spotify_otel._otlp_encoding` (about 3x cheaper than the
SDK's encoders on the request core), falling back to the SDK encoding if a batch cannot be encoded.
They also accept records already encoded by :mod:`spotify_otel._encoding_processors`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spotify_otel import _otlp_encoding

_logger = logging.getLogger("spotify_otel.export")


class FastGrpcSpanExporter(OTLPSpanExporter):
    """``OTLPSpanExporter`` (gRPC) with the direct wire encoder."""

    def _translate_data(self, data: Sequence[Any]) -> ExportTraceServiceRequest:
        try:
            request: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(
                _otlp_encoding.encode_spans(data))
            return request
        except Exception:
            _logger.debug("fast span encoding failed; using the SDK encoder", exc_info=True)
            encoded = [item for item in data if isinstance(item, _otlp_encoding.Encoded)]
            raw = [item for item in data if not isinstance(item, _otlp_encoding.Encoded)]
            # serialized protobuf messages merge by concatenation (repeated fields append)
            merged = _otlp_encoding.encode_spans(encoded) + super()._translate_data(raw).SerializeToString()
            fallback: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(merged)
            return fallback


class FastGrpcLogExporter(OTLPLogExporter):
    """``OTLPLogExporter`` (gRPC) with the direct wire encoder."""

    def _translate_data(self, data: Sequence[Any]) -> ExportLogsServiceRequest:
        try:
            request: ExportLogsServiceRequest = ExportLogsServiceRequest.FromString(_otlp_encoding.encode_logs(data))
            return request
        except Exception:
            _logger.debug("fast log encoding failed; using the SDK encoder", exc_info=True)
            encoded = [item for item in data if isinstance(item, _otlp_encoding.Encoded)]
            raw = [item for item in data if not isinstance(item, _otlp_encoding.Encoded)]
            merged = _otlp_encoding.encode_logs(encoded) + super()._translate_data(raw).SerializeToString()
            fallback: ExportLogsServiceRequest = ExportLogsServiceRequest.FromString(merged)
            return fallback
