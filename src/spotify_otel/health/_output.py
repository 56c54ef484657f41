"""Render a :class:`HealthReport` as a human table or as the documented JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence

from spotify_otel.health._result import HealthReport, Status

_MARK = {Status.HEALTHY: "ok", Status.UNHEALTHY: "FAIL", Status.SKIPPED: "skip"}


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_text(report: HealthReport) -> str:
    """A fixed-width table per section and a one-line verdict naming any failing component."""
    rows = [
        (
            c.component,
            "required" if c.required else "optional",
            f"{_MARK[c.status]} {c.status.value}",
            f"{c.latency_ms:.0f} ms",
            c.reason,
        )
        for c in report.checks
    ]
    lines = _table(("COMPONENT", "ROLE", "STATUS", "LATENCY", "REASON"), rows) if rows else []
    if report.canary is not None:
        canary = report.canary
        if lines:
            lines.append("")
        lines.append(f"canary {canary.canary_id} via {canary.protocol} {canary.endpoint}")
        canary_rows = [
            (
                s.signal,
                s.backend,
                "found" if s.found else ("skipped" if s.status is Status.SKIPPED else "NOT FOUND"),
                "-" if s.delay_ms is None else f"{s.delay_ms:.0f} ms",
                s.reason,
            )
            for s in canary.signals
        ]
        lines.extend(_table(("SIGNAL", "BACKEND", "RESULT", "DELAY", "REASON"), canary_rows))
    failing_required = [c.component for c in report.checks if c.required and not c.healthy]
    failing_optional = [c.component for c in report.checks if not c.required and not c.healthy]
    signals = report.canary.signals if report.canary else ()
    missing = [s.signal for s in signals if s.status is Status.UNHEALTHY]
    lines.append("")
    if report.healthy:
        verdict = "HEALTHY"
        if failing_optional:
            verdict += f" (optional components failing: {', '.join(failing_optional)})"
    else:
        problems = []
        if failing_required:
            problems.append(f"required components failing: {', '.join(failing_required)}")
        if missing:
            problems.append(f"canary signals not found: {', '.join(missing)}")
        verdict = "UNHEALTHY: " + "; ".join(problems)
    lines.append(verdict)
    return "\n".join(lines)


def render_json(report: HealthReport) -> str:
    """The ``--json`` document (schema in docs/health.md), indented, keys in a stable order."""
    return json.dumps(report.to_dict(), indent=2)
