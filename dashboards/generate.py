"""Generate the Grafana dashboards of spotify-otel as JSON (dashboards/*.json) and the generated parts of
dashboards/README.md. The JSON is committed; Grafana provisions it from this folder.

    python dashboards/generate.py          # write the files
    python dashboards/generate.py --check  # exit 1 if any file is stale, missing or unexpected
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _dashgen import outputs  # noqa: E402


def stale_files(directory: Path = HERE) -> list[str]:
    """Generated files whose committed text differs from a fresh generation, plus unexpected *.json."""
    wanted = outputs((directory / "README.md").read_text(encoding="utf-8"))
    stale = [
        name
        for name, text in sorted(wanted.items())
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]
    extra = [path.name for path in sorted(directory.glob("*.json")) if path.name not in wanted]
    return stale + [f"{name} (not generated: delete it)" for name in extra]


def write(directory: Path = HERE) -> list[str]:
    """Write every generated file; returns the names written."""
    wanted = outputs((directory / "README.md").read_text(encoding="utf-8"))
    for name, text in wanted.items():
        (directory / name).write_text(text, encoding="utf-8")
    return sorted(wanted)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files()
            for name in stale:
                print(f"stale: dashboards/{name}", file=sys.stderr)
            if stale:
                print("run: python dashboards/generate.py", file=sys.stderr)
            return 1 if stale else 0
        for name in write():
            print(f"wrote dashboards/{name}")
        return 0
    except (OSError, ValueError) as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
