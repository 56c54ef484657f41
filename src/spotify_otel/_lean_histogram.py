"""The one histogram recorded on every request, without the SDK's per-measurement bookkeeping.

``Histogram.record`` in the SDK builds a ``Measurement`` (copying and validating the attribute dict),
asks the exemplar filter, and for every reader and view copies and hashes the attributes again to find
the aggregation they belong to. For ``http.server.request.duration`` that is ~5 us in a tight loop and
~14 us inside a real request (measured: benchmarks/README.md). :class:`LeanHistogram` takes the SDK
path the first time it sees an attribute set, then remembers the SDK aggregations that measurement
landed in and, for the same set, adds the value to them directly: same buckets, sum, min, max and
count, under the aggregation's own lock, so collection and export are the SDK's, untouched.

It only does so when that is exactly what the SDK would do, checked on every call or whenever the
provider changes:

- the instrument is enabled, and the value is finite and non-negative (otherwise the SDK warns and drops);
- the meter provider's readers are the ones the aggregations were found for (adding or removing a
  reader starts over);
- no exemplar would be sampled: the exemplar filter is ``always_off``, or ``trace_based`` with no
  sampled span in the current context (the HTTP middlewares record after the server span ends);
- every matching view keeps an explicit-bucket histogram aggregation for the attribute set itself
  (not the cardinality-overflow point) and never discards it: cumulative temporality. Under delta
  temporality the SDK swaps its aggregations out at every collection, so every measurement takes the
  SDK path.

Anything else is recorded by the SDK as before. The tests feed the same measurements to both paths and
compare what the readers collect (tests/unit/test_lean_histogram.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable
from typing import Any

from opentelemetry import trace
from opentelemetry.attributes import _clean_attribute_value
from opentelemetry.metrics import Histogram
from opentelemetry.sdk.metrics._internal._view_instrument_match import _hash_attributes
from opentelemetry.sdk.metrics._internal.aggregation import _ExplicitBucketHistogramAggregation
from opentelemetry.sdk.metrics._internal.exemplar import AlwaysOffExemplarFilter, TraceBasedExemplarFilter
from opentelemetry.sdk.metrics._internal.measurement_consumer import SynchronousMeasurementConsumer
from opentelemetry.util.types import Attributes

MAX_SLOTS = 4096  # attribute sets remembered (the HTTP attributes are bounded well below this)
_SLOW: tuple[Any, ...] = ()  # an attribute set the SDK keeps recording (overflow, other aggregation)


class _Value:
    """What an explicit-bucket aggregation reads from a measurement when no exemplar is offered."""

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value


class LeanHistogram:
    """Records into an SDK ``Histogram``; ``key`` identifies the attribute set ``attributes(key)`` builds."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self._slots: dict[Hashable, tuple[Any, ...]] = {}
        self._storages: Any = None  # the measurement consumer's reader storages the slots belong to
        self._trace_based = False  # the exemplar filter samples measurements inside sampled spans
        self._usable = False  # the exemplar filter is one whose decision is known here
        self._lock = threading.Lock()

    def record(self, value: float, key: Hashable, attributes: Callable[[Any], Attributes]) -> None:
        """Record ``value`` with the attributes ``attributes(key)`` (called only when the SDK needs them)."""
        histogram: Any = self.histogram
        slot = self._slots.get(key)
        current = self._storages is getattr(histogram._measurement_consumer, "_reader_storages", None)
        if slot and current and 0.0 <= value < math.inf:
            config = histogram._meter_config
            if (config is None or config.is_enabled) and not (
                    self._trace_based and trace.get_current_span().get_span_context().trace_flags.sampled):
                measurement = _Value(value)
                for aggregation in slot:
                    aggregation.aggregate(measurement, False)
                return
        built = attributes(key)
        histogram.record(value, built)
        if slot is None or not current:
            self._remember(key, built)

    def _remember(self, key: Hashable, attributes: Attributes) -> None:
        """Find the aggregations the SDK just used for ``attributes`` (or mark the set as the SDK's)."""
        histogram: Any = self.histogram
        consumer = histogram._measurement_consumer
        if type(consumer) is not SynchronousMeasurementConsumer:
            return
        storages = consumer._reader_storages
        with self._lock:
            if storages is not self._storages:  # first call, or a reader was added or removed
                self._slots = {}
                self._storages = storages
                exemplars = type(consumer._sdk_config.exemplar_filter)
                self._trace_based = exemplars is TraceBasedExemplarFilter
                self._usable = exemplars in (TraceBasedExemplarFilter, AlwaysOffExemplarFilter)
            if len(self._slots) >= MAX_SLOTS:
                return
            self._slots[key] = self._aggregations(storages, attributes) if self._usable else _SLOW

    def _aggregations(self, storages: Any, attributes: Attributes) -> tuple[Any, ...]:
        found = []
        for storage in storages.values():
            matches = storage._instrument_view_instrument_matches.get(self.histogram)
            if not matches:
                return _SLOW
            for match in matches:
                if match._reset_on_collect:  # delta: aggregations are replaced at each collection
                    return _SLOW
                kept = dict(_clean_attribute_value(attributes or {}, None))  # as Measurement does
                if match._view._attribute_keys is not None:
                    kept = {k: v for k, v in kept.items() if k in match._view._attribute_keys}
                aggregation = match._attributes_aggregation.get(_hash_attributes(kept))
                if type(aggregation) is not _ExplicitBucketHistogramAggregation:  # overflow, dropped, other kind
                    return _SLOW
                found.append(aggregation)
        return tuple(found)
