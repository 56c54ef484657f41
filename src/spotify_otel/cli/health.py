"""``spotify-otel health``: check the telemetry pipeline (logic in :mod:`spotify_otel.health`)."""

from __future__ import annotations

import argparse
from typing import Any

from spotify_otel.health._cli import DESCRIPTION, EPILOG, add_arguments


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``health`` sub-command; its ``func`` returns the exit code (0 / 1 / 2)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "health", help="check the telemetry pipeline", description=DESCRIPTION, epilog=EPILOG
    )
    return add_arguments(parser)
