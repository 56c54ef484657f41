"""Panel builders: every panel gets a description, a unit, the datasource variable, and colours and
thresholds from :mod:`.thresholds`. Positions and ids are assigned later by :class:`.board.Board`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .thresholds import SERIES_COLOURS, Threshold, describe

Json = dict[str, Any]
PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
_REDUCE = {"calcs": ["lastNotNull"], "fields": "", "values": False}


@dataclass(frozen=True)
class Q:
    """One PromQL query of a panel."""

    expr: str
    legend: str = "__auto"
    instant: bool = False
    exemplar: bool = False
    fmt: str = "time_series"  # or "table", "heatmap"


def _targets(queries: Sequence[Q]) -> list[Json]:
    targets = []
    for index, query in enumerate(queries):
        targets.append(
            {
                "datasource": PROMETHEUS,
                "refId": chr(ord("A") + index),
                "expr": query.expr,
                "legendFormat": query.legend,
                "range": not query.instant,
                "instant": query.instant,
                "exemplar": query.exemplar,
                "format": query.fmt,
                "editorMode": "code",
            }
        )
    return targets


def _colour_overrides(names: Sequence[str]) -> list[Json]:
    return [
        {
            "matcher": {"id": "byName", "options": name},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": SERIES_COLOURS[name]}}],
        }
        for name in names
    ]


def _field_config(
    unit: str,
    threshold: Threshold | None,
    colour_mode: str,
    links: Sequence[Json],
    custom: Json | None = None,
    decimals: int | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    colours: Sequence[str] = (),
) -> Json:
    defaults: Json = {
        "unit": unit,
        "color": {"mode": colour_mode},
        "thresholds": {
            "mode": "absolute",
            "steps": threshold.steps() if threshold else [{"color": "green", "value": None}],
        },
        "links": list(links),
        "mappings": [],
    }
    if custom is not None:
        defaults["custom"] = custom
    if decimals is not None:
        defaults["decimals"] = decimals
    if min_value is not None:
        defaults["min"] = min_value
    if max_value is not None:
        defaults["max"] = max_value
    return {"defaults": defaults, "overrides": _colour_overrides(colours)}


def _panel(
    kind: str,
    title: str,
    description: str,
    queries: Sequence[Q],
    field_config: Json,
    options: Json,
    threshold: Threshold | None = None,
) -> Json:
    if threshold is not None:
        lead = "Dashed lines" if kind == "timeseries" else "Colours"
        description = f"{description} {describe(threshold, lead)}"
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": PROMETHEUS,
        "targets": _targets(queries),
        "fieldConfig": field_config,
        "options": options,
    }


def timeseries(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Q],
    *,
    threshold: Threshold | None = None,
    links: Sequence[Json] = (),
    stack: bool = False,
    colours: Sequence[str] = (),
    min_value: float | None = 0,
    max_value: float | None = None,
    bars: bool = False,
) -> Json:
    """A time series panel; a threshold draws dashed warning/critical lines."""
    custom = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "showPoints": "never",
        "spanNulls": False,
        "axisBorderShow": False,
        "lineInterpolation": "linear",
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "thresholdsStyle": {"mode": "dashed" if threshold else "off"},
    }
    config = _field_config(
        unit,
        threshold,
        "palette-classic",
        links,
        custom,
        min_value=min_value,
        max_value=max_value,
        colours=colours,
    )
    options = {
        "legend": {
            "displayMode": "table",
            "placement": "right",
            "showLegend": True,
            "calcs": ["mean", "max", "lastNotNull"],
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return _panel("timeseries", title, description, queries, config, options, threshold)


def stat(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Q],
    *,
    threshold: Threshold | None = None,
    links: Sequence[Json] = (),
    decimals: int | None = None,
    sparkline: bool = True,
) -> Json:
    """A single-value panel coloured by its threshold."""
    config = _field_config(unit, threshold, "thresholds" if threshold else "fixed", links, decimals=decimals)
    if threshold is None:
        config["defaults"]["color"] = {"mode": "fixed", "fixedColor": "blue"}
    options = {
        "reduceOptions": _REDUCE,
        "colorMode": "value",
        "graphMode": "area" if sparkline else "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto",
        "wideLayout": True,
        "showPercentChange": False,
    }
    return _panel("stat", title, description, queries, config, options, threshold)


def gauge(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Q],
    *,
    threshold: Threshold,
    min_value: float = 0,
    max_value: float = 1,
    links: Sequence[Json] = (),
) -> Json:
    """A gauge between ``min_value`` and ``max_value`` with its threshold bands."""
    config = _field_config(unit, threshold, "thresholds", links, min_value=min_value, max_value=max_value)
    options = {
        "reduceOptions": _REDUCE,
        "showThresholdLabels": False,
        "showThresholdMarkers": True,
        "orientation": "auto",
        "sizing": "auto",
        "minVizWidth": 75,
        "minVizHeight": 75,
    }
    return _panel("gauge", title, description, queries, config, options, threshold)


def bargauge(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Q],
    *,
    threshold: Threshold | None = None,
    links: Sequence[Json] = (),
) -> Json:
    """Horizontal bars, one per series (top-N lists)."""
    config = _field_config(
        unit, threshold, "thresholds" if threshold else "palette-classic", links, min_value=0
    )
    options = {
        "reduceOptions": _REDUCE,
        "displayMode": "gradient",
        "orientation": "horizontal",
        "showUnfilled": True,
        "valueMode": "color",
        "namePlacement": "auto",
        "sizing": "auto",
        "minVizWidth": 8,
        "minVizHeight": 16,
        "maxVizHeight": 300,
    }
    return _panel("bargauge", title, description, queries, config, options, threshold)


def table(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Q],
    *,
    columns: dict[str, str],
    threshold: Threshold | None = None,
    links: Sequence[Json] = (),
    column_units: dict[str, str] | None = None,
) -> Json:
    """Instant queries merged into one table; ``columns`` renames ``Value #<refId>`` columns."""
    config = _field_config(
        unit, threshold, "thresholds", links, custom={"align": "auto", "cellOptions": {"type": "auto"}}
    )
    config["overrides"] = [
        {"matcher": {"id": "byName", "options": name}, "properties": [{"id": "unit", "value": column_unit}]}
        for name, column_unit in (column_units or {}).items()
    ]
    options = {
        "showHeader": True,
        "cellHeight": "sm",
        "footer": {"show": False, "reducer": ["sum"], "fields": ""},
    }
    panel = _panel("table", title, description, queries, config, options, threshold)
    panel["transformations"] = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": columns}},
    ]
    return panel


def heatmap(
    title: str, description: str, unit: str, queries: Sequence[Q], *, links: Sequence[Json] = ()
) -> Json:
    """A latency heatmap from pre-bucketed histogram data (``format: heatmap``), exemplars on top."""
    config = _field_config(
        unit,
        None,
        "palette-classic",
        links,
        custom={
            "hideFrom": {"legend": False, "tooltip": False, "viz": False},
            "scaleDistribution": {"type": "linear"},
        },
    )
    options = {
        "calculate": False,
        "cellGap": 1,
        "cellValues": {"unit": "reqps"},
        "color": {
            "mode": "scheme",
            "scheme": "Oranges",
            "exponent": 0.5,
            "steps": 64,
            "fill": "dark-orange",
            "reverse": False,
        },
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "filterValues": {"le": 1e-9},
        "legend": {"show": True},
        "rowsFrame": {"layout": "auto"},
        "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
        "yAxis": {"axisPlacement": "left", "reverse": False, "unit": unit},
    }
    return _panel("heatmap", title, description, queries, config, options)
