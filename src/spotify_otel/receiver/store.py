"""The thread-safe, bounded in-memory store behind :class:`~spotify_otel.receiver.OTLPReceiver`.

Both transports hand decoded records to :meth:`TelemetryStore.add`; tests read them back and block
on :meth:`TelemetryStore.wait_for`, which sleeps on a :class:`threading.Condition` notified on every
change (no polling). The store also carries the fault-injection switch (:meth:`set_fault`) that
both transports consult before accepting a request, and a subscriber list used by the console and
the Prometheus endpoint to see records as they arrive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal, get_args

from spotify_otel.receiver.models import ReceivedLog, ReceivedPoint, ReceivedSpan, Record, Signal, Transport

FaultMode = Literal["unavailable", "resource_exhausted", "hang"]
FAULT_MODES: tuple[str, ...] = get_args(FaultMode)
DEFAULT_MAX_ITEMS = 100_000

Subscriber = Callable[[Signal, list[Any]], None]
"""Called as ``subscriber(signal, records)`` after records are stored; ``(signal, [])`` on clear()."""

_log = logging.getLogger(__name__)
_SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")
_TRANSPORTS: tuple[Transport, ...] = ("grpc", "http")
_RECORD_KEY: dict[Signal, str] = {"traces": "spans", "logs": "logs", "metrics": "points"}


def _per_signal_transport() -> dict[str, dict[str, int]]:
    return {s: dict.fromkeys(_TRANSPORTS, 0) for s in _SIGNALS}


class TelemetryStore:
    """Holds received spans, logs and metric points, each in a ring buffer of ``max_items``.

    When a buffer is full the oldest record is dropped and counted (``counts()["dropped"]``).
    All methods are thread-safe.
    """

    def __init__(self, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.max_items = max_items
        self._cond = threading.Condition(threading.RLock())
        self._spans: deque[ReceivedSpan] = deque(maxlen=max_items)
        self._logs: deque[ReceivedLog] = deque(maxlen=max_items)
        self._points: deque[ReceivedPoint] = deque(maxlen=max_items)
        self._fault: FaultMode | None = None
        self._held = 0
        self._subscribers: list[Subscriber] = []
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._requests = _per_signal_transport()
        self._rejected = _per_signal_transport()
        self._invalid = _per_signal_transport()
        self._dropped = {"spans": 0, "logs": 0, "points": 0}

    # -- reading -------------------------------------------------------------------------------
    def spans(self) -> list[ReceivedSpan]:
        """All stored spans, oldest first."""
        with self._cond:
            return list(self._spans)

    def logs(self) -> list[ReceivedLog]:
        """All stored log records, oldest first."""
        with self._cond:
            return list(self._logs)

    def metric_points(self, name: str | None = None) -> list[ReceivedPoint]:
        """All stored metric points, oldest first; only those of metric ``name`` when given."""
        with self._cond:
            return [p for p in self._points if name is None or p.name == name]

    def counts(self) -> dict[str, Any]:
        """A snapshot of counters.

        Keys: ``spans``/``logs``/``points`` (records held now), ``requests`` (accepted export
        requests), ``rejected`` (refused by a fault), ``invalid`` (undecodable), each as
        ``{signal: {transport: n}}`` with signals traces/metrics/logs and transports grpc/http, and
        ``dropped`` (``{"spans": n, "logs": n, "points": n}`` evicted by the ``max_items`` bound) and
        ``held`` (requests parked right now by the "hang" fault).
        """
        with self._cond:
            return {
                "spans": len(self._spans),
                "logs": len(self._logs),
                "points": len(self._points),
                "requests": {s: dict(t) for s, t in self._requests.items()},
                "rejected": {s: dict(t) for s, t in self._rejected.items()},
                "invalid": {s: dict(t) for s, t in self._invalid.items()},
                "dropped": dict(self._dropped),
                "held": self._held,
            }

    def wait_for(self, predicate: Callable[[TelemetryStore], bool], timeout: float) -> bool:
        """Block until ``predicate(store)`` is true or ``timeout`` seconds pass; returns the last result.

        The predicate is re-evaluated each time the store changes (condition variable, no polling).
        Exceptions raised by the predicate propagate to the caller.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while True:
                if predicate(self):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)

    # -- writing -------------------------------------------------------------------------------
    def _buffer(self, signal: Signal) -> deque[Any]:
        if signal == "traces":
            return self._spans
        return self._logs if signal == "logs" else self._points

    def _extend(self, buffer: deque[Any], records: Iterable[Record], key: str) -> None:
        for record in records:
            if len(buffer) == buffer.maxlen:
                self._dropped[key] += 1
            buffer.append(record)

    def add(self, signal: Signal, records: list[Record], transport: Transport) -> None:
        """Store the records of one accepted export request and notify waiters and subscribers."""
        with self._cond:
            self._requests[signal][transport] += 1
            self._extend(self._buffer(signal), records, _RECORD_KEY[signal])
            self._cond.notify_all()
            subscribers = list(self._subscribers)
        self._publish(subscribers, signal, records)

    def record_rejected(self, signal: Signal, transport: Transport) -> None:
        """Count an export request refused because of an injected fault."""
        with self._cond:
            self._rejected[signal][transport] += 1
            self._cond.notify_all()

    def record_invalid(self, signal: Signal, transport: Transport) -> None:
        """Count an export request whose body could not be decoded."""
        with self._cond:
            self._invalid[signal][transport] += 1
            self._cond.notify_all()

    def clear(self) -> None:
        """Forget every record and counter (the fault mode is kept); subscribers get ``(signal, [])``."""
        with self._cond:
            self._spans.clear()
            self._logs.clear()
            self._points.clear()
            self._reset_counters()
            self._cond.notify_all()
            subscribers = list(self._subscribers)
        for signal in _SIGNALS:
            self._publish(subscribers, signal, [])

    # -- subscribers ---------------------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(signal, records)`` after each stored batch; returns an unsubscribe function.

        Subscribers run on the transport's thread, outside the store lock; exceptions are logged.
        """
        with self._cond:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._cond:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    @staticmethod
    def _publish(subscribers: list[Subscriber], signal: Signal, records: list[Any]) -> None:
        for subscriber in subscribers:
            try:
                subscriber(signal, records)
            except Exception:
                _log.exception("receiver subscriber %r failed", subscriber)

    # -- faults --------------------------------------------------------------------------------
    @property
    def fault(self) -> FaultMode | None:
        """The current injected fault, or None."""
        with self._cond:
            return self._fault

    def set_fault(self, mode: FaultMode | None) -> None:
        """Make both transports refuse requests: ``"unavailable"``, ``"resource_exhausted"``, ``"hang"``.

        ``None`` restores normal service and releases requests held by ``"hang"`` (they are answered
        as unavailable: data received under a fault is never stored).
        """
        if mode is not None and mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; expected None or one of {', '.join(FAULT_MODES)}")
        with self._cond:
            self._fault = mode
            self._cond.notify_all()

    def hold_while_hanging(self, abort: Callable[[], bool]) -> None:
        """Block while the fault mode is ``"hang"`` and ``abort()`` is false.

        Whoever makes ``abort()`` true must call :meth:`wake` so the waiter re-checks.
        """
        with self._cond:
            self._held += 1
            self._cond.notify_all()
            try:
                while self._fault == "hang" and not abort():
                    self._cond.wait()
            finally:
                self._held -= 1
                self._cond.notify_all()

    def wake(self) -> None:
        """Wake every thread blocked in :meth:`wait_for` or :meth:`hold_while_hanging`."""
        with self._cond:
            self._cond.notify_all()
