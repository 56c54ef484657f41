"""``spotify-otel receive``: run a local OTLP receiver and print what services send to it.

Prints each trace as a span tree (once no span of it arrived for a second), each log record as one
line, and every ``--summary-interval`` seconds a per-tenant table built from SERVER spans. Stops on
SIGINT/SIGTERM or after ``--duration`` seconds, printing a final summary, exit code 0.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import IO, Any

from spotify_otel.cli import CommandError
from spotify_otel.receiver.console import Console, ConsoleOptions
from spotify_otel.receiver.server import OTLPReceiver
from spotify_otel.receiver.store import TelemetryStore

_CONSOLE_STORE_ITEMS = 1_000  # the console reads records as they arrive; the store only needs a little


def register(subparsers: Any) -> None:
    """Add the ``receive`` sub-command."""
    parser = subparsers.add_parser(
        "receive",
        help="run a local OTLP receiver (gRPC + HTTP) and print received telemetry",
        description="Run a local OTLP receiver (gRPC + HTTP) and print span trees, log lines and a per-tenant "
        "summary of what services send to it. Stops on Ctrl-C/SIGTERM or after --duration, exit code 0.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--grpc-port", type=int, default=4317, help="OTLP/gRPC port, 0 = any free (default: %(default)s)"
    )
    parser.add_argument(
        "--http-port", type=int, default=4318, help="OTLP/HTTP port, 0 = any free (default: %(default)s)"
    )
    parser.add_argument("--prometheus-port", type=int, default=None,
                        help="also serve received metrics at GET /metrics on this port (default: off)")  # fmt: skip
    parser.add_argument("--jsonl", metavar="FILE", help="append every span/log/metric point as a JSON line to FILE")
    parser.add_argument("--summary-interval", type=float, default=5.0, metavar="SECONDS",
                        help="print the per-tenant summary this often when something new arrived; 0 disables "
                             "(default: %(default)s)")  # fmt: skip
    parser.add_argument("--no-tree", action="store_true", help="do not print span trees")
    parser.add_argument("--quiet", action="store_true", help="print only the start line and the final summary")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after SECONDS")
    parser.add_argument("--color", dest="color", action="store_true", default=None, help="force ANSI colours")
    parser.add_argument("--no-color", dest="color", action="store_false", help="disable ANSI colours")
    parser.set_defaults(func=run)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM while inside the block (main thread only), then restore handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _banner(rx: OTLPReceiver) -> str:
    prom = rx.prometheus_url or "off"
    return (
        f"spotify-otel receive: OTLP/gRPC {rx.grpc_endpoint}  OTLP/HTTP {rx.http_endpoint}  "
        f"prometheus {prom}  (Ctrl-C to stop)"
    )


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    """Run the receiver console until a signal or ``--duration``; returns the exit code."""
    out = out if out is not None else sys.stdout
    if args.duration is not None and args.duration < 0:
        raise CommandError(f"--duration must be >= 0, got {args.duration}")
    if args.summary_interval < 0:
        raise CommandError(f"--summary-interval must be >= 0, got {args.summary_interval}")
    color = args.color if args.color is not None else bool(getattr(out, "isatty", lambda: False)())
    options = ConsoleOptions(
        tree=not (args.no_tree or args.quiet),
        logs=not args.quiet,
        summary_interval=0.0 if args.quiet else args.summary_interval,
        color=color,
    )
    rx = OTLPReceiver(
        host=args.host,
        grpc_port=args.grpc_port,
        http_port=args.http_port,
        store=TelemetryStore(max_items=_CONSOLE_STORE_ITEMS),
        prometheus_port=args.prometheus_port,
    )
    try:
        jsonl = open(args.jsonl, "a", encoding="utf-8") if args.jsonl else None  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise CommandError(f"cannot open --jsonl file {args.jsonl!r}: {exc}") from exc
    try:
        console = Console(options, out, jsonl)
        rx.store.subscribe(console.on_records)
        try:
            rx.start()
        except OSError as exc:
            raise CommandError(f"cannot start the receiver on {args.host}: {exc}") from exc
        stop = threading.Event()
        try:
            console.emit([_banner(rx)])
            with _stop_on_signals(stop):
                console.run(stop, args.duration)
        finally:
            rx.stop(grace=0.5)
            console.finish()
    finally:
        if jsonl is not None:
            jsonl.close()
    return 0
