"""``spotify-otel remediate``: the auto-remediation webhook service.

The logic lives in :mod:`spotify_otel.remediation`.
"""

from __future__ import annotations

import argparse
from typing import Any

from spotify_otel.cli import CommandError
from spotify_otel.remediation.config import RemediationConfigError, load_config
from spotify_otel.remediation.server import ServerUnavailable, serve

EPILOG = """\
Alertmanager side (alerts/alertmanager.yml):
  webhook_configs:
    - url: http://remediation:9095/webhook
      http_config:
        authorization: {type: Bearer, credentials_file: /etc/alertmanager/secrets/remediation_token}
Every decision is appended to the audit log named in the configuration (JSON lines).
"""


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``remediate`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "remediate",
        help="run the auto-remediation webhook service for Alertmanager",
        description="Receive Alertmanager webhooks and run the mapped remediation actions (deduplicated, "
        "rate limited, audited; commands never go through a shell).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", required=True, help="remediation configuration (YAML)")
    parser.add_argument("--host", help="address to listen on (default: listen.host or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: listen.port or 9095)")
    parser.add_argument("--dry-run", action="store_true", default=None,
                        help="decide and audit, but never execute an action")
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Validate the configuration, then serve until interrupted."""
    try:
        config = load_config(args.config)
    except RemediationConfigError as exc:
        raise CommandError(str(exc)) from exc
    if args.check:
        print(f"{args.config}: OK ({len(config.actions)} actions, {len(config.rules)} rules,"
              f" audit log {config.audit_log})")
        return 0
    try:
        serve(config, host=args.host, port=args.port, dry_run=args.dry_run, log_level=args.log_level)
    except ServerUnavailable as exc:
        raise CommandError(str(exc)) from exc
    return 0
