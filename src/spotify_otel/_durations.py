"""Durations written as text in configuration: ``500ms``, ``30s``, ``10m``, ``1h``, ``1d`` or bare seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_seconds(text: str) -> float | None:
    """Seconds in ``text`` (a number with an optional unit), or ``None`` when it is not such a duration."""
    match = _DURATION.fullmatch(text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None
