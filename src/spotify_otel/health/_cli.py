"""Arguments shared by ``spotify-otel health`` and ``python -m spotify_otel.health``, and the run step.

Exit codes: 0 every required component healthy (and, with ``--canary``, every canary signal found);
1 otherwise; 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from spotify_otel.exceptions import ConfigError
from spotify_otel.health._config import resolve
from spotify_otel.health._output import render_json, render_text
from spotify_otel.health._runner import run_health
from spotify_otel.health._settings import COMPONENTS, ENDPOINT_SETTINGS, OTHER_SETTINGS, Setting

DESCRIPTION = "Check that the telemetry pipeline (OTLP endpoints, collector and backends) works."
EPILOG = (
    "components: " + ", ".join(COMPONENTS) + ". Flags override environment variables, which override "
    "defaults. Exit code 0: all required components healthy (and every canary signal found); "
    "1: something required is unhealthy; 2: usage or configuration error. See docs/health.md."
)


def _help(setting: Setting) -> str:
    parts = [setting.doc]
    if setting.env:
        parts.append("env " + " / ".join(setting.env))
    if setting.default is not None:
        parts.append(f"default {setting.default}")
    return "; ".join(parts).replace("%", "%%")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add every health flag to ``parser`` and set ``func``; values default to None (= not given)."""
    by_key = {s.key: s for s in OTHER_SETTINGS}
    selection = parser.add_argument_group("selection")
    which = selection.add_mutually_exclusive_group()
    which.add_argument("--check-all", action="store_true", default=None, help="check every component")
    for key in ("check", "require"):
        target = which if key == "check" else selection
        target.add_argument(by_key[key].flag, dest=key, metavar="LIST", help=_help(by_key[key]))
    selection.add_argument("--timeout", dest="timeout", metavar="SECONDS", help=_help(by_key["timeout"]))
    selection.add_argument("--json", action="store_true", help="print the JSON document instead of a table")
    endpoints = parser.add_argument_group("endpoints")
    for setting in ENDPOINT_SETTINGS:
        endpoints.add_argument(setting.flag, dest=setting.key, metavar="URL", help=_help(setting))
    canary = parser.add_argument_group("canary")
    canary.add_argument(
        "--canary",
        action="store_true",
        default=None,
        help="send a tagged span, metric and log through OTLP and wait until the backends show them",
    )
    for key in ("canary_timeout", "protocol", "canary_signals", "elasticsearch_index"):
        metavar = key.split("_")[-1].upper()
        canary.add_argument(by_key[key].flag, dest=key, metavar=metavar, help=_help(by_key[key]))
    telemetry = parser.add_argument_group("telemetry (the SDK self-metrics in Prometheus)")
    for key, metavar in (("telemetry_window", "DURATION"), ("telemetry_queue_threshold", "PERCENT")):
        telemetry.add_argument(by_key[key].flag, dest=key, metavar=metavar, help=_help(by_key[key]))
    parser.set_defaults(func=run)
    return parser


def build_parser(prog: str = "python -m spotify_otel.health") -> argparse.ArgumentParser:
    """A standalone parser with the same arguments as the ``health`` sub-command."""
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, epilog=EPILOG)
    return add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Resolve the configuration, run the checks (and canary), print the report, return the exit code."""
    flags = {k: v for k, v in vars(args).items() if k not in ("func", "command", "json")}
    try:
        config = resolve(flags)
    except ConfigError as exc:
        print(f"spotify-otel health: error: {exc}", file=sys.stderr)
        return 2
    report = run_health(config)
    print(render_json(report) if args.json else render_text(report), file=sys.stdout, flush=True)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spotify_otel.health``: parse ``argv`` and run; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse usage errors (2) and --help (0)
        return exc.code if isinstance(exc.code, int) else 2
    return run(args)
