"""Human-readable console lines for received spans (as trees) and log records. No I/O here."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from spotify_otel.receiver.models import ReceivedLog, ReceivedSpan

_COLORS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
           "dim": "2", "bold": "1"}  # fmt: skip
_STATUS_COLOR = {"ERROR": "red", "OK": "green", "UNSET": "dim"}
_HTTP_ATTRS = (
    ("http.request.method", "http.method"),
    ("http.route", "url.path", "http.target"),
    ("http.response.status_code", "http.status_code"),
)


class Style:
    """ANSI colouring that can be switched off (then text passes through unchanged)."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, color: str) -> str:
        """Wrap ``text`` in the ANSI code for ``color`` (a key of ``_COLORS``) when colour is on."""
        if not self.color or color not in _COLORS:
            return text
        return f"\x1b[{_COLORS[color]}m{text}\x1b[0m"


def severity_color(severity_number: int) -> str:
    """Colour name for an OTLP severity number (1-24)."""
    if severity_number >= 17:
        return "red"
    if severity_number >= 13:
        return "yellow"
    if severity_number >= 9:
        return "green"
    return "dim"


def format_clock(timestamp_ns: int) -> str:
    """Local wall-clock ``HH:MM:SS.mmm`` of a Unix-nanosecond timestamp ("--:--:--" when unset)."""
    if timestamp_ns <= 0:
        return "--:--:--.---"
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{nanos // 1_000_000:03d}"


def _first(attributes: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in attributes:
            return attributes[key]
    return None


def http_summary(span: ReceivedSpan) -> str:
    """``GET /orders -> 200`` from the span's HTTP attributes (stable or old semantic conventions)."""
    method, target, status = (_first(span.attributes, keys) for keys in _HTTP_ATTRS)
    text = " ".join(str(part) for part in (method, target) if part is not None)
    if status is not None:
        text = f"{text} -> {status}" if text else f"-> {status}"
    return text


def span_line(span: ReceivedSpan, style: Style, show_service: bool = False) -> str:
    """One span: name, kind, duration, status, tenant, key HTTP attributes."""
    status = style(span.status_code, _STATUS_COLOR.get(span.status_code, "dim"))
    if span.status_code == "ERROR" and span.status_message:
        status += f" ({span.status_message})"
    parts = [style(span.name, "bold"), span.kind, f"{span.duration_ms:.1f} ms", status]
    if span.tenant is not None:
        parts.append("tenant=" + style(span.tenant, "cyan"))
    if show_service and span.service_name:
        parts.append("service=" + span.service_name)
    http = http_summary(span)
    if http:
        parts.append(http)
    return "  ".join(parts)


def render_trace(spans: list[ReceivedSpan], style: Style) -> list[str]:
    """A trace as an indented tree: a header line, then one line per span (children by start time).

    Spans whose parent was not received are shown as extra roots marked "(orphan)".
    """
    if not spans:
        return []
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[ReceivedSpan]] = {}
    roots: list[ReceivedSpan] = []
    for span in spans:
        if span.parent_span_id and span.parent_span_id in by_id:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    roots.sort(key=lambda s: (bool(s.parent_span_id), s.start_ns))
    services = sorted({s.service_name for s in spans if s.service_name})
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    header = (
        f"{style('trace ' + spans[0].trace_id, 'magenta')}  {', '.join(services) or '?'}  "
        f"{len(spans)} span{'s' if len(spans) != 1 else ''}  {max(end - start, 0) / 1e6:.1f} ms"
    )
    lines = [header]
    root_service = roots[0].service_name

    def walk(span: ReceivedSpan, prefix: str, last: bool, orphan: bool) -> None:
        branch = "└─ " if last else "├─ "
        text = span_line(span, style, show_service=span.service_name != root_service)
        lines.append(f"{prefix}{branch}{text}{style('  (orphan)', 'dim') if orphan else ''}")
        kids = sorted(children.get(span.span_id, []), key=lambda s: s.start_ns)
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("   " if last else "│  "), i == len(kids) - 1, False)

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1, bool(root.parent_span_id))
    return lines


def _body_text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return "" if body is None else str(body)


def render_log(record: ReceivedLog, style: Style) -> str:
    """One log line: time, severity, service, tenant, trace id prefix, body."""
    severity = record.severity_text or (f"SEV{record.severity_number}" if record.severity_number else "LOG")
    parts = [
        style(format_clock(record.timestamp_ns), "dim"),
        style(f"{severity:<5}", severity_color(record.severity_number)),
        record.service_name or "?",
    ]
    if record.tenant is not None:
        parts.append("tenant=" + style(record.tenant, "cyan"))
    if record.trace_id:
        parts.append("trace=" + style(record.trace_id[:8], "magenta"))
    parts.append(_body_text(record.body))
    return " ".join(parts)
