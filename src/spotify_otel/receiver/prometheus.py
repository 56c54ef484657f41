"""A Prometheus ``/metrics`` view of the received metrics, standing in for "collector + prometheus exporter".

The state is what the collector-contrib ``prometheus`` exporter (default ``translation_strategy``
``UnderscoreEscapingWithSuffixes``) would serve for the same OTLP input, rendered in the text
exposition format 0.0.4. Rules (names in :mod:`.prom_naming`):

Metric names
  Split the OTLP name on every character outside ``[a-zA-Z0-9:]`` (so dots, dashes and runs of
  underscores become one ``_``), then append the unit: the part before ``/`` through the unit map
  (``s`` -> ``seconds``, ``ms`` -> ``milliseconds``, ``By`` -> ``bytes``, ``1`` -> nothing, ...,
  unknown units kept and cleaned), the part after ``/`` as ``per_<unit>`` (``s`` -> ``second``);
  units containing ``{...}`` are dropped; a unit word already among the name's tokens is not added
  twice. Monotonic sums end in ``_total`` (an inner ``total`` token moves to the end); gauges with
  unit ``1`` end in ``_ratio``; a leading digit gets a ``_`` prefix.
Types
  monotonic sum -> counter; non-monotonic sum and gauge -> gauge; histogram -> histogram
  (``_bucket{le=...}`` cumulative over the sorted explicit bounds, ``le="+Inf"`` = count, ``_sum``,
  ``_count``); exponential histogram -> histogram with only the ``+Inf`` bucket, ``_sum``,
  ``_count`` (its native buckets cannot be written in text format 0.0.4, as in ``client_golang``);
  summary -> summary with ``quantile`` labels. Non-monotonic delta sums and sums without
  temporality are dropped, as the exporter does.
Labels
  Point attributes; attribute keys have every character outside ``[a-zA-Z0-9_]`` replaced by
  ``_`` (``tenant.id`` -> ``tenant_id``), a leading digit gets ``key_``, a single leading ``_``
  gets ``key``; values as pdata's ``AsString`` (arrays/maps as JSON). Scope attributes become
  ``otel_scope_<key>``; ``otel_scope_name``, ``otel_scope_version``, ``otel_scope_schema_url`` are
  always present (possibly empty: Prometheus ignores empty labels when scraping).
  ``job`` = ``service.namespace/service.name`` (or ``service.name``), ``instance`` =
  ``service.instance.id``. A series whose label names collide after sanitising is dropped (the
  exporter fails to build it too).
``target_info``
  One gauge ``target_info 1`` per resource that has both ``job`` and ``instance``, labelled with
  ``job``, ``instance`` and every other resource attribute (sanitised keys; colliding keys join
  their values with ``;``).
State
  One series per (metric, point attributes, scope, resource). Cumulative points and gauges keep
  the newest point (an older timestamp is ignored). Delta monotonic sums and delta histograms are
  accumulated into a cumulative value; where the exporter only accumulates when a point starts
  exactly where the previous ended and otherwise resets, this view also accumulates across a gap
  (the Python SDK restarts an idle delta series with a later start time), and ignores an
  overlapping delta histogram. A point flagged "no recorded value" removes its series. The first
  type seen for a Prometheus name wins; later conflicting metrics are skipped. There is no
  expiry (the exporter's ``metric_expiration`` defaults to 5 minutes). Families are sorted by name
  and series by labels, and every family has a ``# HELP`` line (empty without a description), like
  ``client_golang``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from typing import Any

from spotify_otel.receiver import prom_naming as pn
from spotify_otel.receiver.models import ReceivedPoint, Signal

_PROM_TYPE = {pn.COUNTER: "counter", pn.GAUGE: "gauge", pn.NON_MONOTONIC_SUM: "gauge",
              pn.HISTOGRAM: "histogram", pn.SUMMARY: "summary"}  # fmt: skip
_RESOURCE_IDENTITY = ("service.name", "service.namespace", "service.instance.id")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SeriesKey = tuple[Any, ...]


def _otel_type(point: ReceivedPoint) -> str | None:
    if point.kind == "sum":
        if point.temporality is None or (point.temporality == "delta" and not point.monotonic):
            return None
        return pn.COUNTER if point.monotonic else pn.NON_MONOTONIC_SUM
    return {"gauge": pn.GAUGE, "histogram": pn.HISTOGRAM, "exponential_histogram": pn.HISTOGRAM,
            "summary": pn.SUMMARY}.get(point.kind)  # fmt: skip


def _attr_key(attrs: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, pn.label_value(v)) for k, v in attrs.items()))


def job_and_instance(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    """``job`` and ``instance`` label values for a resource, as the exporter derives them."""
    job = None
    if "service.name" in resource:
        job = pn.label_value(resource["service.name"])
        if "service.namespace" in resource:
            job = f"{pn.label_value(resource['service.namespace'])}/{job}"
    instance = resource.get("service.instance.id")
    return job, None if instance is None else pn.label_value(instance)


def _accumulate(prev: ReceivedPoint, new: ReceivedPoint) -> ReceivedPoint | None:
    """Merge ``new`` into the series' current point ``prev``; None means ignore ``new``."""
    if new.time_ns < prev.time_ns:
        return None
    if new.temporality != "delta" or new.kind not in ("sum", "histogram", "exponential_histogram"):
        return new
    if new.start_time_ns < prev.time_ns:  # overlapping delta
        return new if new.kind == "sum" else None
    if new.kind == "sum":
        value = (prev.value or 0) + (new.value or 0)
        return dataclasses.replace(new, value=value, start_time_ns=prev.start_time_ns)
    if new.kind == "histogram" and new.explicit_bounds != prev.explicit_bounds:
        return new  # bucket layout changed: treat as a reset
    buckets = new.bucket_counts
    if new.kind == "histogram":
        buckets = tuple(a + b for a, b in zip(prev.bucket_counts, new.bucket_counts, strict=False))
    mins = [m for m in (prev.min, new.min) if m is not None]
    maxs = [m for m in (prev.max, new.max) if m is not None]
    return dataclasses.replace(
        new,
        count=(prev.count or 0) + (new.count or 0),
        sum=(prev.sum or 0.0) + (new.sum or 0.0),
        bucket_counts=buckets,
        start_time_ns=prev.start_time_ns,
        min=min(mins) if mins else None,
        max=max(maxs) if maxs else None,
    )


class PrometheusState:
    """Accumulates received metric points and renders them as a Prometheus text exposition."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, ReceivedPoint] = {}
        self._families: dict[str, tuple[str, str]] = {}  # prom name -> (prom type, help)

    def on_records(self, signal: Signal, records: list[Any]) -> None:
        """Store subscriber: add metric points; an empty batch means the store was cleared."""
        if signal != "metrics":
            return
        if records:
            self.add(records)
        else:
            self.clear()

    def clear(self) -> None:
        """Forget all series and family types."""
        with self._lock:
            self._series.clear()
            self._families.clear()

    def add(self, points: Iterable[ReceivedPoint]) -> None:
        """Accumulate points into the current state."""
        with self._lock:
            for point in points:
                self._add(point)

    def _add(self, point: ReceivedPoint) -> None:
        otel_type = _otel_type(point)
        if otel_type is None:
            return
        name = pn.metric_name(point.name, point.unit, otel_type)
        if not name:
            return
        prom_type = _PROM_TYPE[otel_type]
        family = self._families.setdefault(name, (prom_type, point.description))
        if family[0] != prom_type:
            return  # type conflict: the first type registered for this name wins
        key = (name, point.scope_name, point.scope_version, point.scope_schema_url,
               _attr_key(point.scope_attributes), _attr_key(point.attributes), _attr_key(point.resource))  # fmt: skip
        if point.no_recorded_value:
            self._series.pop(key, None)
            return
        prev = self._series.get(key)
        merged = point if prev is None else _accumulate(prev, point)
        if merged is not None:
            self._series[key] = merged

    # -- rendering ---------------------------------------------------------------------------
    def render(self) -> str:
        """The current state in Prometheus text format 0.0.4."""
        with self._lock:
            series = list(self._series.items())
            families = dict(self._families)
        by_family: dict[str, list[tuple[list[tuple[str, str]], ReceivedPoint]]] = {}
        resources: dict[tuple[str, str], dict[str, Any]] = {}
        for key, point in series:
            labels = _series_labels(point)
            if labels is None:
                continue
            by_family.setdefault(key[0], []).append((labels, point))
            job, instance = job_and_instance(point.resource)
            if job and instance:
                resources.setdefault((job, instance), point.resource)
        if resources:
            by_family.setdefault("target_info", [])
            families.setdefault("target_info", ("gauge", "Target metadata"))
        lines: list[str] = []
        for name in sorted(by_family):
            prom_type, help_text = families[name]
            lines.append(f"# HELP {name} {pn.escape_help(help_text)}")  # always, as client_golang does
            lines.append(f"# TYPE {name} {prom_type}")
            if name == "target_info" and resources:
                rows = sorted(_target_info_labels(res) for res in resources.values())
                lines.extend(f"{name}{_fmt_labels(labels)} 1" for labels in rows)
            for labels, point in sorted(by_family[name], key=lambda item: item[0]):
                lines.extend(_samples(name, prom_type, labels, point))
        return "\n".join(lines) + "\n" if lines else ""


def _series_labels(point: ReceivedPoint) -> list[tuple[str, str]] | None:
    """Sorted label pairs of a series, or None when names collide or do not normalise."""
    pairs = [(pn.label_name(k), pn.label_value(v)) for k, v in point.attributes.items()]
    pairs += [(pn.label_name("otel_scope_" + k), pn.label_value(v)) for k, v in point.scope_attributes.items()]
    pairs += [("otel_scope_name", point.scope_name), ("otel_scope_version", point.scope_version),
              ("otel_scope_schema_url", point.scope_schema_url)]  # fmt: skip
    job, instance = job_and_instance(point.resource)
    if job is not None:
        pairs.append(("job", job))
    if instance is not None:
        pairs.append(("instance", instance))
    names = [n for n, _ in pairs]
    if "" in names or len(set(names)) != len(names):
        return None
    return sorted(pairs)


def _target_info_labels(resource: dict[str, Any]) -> list[tuple[str, str]]:
    labels: dict[str, str] = {}
    for key, value in resource.items():
        if key in _RESOURCE_IDENTITY:
            continue
        name = pn.label_name(key)
        if not name:
            continue
        text = pn.label_value(value)
        labels[name] = f"{labels[name]};{text}" if name in labels else text
    job, instance = job_and_instance(resource)
    labels["job"], labels["instance"] = job or "", instance or ""
    return sorted(labels.items())


def _fmt_labels(labels: list[tuple[str, str]], extra: tuple[str, str] | None = None) -> str:
    pairs = [*labels, extra] if extra else labels
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{pn.escape_label_value(v)}"' for k, v in pairs) + "}"


def _samples(name: str, prom_type: str, labels: list[tuple[str, str]], point: ReceivedPoint) -> list[str]:
    fmt = pn.format_float
    if prom_type in ("counter", "gauge"):
        return [f"{name}{_fmt_labels(labels)} {fmt(float(point.value or 0))}"]
    count, total = point.count or 0, point.sum or 0.0
    out: list[str] = []
    if prom_type == "summary":
        out += [f"{name}{_fmt_labels(labels, ('quantile', fmt(q)))} {fmt(v)}" for q, v in point.quantiles]
    else:
        first_index: dict[float, int] = {}
        for index, bound in enumerate(point.explicit_bounds):
            first_index.setdefault(bound, index)
        cumulative = 0
        for bound in sorted(first_index):
            index = first_index[bound]
            cumulative += point.bucket_counts[index] if index < len(point.bucket_counts) else 0
            out.append(f"{name}_bucket{_fmt_labels(labels, ('le', fmt(bound)))} {fmt(float(cumulative))}")
        out.append(f"{name}_bucket{_fmt_labels(labels, ('le', '+Inf'))} {fmt(float(count))}")
    out.append(f"{name}_sum{_fmt_labels(labels)} {fmt(float(total))}")
    out.append(f"{name}_count{_fmt_labels(labels)} {fmt(float(count))}")
    return out
