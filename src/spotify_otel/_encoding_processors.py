"""Batch processors that encode each span and log record when it ends, for the gRPC exporters.

The SDK's batch processors queue the finished records themselves: each span is some thirty Python
objects that live for up to a schedule delay, long enough to be promoted to the garbage collector's
oldest generation, whose collections then scan the whole application heap every second or so (20-30
ms pauses at a few thousand requests per second: the p99 of an instrumented service). Encoding at
the end (the same work the exporter would do later, on the same core) queues one small object per
record instead; the originals die young. Everything else (queue bound, batching, fork handling,
flush and shutdown) is the SDK's, except the accounting of records dropped on a full queue (below).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from spotify_otel._forks import FORKS
from spotify_otel._otlp_encoding import Encoded, encode_log, encode_span

_sdk_logger = logging.getLogger("opentelemetry.sdk._shared_internal")  # the SDK's "Queue full" warning
REPORT_DROPS_EVERY_S = 0.25


class _QueuesEncoded:
    """What both encoding processors share: putting a record in the SDK's batch queue, and a full queue.

    With the collector down the queue stays full, and the SDK's ``emit`` then pays, for every record, a
    "Queue full" warning (a ``logging`` record its duplicate filter throws away) and one addition to its
    ``processed{error.type=queue_full}`` counter: measured, a Django request's CPU went from 102 to 145 us
    (span and log record dropped), while the application can least afford it. Here a record arriving at
    a full queue is queued the SDK's way (the deque's bound pushes the oldest out) and counted in a plain
    integer; the count goes to the SDK's counter, with one warning, at most every
    ``REPORT_DROPS_EVERY_S``, at the next record that finds room, before every metric collection
    (:meth:`report_drops`), on flush and on shutdown. A record with room in the queue is queued as the
    SDK's ``emit`` does, minus its ``os.getpid()`` per record: the process's fork count says when to go
    through the SDK's ``emit`` (its re-initialisation after a fork), as does a shut-down processor.
    """

    _batch_processor: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending_drops = 0
        self._forks_seen = FORKS[0]
        self._drops_lock = threading.Lock()
        self._next_report = 0.0

    def emit_encoded(self, resource: Any, instrumentation_scope: Any, payload: bytes) -> None:
        """Queue a record the caller encoded itself (``LeanSpan.end``)."""
        self._enqueue(Encoded(resource, instrumentation_scope, payload))

    def emit_framed(self, resource: Any, instrumentation_scope: Any, framed: bytes) -> None:
        """Queue a record the caller encoded and framed itself (``OTLPLogHandler``'s direct path)."""
        self._enqueue(Encoded.from_framed(resource, instrumentation_scope, framed))

    def _enqueue(self, item: Any) -> None:
        batch = self._batch_processor
        if batch._shutdown or self._forks_seen != FORKS[0]:
            self._enqueue_sdk(item)
            return
        queue = batch._queue
        if len(queue) == batch._max_queue_size:
            queue.appendleft(item)  # a bounded deque: the oldest record goes, as in the SDK's emit
            with self._drops_lock:
                self._pending_drops += 1
            if not batch._worker_awaken.is_set():
                batch._worker_awaken.set()
            if time.monotonic() >= self._next_report:
                self.report_drops()
            return
        if self._pending_drops:
            self.report_drops()
        # The SDK's emit from here on, without its os.getpid() (the fork count above stands in for it).
        queue.appendleft(item)
        if len(queue) >= batch._max_export_batch_size and not batch._worker_awaken.is_set():
            batch._worker_awaken.set()

    def _enqueue_sdk(self, item: Any) -> None:
        """The SDK's emit: after shutdown (its accounting) and at the first record after a fork (its
        re-initialisation, if its own fork hook has not done it)."""
        batch = self._batch_processor
        batch.emit(item)
        if not batch._shutdown and batch._pid == os.getpid():
            self._forks_seen = FORKS[0]

    def report_drops(self) -> None:
        """Hand the records dropped since the last report to the SDK's counter (and log one warning)."""
        with self._drops_lock:
            dropped, self._pending_drops = self._pending_drops, 0
            self._next_report = time.monotonic() + REPORT_DROPS_EVERY_S
        if dropped:
            batch = self._batch_processor
            _sdk_logger.warning("Queue full, dropping %s.", batch._exporting)
            batch._metrics.drop_items(dropped)

    def force_flush(self, *args: Any, **kwargs: Any) -> bool:
        self.report_drops()
        return super().force_flush(*args, **kwargs)  # type: ignore[misc,no-any-return]

    def shutdown(self) -> None:
        self.report_drops()
        super().shutdown()  # type: ignore[misc]


class EncodingBatchSpanProcessor(_QueuesEncoded, BatchSpanProcessor):
    """``BatchSpanProcessor`` queueing :class:`Encoded` spans (the exporter must accept them)."""

    def on_end(self, span: ReadableSpan) -> None:
        if not (span.context and span.context.trace_flags.sampled):
            return
        try:
            item: Any = Encoded(span.resource, span.instrumentation_scope, encode_span(span))
        except Exception:  # unencodable: let the exporter's SDK fallback handle the original
            item = span
        self._enqueue(item)


class EncodingBatchLogRecordProcessor(_QueuesEncoded, BatchLogRecordProcessor):
    """``BatchLogRecordProcessor`` queueing :class:`Encoded` log records."""

    def on_emit(self, log_record: Any) -> None:
        try:
            item: Any = Encoded(log_record.resource, log_record.instrumentation_scope, encode_log(log_record))
        except Exception:
            super().on_emit(log_record)
            return
        self._enqueue(item)
