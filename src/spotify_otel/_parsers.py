"""Parsers for setting values: each accepts a raw string (environment) or an already typed value
(keyword argument) and returns the typed value, or raises ``ValueError`` describing what is accepted."""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Parser = Callable[[Any], Any]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class Rejected(ValueError):
    """Raised by a parser; ``accepted`` says what would have been valid."""

    def __init__(self, accepted: str) -> None:
        self.accepted = accepted
        super().__init__(accepted)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Rejected("true/false (also 1/0, yes/no, on/off)")


def parse_str(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise Rejected("a non-empty string")


def optional(parser: Parser) -> Parser:
    """Wrap ``parser`` so that ``None`` and the empty string mean "not set"."""

    def parse(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parser(value)

    return parse


def choice(*choices: str, aliases: Mapping[str, str] | None = None) -> Parser:
    accepted = ", ".join(repr(c) for c in choices)
    table = {c.lower(): c for c in choices}
    table.update({k.lower(): v for k, v in (aliases or {}).items()})

    def parse(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in table:
            return table[value.strip().lower()]
        raise Rejected(f"one of {accepted}")

    return parse


def number(kind: type[int] | type[float], low: float | None = None, high: float | None = None) -> Parser:
    bounds = f" between {low} and {high}" if low is not None and high is not None else (
        f" >= {low}" if low is not None else ""
    )
    accepted = f"{'an integer' if kind is int else 'a number'}{bounds}"

    def parse(value: Any) -> int | float:
        if isinstance(value, bool):
            raise Rejected(accepted)
        try:
            number = kind(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError, OverflowError):
            raise Rejected(accepted) from None
        if number != number or (low is not None and number < low) or (high is not None and number > high):
            raise Rejected(accepted)
        return number

    return parse


def parse_url(value: Any) -> str:
    accepted = "an absolute http:// or https:// URL with a host, e.g. http://localhost:4317"
    if not isinstance(value, str):
        raise Rejected(accepted)
    url = value.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        raise Rejected(accepted) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or " " in url:
        raise Rejected(accepted)
    return url.rstrip("/")


def parse_headers(value: Any) -> dict[str, str]:
    """``k1=v1,k2=v2`` (values URL-decoded, as OTEL_EXPORTER_OTLP_HEADERS) or a mapping."""
    accepted = "comma-separated key=value pairs, e.g. 'x-api-key=abc,x-tenant=acme', or a mapping"
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return {k.strip().lower(): v.strip() for k, v in value.items()}
        raise Rejected(accepted)
    if not isinstance(value, str):
        raise Rejected(accepted)
    headers: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise Rejected(accepted)
        headers[urllib.parse.unquote(key).strip().lower()] = urllib.parse.unquote(val).strip()
    return headers


def string_list(choices: Iterable[str] | None = None) -> Parser:
    allowed = tuple(choices) if choices is not None else None
    accepted = (
        "a comma-separated list of " + ", ".join(repr(c) for c in allowed) if allowed else "a list of strings"
    )

    def parse(value: Any) -> tuple[str, ...]:
        items: list[str]
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
            items = [v.strip() for v in value if v.strip()]
        else:
            raise Rejected(accepted)
        if allowed is not None and any(item.lower() not in allowed for item in items):
            raise Rejected(accepted)
        return tuple(item.lower() if allowed else item for item in items)

    return parse


def regex_list(value: Any) -> tuple[str, ...]:
    items = string_list()(value)
    for pattern in items:
        try:
            re.compile(pattern)
        except re.error:
            raise Rejected("a comma-separated list of valid regular expressions") from None
    return tuple(items)


def log_level(value: Any) -> int:
    accepted = "one of 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL' (or a number)"
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        name = value.strip().upper()
        if name == "WARN":
            name = "WARNING"
        level = logging.getLevelNamesMapping().get(name)
        if level is not None:
            return level
        if name.isdecimal():
            return int(name)
    raise Rejected(accepted)


def callable_or_none(value: Any) -> Any:
    if value is None or callable(value):
        return value
    raise Rejected("a callable or None")
