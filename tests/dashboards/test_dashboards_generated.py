"""The committed JSON is exactly what dashboards/generate.py produces."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from dashboards_support import DASHBOARDS

sys.path.insert(0, str(DASHBOARDS))
import generate


def test_committed_dashboards_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(DASHBOARDS / "generate.py"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")


def test_check_reports_edited_missing_and_unknown_files(tmp_path: Path) -> None:
    copy = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS, copy, ignore=shutil.ignore_patterns("_dashgen", "__pycache__", "*.py"))
    assert generate.stale_files(copy) == []
    (copy / "overview.json").write_text("{}\n", encoding="utf-8")
    (copy / "cost.json").unlink()
    (copy / "old.json").write_text("{}\n", encoding="utf-8")
    assert generate.stale_files(copy) == ["cost.json", "overview.json", "old.json (not generated: delete it)"]


def test_write_regenerates_what_check_wants(tmp_path: Path) -> None:
    copy = tmp_path / "dashboards"
    ignore = shutil.ignore_patterns("_dashgen", "__pycache__", "*.py", "*.json")
    shutil.copytree(DASHBOARDS, copy, ignore=ignore)
    assert "overview.json" in generate.stale_files(copy)
    written = generate.write(copy)
    assert "overview.json" in written and generate.stale_files(copy) == []
