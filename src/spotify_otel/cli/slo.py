"""``spotify-otel slo generate``: write the multi-burn-rate SLO rules from ``alerts/slo.yaml``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from spotify_otel.cli import CommandError
from spotify_otel.slo import SpecError, load_spec, render_rules

DEFAULT_SPEC = "alerts/slo.yaml"
DEFAULT_OUTPUT = "alerts/slo.rules.yml"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``slo`` command and its ``generate`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "slo", help="SLO rules as code", description="Service-level objectives as code."
    )
    commands = parser.add_subparsers(dest="slo_command", metavar="SUBCOMMAND", required=True)
    generate = commands.add_parser(
        "generate",
        help="write multi-window multi-burn-rate recording and alert rules",
        description="Generate Prometheus recording and alert rules (SRE workbook multi-window "
        "multi-burn-rate alerts) from an SLO specification.",
    )
    generate.add_argument("--spec", default=DEFAULT_SPEC, help=f"SLO specification (default {DEFAULT_SPEC})")
    generate.add_argument(
        "--output", default=DEFAULT_OUTPUT,
        help=f"rule file to write, '-' for stdout (default {DEFAULT_OUTPUT})",
    )
    generate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the output file is missing or stale"
    )
    generate.set_defaults(func=run_generate)
    return parser


def run_generate(args: argparse.Namespace) -> int:
    """Generate (or with ``--check`` verify) the rule file; returns the exit code."""
    spec_path = Path(args.spec)
    try:
        text = render_rules(load_spec(spec_path), source=spec_path.name)
    except SpecError as exc:
        raise CommandError(str(exc)) from exc
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    if args.check:
        try:
            current = output.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            command = f"spotify-otel slo generate --spec {args.spec} --output {output}"
            raise CommandError(f"{output} is stale or missing: run '{command}'")
        print(f"{output} is up to date")
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
    print(f"wrote {output} ({text.count('- alert:')} alerts, {text.count('- record:')} recording rules)")
    return 0
