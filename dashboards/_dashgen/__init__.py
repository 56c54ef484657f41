"""Generator of the spotify-otel Grafana dashboards (``python dashboards/generate.py``).

Each dashboard is a module of :mod:`._dashgen.boards` built from the helpers in :mod:`.panels`,
:mod:`.promql`, :mod:`.links` and :mod:`.board`; thresholds and colours live in :mod:`.thresholds`.
:func:`outputs` returns every generated file's text, keyed by its path relative to ``dashboards/``.
"""

from __future__ import annotations

import json
from typing import Any

from .board import Board
from .boards import BOARDS
from .readme import render_readme


def boards() -> list[Board]:
    """Every dashboard, in README order."""
    return [build() for build in BOARDS]


def file_name(board: Board) -> str:
    """``spotify-overview`` -> ``overview.json``."""
    return board.uid.removeprefix("spotify-") + ".json"


def render(dashboard: dict[str, Any]) -> str:
    """Stable JSON text: two-space indent, keys in insertion order, UTF-8, trailing newline."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def outputs(readme: str) -> dict[str, str]:
    """Generated files (``<name>.json`` and ``README.md`` given its current text) by relative path."""
    built = boards()
    files = {file_name(board): render(board.to_json()) for board in built}
    files["README.md"] = render_readme(readme, built)
    return files
