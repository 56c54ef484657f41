"""A full export queue (the collector is down or too slow): the encoding processors keep what the SDK's
batch processor keeps and count what it drops, but report the drops in bulk instead of paying a warning
and a counter addition for every record on the request thread."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk._shared_internal import BatchProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spotify_otel._encoding_processors import EncodingBatchLogRecordProcessor, EncodingBatchSpanProcessor
from spotify_otel._forks import FORKS
from spotify_otel._otlp_encoding import Encoded

RESOURCE = Resource.create({"service.name": "full-queue"})
QUEUE = 8


class StuckExporter(SpanExporter):
    """Takes one batch, then hangs until released (a collector that stopped answering)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.took_a_batch = threading.Event()
        self.batches: list[list[Any]] = []

    def export(self, batch: Any) -> SpanExportResult:
        self.batches.append(list(batch))
        self.took_a_batch.set()
        self.release.wait(10)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


class CountingMetrics:
    """Stands in for the SDK's processor metrics: what was reported dropped, and in how many calls."""

    def __init__(self) -> None:
        self.drops: list[int] = []
        self.error_types: list[str] = []

    def drop_items(self, count: int, error_type: str = "queue_full") -> None:
        self.drops.append(count)
        self.error_types.append(error_type)

    def finish_items(self, count: int) -> None:
        return None

    def register_queue_size(self, get_queue_size: Any) -> None:
        return None


@pytest.fixture
def stuck() -> Iterator[tuple[Any, StuckExporter, CountingMetrics]]:
    exporter = StuckExporter()
    processor = EncodingBatchSpanProcessor(exporter, max_queue_size=QUEUE, max_export_batch_size=QUEUE,
                                           schedule_delay_millis=600_000)
    metrics = CountingMetrics()
    processor._batch_processor._metrics = metrics  # type: ignore[assignment]
    yield processor, exporter, metrics
    exporter.release.set()
    processor.shutdown()


def _fill_until_the_exporter_holds_a_batch(processor: Any, exporter: StuckExporter) -> None:
    for index in range(QUEUE):  # the worker wakes at a full batch and takes it
        processor.emit_encoded(RESOURCE, None, b"first-%d" % index)
    assert exporter.took_a_batch.wait(10)


def test_a_full_queue_keeps_the_newest_records_and_counts_every_drop(stuck: Any) -> None:
    processor, exporter, metrics = stuck
    _fill_until_the_exporter_holds_a_batch(processor, exporter)
    for index in range(1000):
        processor.emit_encoded(RESOURCE, None, b"late-%d" % index)
    processor.report_drops()  # what a metric collection does first
    queued = [item.framed for item in processor._batch_processor._queue]
    # what the SDK's own emit keeps: the newest records, newest first (its queue pops from the right)
    assert queued == [Encoded(RESOURCE, None, b"late-%d" % index).framed for index in range(999, 999 - QUEUE, -1)]
    assert sum(metrics.drops) == 1000 - QUEUE  # every record not queued is counted, none twice
    assert len(metrics.drops) < 20  # in bulk (the SDK's emit reports each of the 992 on its own)


def test_same_outcome_as_the_sdk_emit(stuck: Any) -> None:
    processor, exporter, metrics = stuck
    _fill_until_the_exporter_holds_a_batch(processor, exporter)
    reference_exporter = StuckExporter()
    reference = BatchProcessor(reference_exporter, schedule_delay_millis=600_000, max_export_batch_size=10 * QUEUE,
                               export_timeout_millis=1000, max_queue_size=QUEUE, exporting="Span",
                               metrics=CountingMetrics())
    try:
        for index in range(50):
            item = Encoded(RESOURCE, None, b"%d" % index)
            processor._enqueue(item)
            reference.emit(item)
        processor.report_drops()
        assert list(processor._batch_processor._queue) == list(reference._queue)
        assert sum(metrics.drops) == sum(reference._metrics.drops) == 50 - QUEUE  # type: ignore[attr-defined]
    finally:
        reference_exporter.release.set()
        reference.shutdown()


def test_drops_are_reported_once_there_is_room_again_and_at_flush(stuck: Any,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    processor, exporter, metrics = stuck
    for duplicate_filter in logging.getLogger("opentelemetry.sdk._shared_internal").filters:
        duplicate_filter.last_log = None  # type: ignore[attr-defined]  # the SDK's: one per 20 s window
    _fill_until_the_exporter_holds_a_batch(processor, exporter)
    _postpone_reports(processor)
    with caplog.at_level(logging.WARNING, "opentelemetry.sdk._shared_internal"):
        for index in range(QUEUE + 5):
            processor.emit_encoded(RESOURCE, None, b"%d" % index)
        assert metrics.drops == []  # within the reporting interval: counted, not yet reported
        processor._batch_processor._queue.clear()  # as if the worker had drained it
        processor.emit_encoded(RESOURCE, None, b"room")  # the first record that finds room reports them
        assert metrics.drops == [5]
        assert caplog.records[0].getMessage() == "Queue full, dropping Span."
        _postpone_reports(processor)
        for index in range(QUEUE + 2):  # full again (QUEUE - 1 fit after "room")
            processor.emit_encoded(RESOURCE, None, b"%d" % index)
        assert metrics.drops == [5]
        exporter.release.set()  # the collector answers again
        assert processor.force_flush(timeout_millis=10_000)
        assert metrics.drops == [5, 3]


def _postpone_reports(processor: Any) -> None:
    processor._next_report = float("inf")


def test_log_processor_takes_the_same_path() -> None:
    exporter = StuckExporter()
    processor = EncodingBatchLogRecordProcessor(exporter, max_queue_size=QUEUE,  # type: ignore[arg-type]
                                                max_export_batch_size=QUEUE, schedule_delay_millis=600_000)
    metrics = CountingMetrics()
    processor._batch_processor._metrics = metrics  # type: ignore[assignment]
    try:
        _fill_until_the_exporter_holds_a_batch(processor, exporter)
        for index in range(100):
            processor.emit_encoded(RESOURCE, None, b"%d" % index)
        processor.report_drops()
        assert sum(metrics.drops) == 100 - QUEUE and len(processor._batch_processor._queue) == QUEUE
    finally:
        exporter.release.set()
        processor.shutdown()



def _hold_the_worker(batch: Any) -> threading.Event:
    """Give the batch processor a wake-up event its worker does not wait on (it keeps sleeping on the
    old one, returned): the test then sees every wake-up the emit path asks for."""
    asleep_on = batch._worker_awaken
    batch._worker_awaken = threading.Event()
    return asleep_on  # type: ignore[no-any-return]


def test_with_room_the_queue_and_the_wake_ups_are_the_sdk_emits() -> None:
    exporter, reference_exporter = StuckExporter(), StuckExporter()
    processor = EncodingBatchSpanProcessor(exporter, max_queue_size=64, max_export_batch_size=QUEUE,
                                           schedule_delay_millis=600_000)
    reference = BatchProcessor(reference_exporter, schedule_delay_millis=600_000, max_export_batch_size=QUEUE,
                               export_timeout_millis=1000, max_queue_size=64, exporting="Span",
                               metrics=CountingMetrics())
    batch = processor._batch_processor
    sleeping = [_hold_the_worker(batch), _hold_the_worker(reference)]
    try:
        for index in range(3 * QUEUE):
            item = Encoded(RESOURCE, None, b"%d" % index)
            processor._enqueue(item)
            reference.emit(item)
            assert list(batch._queue) == list(reference._queue)
            assert batch._worker_awaken.is_set() == reference._worker_awaken.is_set() == (index >= QUEUE - 1)
            batch._worker_awaken.clear()  # as the worker does when it wakes
            reference._worker_awaken.clear()
    finally:
        for processor_batch, asleep_on in zip((batch, reference), sleeping, strict=True):
            processor_batch._worker_awaken = asleep_on
        exporter.release.set()
        reference_exporter.release.set()
        processor.shutdown()
        reference.shutdown()


@contextlib.contextmanager
def _forked() -> Iterator[None]:
    """The fork count moved on, as in a child process (restored afterwards)."""
    FORKS[0] += 1
    try:
        yield
    finally:
        FORKS[0] -= 1


def test_the_first_record_after_a_fork_goes_through_the_sdk_reinitialisation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    exporter = StuckExporter()
    processor = EncodingBatchSpanProcessor(exporter, max_queue_size=64, max_export_batch_size=64,
                                           schedule_delay_millis=600_000)
    batch = processor._batch_processor
    try:
        processor.emit_encoded(RESOURCE, None, b"parent")
        # what a child process sees: the parent's queue and pid, the fork count moved on (this test
        # skips the SDK's own fork hook, which would have re-initialised the processor already)
        batch._pid = -1
        with _forked():
            processor.emit_encoded(RESOURCE, None, b"child")
            assert [item.framed for item in batch._queue] == [Encoded(RESOURCE, None, b"child").framed]
            assert batch._pid > 0 and processor._forks_seen == FORKS[0]
            monkeypatch.setattr(batch, "emit", None)  # from now on the SDK's emit is not needed
            processor.emit_encoded(RESOURCE, None, b"child 2")
            assert len(batch._queue) == 2
    finally:
        exporter.release.set()
        processor.shutdown()


def test_records_after_shutdown_are_the_sdks_to_count() -> None:
    exporter = StuckExporter()
    processor = EncodingBatchSpanProcessor(exporter, max_queue_size=QUEUE, max_export_batch_size=QUEUE,
                                           schedule_delay_millis=600_000)
    metrics = CountingMetrics()
    processor._batch_processor._metrics = metrics  # type: ignore[assignment]
    exporter.release.set()
    processor.shutdown()
    processor.emit_encoded(RESOURCE, None, b"late")
    assert len(processor._batch_processor._queue) == 0
    assert metrics.error_types == ["already_shutdown"]
