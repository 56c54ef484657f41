"""The ``spotify-otel`` command line: a thin argparse front over library modules.

Each sub-command lives in its own module under :mod:`spotify_otel.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the parsed
namespace and returning an exit code. Logic stays in library modules so it can be tested in-process
through :func:`main`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Sub-command modules, in the order ``--help`` lists them.
_COMMANDS = ("receive", "health", "slo", "remediate")


class CommandError(Exception):
    """A domain error a command reports as one line on stderr with exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(prog="spotify-otel", description="spotify-otel observability tools")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f"spotify_otel.cli.{name}")
        except ImportError:  # a command whose module is not written yet
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (testable in-process)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except CommandError as exc:
        print(f"spotify-otel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
