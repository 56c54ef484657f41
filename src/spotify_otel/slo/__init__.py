"""SLOs as code: a small YAML specification turned into Prometheus multi-window multi-burn-rate rules.

Usage::

    from spotify_otel.slo import load_spec, render_rules

    spec = load_spec("alerts/slo.yaml")
    text = render_rules(spec, source="slo.yaml")   # the content of alerts/slo.rules.yml

From a shell::

    spotify-otel slo generate [--spec alerts/slo.yaml] [--output alerts/slo.rules.yml] [--check]

The SLIs come from the SDK's ``spotify_sla_requests_total`` counter (``sla_availability`` and
``sla_latency`` are ``good``/``bad`` per request). Alert windows and burn rates follow the Google SRE
workbook (chapter 5, "Alerting on SLOs"): page on 2% of the budget in 1 h or 5% in 6 h, ticket on 10%
in 1 d or 3 d, each confirmed by a short window of a twelfth of the long one.
"""

from __future__ import annotations

from spotify_otel.slo.render import render_rules
from spotify_otel.slo.rules import build_groups
from spotify_otel.slo.spec import SLO, SLOSpec, SpecError, load_spec, parse_spec
from spotify_otel.slo.windows import BURN_WINDOWS, BurnWindow

__all__ = [
    "BURN_WINDOWS",
    "SLO",
    "BurnWindow",
    "SLOSpec",
    "SpecError",
    "build_groups",
    "load_spec",
    "parse_spec",
    "render_rules",
]
