"""The live console behind ``spotify-otel receive``: group spans into traces, print, summarise.

Transports hand records to :meth:`Console.on_records` (a store subscriber) which only queues them;
one thread (the CLI's main thread, in :meth:`Console.run`) does all printing, so output lines never
interleave. A trace is printed once no span of it arrived for ``trace_wait`` seconds.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import IO, Any

from spotify_otel.receiver.models import ReceivedLog, ReceivedPoint, ReceivedSpan, Signal, to_json_dict
from spotify_otel.receiver.render import Style, render_log, render_trace
from spotify_otel.receiver.summary import Summary

MAX_PENDING_TRACES = 1_000
MAX_SPANS_PER_TRACE = 2_000
MAX_QUEUED_BATCHES = 10_000


class TraceBuffer:
    """Spans grouped by trace id until the trace has been quiet for ``wait`` seconds (bounded)."""

    def __init__(self, wait: float = 1.0, max_traces: int = MAX_PENDING_TRACES,
                 max_spans: int = MAX_SPANS_PER_TRACE) -> None:  # fmt: skip
        self.wait = wait
        self.max_traces = max_traces
        self.max_spans = max_spans
        self._traces: OrderedDict[str, tuple[list[ReceivedSpan], float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._traces)

    def add(self, span: ReceivedSpan, now: float) -> list[list[ReceivedSpan]]:
        """Buffer ``span``; returns traces that must be flushed early because a bound was reached."""
        spans, _ = self._traces.pop(span.trace_id, ([], now))
        spans.append(span)
        self._traces[span.trace_id] = (spans, now)  # most recently active last
        flushed: list[list[ReceivedSpan]] = []
        if len(spans) >= self.max_spans:
            flushed.append(self._traces.pop(span.trace_id)[0])
        while len(self._traces) > self.max_traces:
            flushed.append(self._traces.popitem(last=False)[1][0])
        return flushed

    def pop_ready(self, now: float) -> list[list[ReceivedSpan]]:
        """Remove and return the traces quiet for at least ``wait`` seconds (oldest activity first)."""
        ready: list[list[ReceivedSpan]] = []
        for trace_id, (_, last) in list(self._traces.items()):
            if now - last < self.wait:
                break  # ordered by last activity: the rest are younger
            ready.append(self._traces.pop(trace_id)[0])
        return ready

    def drain(self) -> list[list[ReceivedSpan]]:
        """Remove and return every buffered trace."""
        traces = [spans for spans, _ in self._traces.values()]
        self._traces.clear()
        return traces


@dataclass
class ConsoleOptions:
    """What the console prints."""

    tree: bool = True
    logs: bool = True
    summary_interval: float = 5.0
    color: bool = False
    trace_wait: float = 1.0


class Console:
    """Queues records from the receiver and prints them from :meth:`run`."""

    def __init__(self, options: ConsoleOptions, out: IO[str], jsonl: IO[str] | None = None) -> None:
        self.options = options
        self.style = Style(options.color)
        self.summary = Summary()
        self.traces = TraceBuffer(options.trace_wait)
        self.dropped_batches = 0
        self._out = out
        self._jsonl = jsonl
        self._queue: queue.Queue[tuple[Signal, list[Any]]] = queue.Queue(maxsize=MAX_QUEUED_BATCHES)

    # -- producer side (transport threads) ---------------------------------------------------
    def on_records(self, signal: Signal, records: list[Any]) -> None:
        """Store subscriber: queue a batch for the printing thread (dropped and counted when full)."""
        if not records:
            return
        try:
            self._queue.put_nowait((signal, records))
        except queue.Full:
            self.dropped_batches += 1

    # -- printing side -----------------------------------------------------------------------
    def emit(self, lines: list[str]) -> None:
        """Write lines to the output and flush (so a pipe shows them live)."""
        if lines:
            self._out.write("\n".join(lines) + "\n")
            self._out.flush()

    def _handle(self, signal: Signal, records: list[Any], now: float) -> None:
        if self._jsonl is not None:
            self._jsonl.write("".join(json.dumps(to_json_dict(r), default=str) + "\n" for r in records))
            self._jsonl.flush()
        if signal == "traces":
            spans: list[ReceivedSpan] = records
            self.summary.add_spans(spans)
            if self.options.tree:
                for span in spans:
                    for trace in self.traces.add(span, now):
                        self.emit(render_trace(trace, self.style))
        elif signal == "logs":
            logs: list[ReceivedLog] = records
            self.summary.add_logs(len(logs))
            if self.options.logs:
                self.emit([render_log(rec, self.style) for rec in logs])
        else:
            points: list[ReceivedPoint] = records
            self.summary.add_points(p.name for p in points)

    def process(self, timeout: float) -> None:
        """Handle queued batches (waiting up to ``timeout`` for the first), then flush quiet traces."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                signal, records = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            self._handle(signal, records, time.monotonic())
        for trace in self.traces.pop_ready(time.monotonic()):
            self.emit(render_trace(trace, self.style))

    def run(self, stop: threading.Event, duration: float | None = None) -> None:
        """Print until ``stop`` is set or ``duration`` seconds pass; summaries every ``summary_interval``."""
        end = None if duration is None else time.monotonic() + duration
        interval = self.options.summary_interval
        next_summary = time.monotonic() + interval if interval > 0 else None
        while not stop.is_set():
            now = time.monotonic()
            if end is not None and now >= end:
                break
            wake = min(t for t in (now + 0.2, end, next_summary) if t is not None)
            self.process(max(wake - now, 0.0))
            if next_summary is not None and time.monotonic() >= next_summary:
                next_summary += interval
                if self.summary.changed:
                    self.emit(self.summary.render(self.style))

    def finish(self) -> None:
        """Print what is still queued or buffered, then the final summary."""
        self.process(0.0)
        if self.options.tree:
            for trace in self.traces.drain():
                self.emit(render_trace(trace, self.style))
        if self.dropped_batches:
            self.emit([f"(console queue overflow: {self.dropped_batches} batches not printed)"])
        self.emit(self.summary.render(self.style, title="final summary"))
