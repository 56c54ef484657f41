"""Batch processors that encode each span and log record when it ends, for the gRPC exporters.

The SDK's batch processors queue the finished records themselves: each span is some thirty Python
objects that live for up to a schedule delay, long enough to be promoted to the garbage collector's
oldest generation, whose collections then scan the whole application heap every second or so (20-30
ms pauses at a few thousand requests per second: the p99 of an instrumented service). Encoding at
the end (the same work the exporter would do later, on the same core) queues one small object per
record instead; the originals die young. Everything else (queue bound, batching, fork handling,
flush and shutdown) is the SDK's.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from spotify_otel._otlp_encoding import Encoded, encode_log, encode_span


class _QueuesEncoded:
    """What both encoding processors share: putting an already encoded record in the SDK's batch queue."""

    _batch_processor: Any

    def emit_encoded(self, resource: Any, instrumentation_scope: Any, payload: bytes) -> None:
        """Queue a record the caller encoded itself (``LeanSpan.end``, ``OTLPLogHandler``'s direct path)."""
        self._batch_processor.emit(Encoded(resource, instrumentation_scope, payload))


class EncodingBatchSpanProcessor(_QueuesEncoded, BatchSpanProcessor):
    """``BatchSpanProcessor`` queueing :class:`Encoded` spans (the exporter must accept them)."""

    def on_end(self, span: ReadableSpan) -> None:
        if not (span.context and span.context.trace_flags.sampled):
            return
        try:
            item: Any = Encoded(span.resource, span.instrumentation_scope, encode_span(span))
        except Exception:  # unencodable: let the exporter's SDK fallback handle the original
            item = span
        self._batch_processor.emit(item)


class EncodingBatchLogRecordProcessor(_QueuesEncoded, BatchLogRecordProcessor):
    """``BatchLogRecordProcessor`` queueing :class:`Encoded` log records."""

    def on_emit(self, log_record: Any) -> None:
        try:
            item: Any = Encoded(log_record.resource, log_record.instrumentation_scope, encode_log(log_record))
        except Exception:
            super().on_emit(log_record)
            return
        self._batch_processor.emit(item)
