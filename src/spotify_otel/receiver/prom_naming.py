"""OTLP -> Prometheus names and values, as the collector-contrib ``prometheus`` exporter builds them.

Ported from ``github.com/prometheus/otlptranslator`` (``MetricNamer`` / ``LabelNamer`` with the
exporter's default ``UnderscoreEscapingWithSuffixes`` strategy), which the exporter uses since it
left ``pkg/translator/prometheus``; value formatting follows ``client_golang``'s text encoder and
pdata's ``Value.AsString``. See :mod:`spotify_otel.receiver.prometheus` for the rules in prose.
"""

from __future__ import annotations

import base64
import decimal
import json
import math
import re
from typing import Any

UNIT_MAP = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
    "us": "microseconds", "ns": "nanoseconds",
    "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes",
    "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
    "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
    "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
}  # fmt: skip
PER_UNIT_MAP = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}

COUNTER, GAUGE, NON_MONOTONIC_SUM, HISTOGRAM, SUMMARY = "counter", "gauge", "updowncounter", "histogram", "summary"

_NAME_TOKEN = re.compile(r"[a-zA-Z0-9:]+")
_INVALID_NAME_CHAR = re.compile(r"[^a-zA-Z0-9:]")
_INVALID_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9_]")
_MULTI_UNDERSCORE = re.compile(r"__+")


def _clean_unit(unit: str) -> str:
    return _MULTI_UNDERSCORE.sub("_", _INVALID_NAME_CHAR.sub("_", unit)).removeprefix("_")


def _unit_suffixes(unit: str) -> tuple[str, str]:
    parts = unit.split("/", 1)
    main = per = ""
    main_otel = parts[0].strip()
    if main_otel and not ("{" in main_otel or "}" in main_otel):
        main = UNIT_MAP.get(main_otel, main_otel)
    if len(parts) > 1 and parts[1]:
        per_otel = parts[1].strip()
        if per_otel and not ("{" in per_otel or "}" in per_otel):
            per = PER_UNIT_MAP.get(per_otel, per_otel)
        if per:
            per = "per_" + per
    return main, per


def metric_name(name: str, unit: str, metric_type: str) -> str:
    """Prometheus name for an OTLP metric; ``metric_type`` is COUNTER, GAUGE, NON_MONOTONIC_SUM, ...

    ``http.server.request.duration`` (s, histogram) -> ``http_server_request_duration_seconds``;
    ``app.requests`` (``{request}``, counter) -> ``app_requests_total``; ``cpu.util`` (1, gauge) ->
    ``cpu_util_ratio``. Returns "" when nothing valid is left (the exporter drops such metrics).
    """
    tokens = _NAME_TOKEN.findall(name)
    main, per = _unit_suffixes(unit)
    main, per = _clean_unit(main), _clean_unit(per)
    if main in tokens:
        main = ""
    if per == "per_":
        per = ""
    else:
        per = per.removesuffix("_")
        if per in tokens:
            per = ""
    if per:
        main = main.removesuffix("_")
    tokens += [t for t in (main, per) if t]
    if metric_type == COUNTER:
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if unit == "1" and metric_type == GAUGE:
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    normalized = "_".join(tokens)
    if normalized[:1].isdigit():
        normalized = "_" + normalized
    if normalized != name and not normalized.strip("_"):
        return ""
    return normalized


def label_name(key: str) -> str:
    """Prometheus label name for an attribute key: ``tenant.id`` -> ``tenant_id``, ``1x`` -> ``key_1x``.

    Returns "" when nothing valid is left.
    """
    if not key:
        return ""
    label = _INVALID_LABEL_CHAR.sub("_", key)
    if label[0].isdigit():
        label = "key_" + label
    elif label.startswith("_") and not label.startswith("__"):
        label = "key" + label
    if label != key and not label.strip("_"):
        return ""
    return label


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(value) and the decimal-point position ``dp``
    (value == 0.DIGITS * 10**dp), as Go's ``strconv`` computes them."""
    sign_digits_exp = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in sign_digits_exp.digits)
    exponent = int(sign_digits_exp.exponent)
    return digits, len(digits) + exponent


def _fmt_e(digits: str, dp: int, neg: bool, min_exp_digits: int = 2) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = dp - 1
    return f"{'-' if neg else ''}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):0{min_exp_digits}d}"


def _fmt_f(digits: str, dp: int, neg: bool) -> str:
    if dp <= 0:
        text = "0." + "0" * -dp + digits
    elif dp >= len(digits):
        text = digits + "0" * (dp - len(digits))
    else:
        text = digits[:dp] + "." + digits[dp:]
    return ("-" if neg else "") + text


def format_float(value: float) -> str:
    """A sample value as ``client_golang`` writes it (Go ``strconv.FormatFloat(v, 'g', -1, 64)``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    digits, dp = _digits(value)
    if dp - 1 < -4 or dp - 1 >= 6:  # shortest %g decides with precision 6
        return _fmt_e(digits, dp, value < 0)
    return _fmt_f(digits, dp, value < 0)


def _es6_float(value: float) -> str:
    """pdata's ``float64AsString``: ES6 number formatting (plain unless < 1e-6 or >= 1e21)."""
    if math.isnan(value) or math.isinf(value):
        return f"json: unsupported value: {format_float(value)}"
    if value == 0:
        return "0"
    digits, dp = _digits(value)
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        return _fmt_e(digits, dp, value < 0, min_exp_digits=1)
    return _fmt_f(digits, dp, value < 0)


def _go_json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _es6_float(value)
    if isinstance(value, bytes):
        return json.dumps(base64.b64encode(value).decode("ascii"))
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_json(str(k))}:{_go_json(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    text = json.dumps(str(value), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def label_value(value: Any) -> str:
    """An attribute value as pdata's ``Value.AsString`` renders it (arrays and maps as Go JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _es6_float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return _go_json(value)


def escape_label_value(value: str) -> str:
    """Escape a label value for the text exposition format (backslash, double quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """Escape HELP text for the text exposition format (backslash, newline)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")
