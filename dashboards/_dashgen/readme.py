"""The generated parts of ``dashboards/README.md``: the dashboard catalogue and the thresholds table."""

from __future__ import annotations

from collections.abc import Sequence

from .board import Board
from .thresholds import ALL, BURN_WINDOWS, SLO_AVAILABILITY, SLO_LATENCY, SLO_WINDOW, describe

BEGIN = "<!-- generated:{name}:begin -->"
END = "<!-- generated:{name}:end -->"


def _replace(text: str, name: str, body: str) -> str:
    begin, end = BEGIN.format(name=name), END.format(name=name)
    if begin not in text or end not in text:
        raise ValueError(f"dashboards/README.md lacks the {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def catalogue(boards: Sequence[Board]) -> str:
    """One section per dashboard: what it answers, how to read it, and each panel's description."""
    out = []
    for board in boards:
        name = board.uid.removeprefix("spotify-")
        out += [
            f"### {board.title} (`{name}.json`, uid `{board.uid}`)",
            "",
            f"**Answers:** {board.question}",
            "",
            f"**How to read it:** {board.guide}",
            "",
            "| panel | how to read it |",
            "|---|---|",
        ]
        section = ""
        for panel in board.panels:
            if panel["type"] == "row":
                section = panel["title"]
                continue
            out.append(f"| {_cell(section)}: **{_cell(panel['title'])}** | {_cell(panel['description'])} |")
        out.append("")
    return "\n".join(out)


def thresholds_table() -> str:
    """Every threshold: its levels and colours, and the alert rule it mirrors."""
    rows = ["| key | meaning | unit | levels | alert rule |", "|---|---|---|---|---|"]
    for t in ALL:
        levels = ", ".join(f"{value:g} {severity}" for value, severity in t.levels)
        colours = describe(t).removeprefix("Thresholds: ").split(" (alert")[0].rstrip(".")
        alert = f"`{t.alert}`" if t.alert else "dashboard only"
        rows.append(f"| `{t.key}` | {t.meaning} | `{t.unit}` | {levels} ({colours}) | {alert} |")
    pairs = ", ".join(
        f"{long} & {short} > {factor:g} ({severity})" for long, short, factor, severity in BURN_WINDOWS
    )
    rows += [
        "",
        f"SLO defaults: availability {SLO_AVAILABILITY:g}, latency {SLO_LATENCY:g}, over {SLO_WINDOW}. "
        f"Burn-rate window pairs: {pairs}.",
        "",
    ]
    return "\n".join(rows)


def render_readme(text: str, boards: Sequence[Board]) -> str:
    """``text`` with its generated blocks rewritten."""
    return _replace(_replace(text, "dashboards", catalogue(boards)), "thresholds", thresholds_table())
