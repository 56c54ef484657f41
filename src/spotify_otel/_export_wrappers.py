"""Fork-safe, counting wrappers around the OTLP exporters.

A gRPC channel created before ``fork()`` does not work in the child (gunicorn ``--preload``), so the
real exporter is built lazily, per process: after a fork the child builds its own on first export.
Each wrapper counts exported and failed items for the SDK's self-observability metrics.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

E = TypeVar("E")

# gRPC cannot be used in a child forked while another thread was inside a gRPC call ("Other threads are
# currently calling into gRPC, skipping fork() handlers"; the child's channels then fail with "Closed on
# fork"). fork() waits until no export is in flight, at most FORK_WAIT seconds (a hanging collector must
# not stall a gunicorn master's worker spawning for longer), and no export starts during the fork.
# Exports of different signals still run concurrently.
FORK_WAIT = 2.0


class _ExportGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(before=self._before_fork, after_in_parent=self._after_in_parent,
                                after_in_child=self._after_in_child)

    def __enter__(self) -> None:
        with self._cond:
            self._active += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def _before_fork(self) -> None:
        self._cond.acquire()
        self._cond.wait_for(lambda: self._active == 0, timeout=FORK_WAIT)

    def _after_in_parent(self) -> None:
        self._cond.release()

    def _after_in_child(self) -> None:
        self._cond = threading.Condition()  # the parent's export threads do not exist here
        self._active = 0


_gate = _ExportGate()


class ExportCounters:
    """Items exported and failed, and failed export calls, since start (per process)."""

    __slots__ = ("exported", "failed_exports", "failed_items")

    def __init__(self) -> None:
        self.exported = 0
        self.failed_items = 0
        self.failed_exports = 0


class _PerProcess(Generic[E]):
    def __init__(self, factory: Callable[[], E]) -> None:
        self._factory = factory
        self._pid = -1
        self._inner: E | None = None
        self._lock = threading.Lock()
        self.counters = ExportCounters()

    def get(self) -> E:
        if self._pid != os.getpid() or self._inner is None:
            with self._lock:
                if self._pid != os.getpid() or self._inner is None:
                    self._inner = self._factory()
                    self._pid = os.getpid()
                    self.counters = ExportCounters()
        return self._inner

    def current(self) -> E | None:
        return self._inner if self._pid == os.getpid() else None

    def count(self, ok: bool, items: int) -> None:
        if ok:
            self.counters.exported += items
        else:
            self.counters.failed_items += items
            self.counters.failed_exports += 1


class ForkSafeSpanExporter(SpanExporter):
    """Span exporter built per process."""

    def __init__(self, factory: Callable[[], SpanExporter]) -> None:
        self._holder = _PerProcess(factory)

    @property
    def counters(self) -> ExportCounters:
        return self._holder.counters

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with _gate:
            result = self._holder.get().export(spans)
        self._holder.count(result is SpanExportResult.SUCCESS, len(spans))
        return result

    def shutdown(self) -> None:
        inner = self._holder.current()
        if inner is not None:
            inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        inner = self._holder.current()
        return inner.force_flush(timeout_millis) if inner is not None else True


class ForkSafeLogExporter(LogRecordExporter):
    """Log record exporter built per process."""

    def __init__(self, factory: Callable[[], LogRecordExporter]) -> None:
        self._holder = _PerProcess(factory)

    @property
    def counters(self) -> ExportCounters:
        return self._holder.counters

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        with _gate:
            result = self._holder.get().export(batch)
        self._holder.count(result is LogRecordExportResult.SUCCESS, len(batch))
        return result

    def shutdown(self) -> None:
        inner = self._holder.current()
        if inner is not None:
            inner.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        inner = self._holder.current()
        return inner.force_flush(timeout_millis) if inner is not None else True


class ForkSafeMetricExporter(MetricExporter):
    """Metric exporter built per process."""

    def __init__(
        self, factory: Callable[[], MetricExporter], preferred_temporality: dict[type, AggregationTemporality]
    ) -> None:
        super().__init__(preferred_temporality=preferred_temporality)
        self._holder = _PerProcess(factory)

    @property
    def counters(self) -> ExportCounters:
        return self._holder.counters

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        with _gate:
            result = self._holder.get().export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        points = sum(
            len(metric.data.data_points)
            for resource_metrics in metrics_data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        )
        self._holder.count(result is MetricExportResult.SUCCESS, points)
        return result

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        inner = self._holder.current()
        if inner is not None:
            inner.shutdown(timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        inner = self._holder.current()
        return inner.force_flush(timeout_millis) if inner is not None else True
