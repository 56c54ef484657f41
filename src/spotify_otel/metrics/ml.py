"""ML model monitoring: inference latency, prediction counts, errors, and data drift per model and version.

Drift: :meth:`MLMonitor.set_reference` stores a reference sample per feature (bounded, evenly
subsampled to ``reference_size``); :meth:`MLMonitor.observe` feeds live values into a rolling window
(``window_size``). At every metric collection the drift score of each feature with at least
``min_samples`` live values is exported as the gauge ``spotify.ml.drift.score`` (``ml.drift.method`` =
``psi`` for every feature, plus ``ks`` for continuous ones), and a warning is logged when a score
crosses its threshold (once per crossing).

Example::

    ml = MLMonitor()
    ml.set_reference("recommender", "v3", "tempo", training_tempos)
    with ml.inference("recommender", "v3"):
        picks = model.predict(features)
    ml.observe("recommender", "v3", {"tempo": features["tempo"]})
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from spotify_otel.metrics import drift
from spotify_otel.metrics._labels import label_value, tenant_value
from spotify_otel.tenant import TENANT_ATTRIBUTE

_logger = logging.getLogger("spotify_otel.ml")
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Feature:
    reference: list[float] | list[str]
    categorical: bool
    live: deque[float | str]
    alerted: set[str] = field(default_factory=set)


class MLMonitor:
    """Inference metrics and drift detection with bounded memory."""

    def __init__(self, window_size: int = 1000, reference_size: int = 5000, min_samples: int = 50,
                 psi_threshold: float = 0.25, ks_threshold: float = 0.2) -> None:
        self.window_size = window_size
        self.reference_size = reference_size
        self.min_samples = min_samples
        self.thresholds = {"psi": psi_threshold, "ks": ks_threshold}
        self._features: dict[tuple[str, str, str], _Feature] = {}
        self._lock = threading.Lock()
        meter = metrics.get_meter("spotify_otel.ml")
        self._duration = meter.create_histogram("spotify.ml.inference.duration", unit="s",
                                                description="Model inference latency.",
                                                explicit_bucket_boundaries_advisory=list(_BUCKETS))
        self._predictions = meter.create_counter("spotify.ml.predictions", unit="{prediction}",
                                                 description="Predictions served, by outcome.")
        meter.create_observable_gauge("spotify.ml.drift.score", [self._observe_drift], unit="{score}",
                                      description="Drift of a feature's live window against its reference.")

    def _model_attributes(self, model: str, version: str) -> dict[str, str]:
        return {"ml.model.name": label_value("spotify.ml", "ml.model.name", model),
                "ml.model.version": label_value("spotify.ml", "ml.model.version", version)}

    def record_inference(self, model: str, version: str, duration_s: float, tenant_id: str | None = None,
                         success: bool = True) -> None:
        """Record one inference of ``duration_s`` seconds."""
        attributes = self._model_attributes(model, version)
        attributes[TENANT_ATTRIBUTE] = tenant_value("spotify.ml.predictions", tenant_id)
        self._duration.record(max(0.0, duration_s), attributes)
        attributes["outcome"] = "success" if success else "error"
        self._predictions.add(1, attributes)

    @contextmanager
    def inference(self, model: str, version: str, tenant_id: str | None = None) -> Iterator[None]:
        """Time the block as one inference; an exception counts as an error and propagates."""
        start = time.perf_counter()
        success = False
        try:
            yield
            success = True
        finally:
            self.record_inference(model, version, time.perf_counter() - start, tenant_id, success)

    def set_reference(self, model: str, version: str, feature: str, values: Sequence[float] | Sequence[str],
                      categorical: bool | None = None) -> None:
        """Set the reference distribution of a feature (e.g. from the training set)."""
        items: list[Any] = list(values)
        if not items:
            raise ValueError("the reference sample is empty")
        if categorical is None:
            categorical = isinstance(items[0], str)
        step = max(1, len(items) // self.reference_size)
        sample = items[::step][: self.reference_size]
        key = self._key(model, version, feature)
        with self._lock:
            self._features[key] = _Feature(sample, categorical, deque(maxlen=self.window_size))

    def observe(self, model: str, version: str, features: Mapping[str, float | str]) -> None:
        """Feed live feature values (features without a reference are ignored)."""
        with self._lock:
            for name, value in features.items():
                entry = self._features.get(self._key(model, version, name))
                if entry is not None:
                    entry.live.append(value)

    def _key(self, model: str, version: str, feature: str) -> tuple[str, str, str]:
        return (label_value("spotify.ml", "ml.model.name", model),
                label_value("spotify.ml", "ml.model.version", version),
                label_value("spotify.ml", "ml.feature", feature))

    def drift_scores(self) -> dict[tuple[str, str, str, str], float]:
        """Current scores keyed by (model, version, feature, method); warns on threshold crossings."""
        with self._lock:
            snapshot = [(key, entry, list(entry.live)) for key, entry in self._features.items()]
        scores: dict[tuple[str, str, str, str], float] = {}
        for (model, version, feature), entry, live in snapshot:
            if len(live) < self.min_samples:
                continue
            if entry.categorical:
                scores[(model, version, feature, "psi")] = drift.psi_categorical(
                    [str(v) for v in entry.reference], [str(v) for v in live])
            else:
                numbers = [float(v) for v in live if isinstance(v, int | float)]
                reference = [float(v) for v in entry.reference]
                scores[(model, version, feature, "psi")] = drift.psi_continuous(reference, numbers)
                scores[(model, version, feature, "ks")] = drift.ks_statistic(reference, numbers)
            for method in ("psi", "ks"):
                score = scores.get((model, version, feature, method))
                if score is None:
                    continue
                if score >= self.thresholds[method] and method not in entry.alerted:
                    entry.alerted.add(method)
                    _logger.warning("data drift on %s %s feature %s: %s=%.3f >= %.3f", model, version, feature,
                                    method, score, self.thresholds[method])
                elif score < self.thresholds[method]:
                    entry.alerted.discard(method)
        return scores

    def _observe_drift(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(score, {"ml.model.name": model, "ml.model.version": version, "ml.feature": feature,
                                    "ml.drift.method": method})
                for (model, version, feature, method), score in self.drift_scores().items()]
