"""Auto-remediation: an Alertmanager webhook receiver that runs mapped actions, safely and audited.

Usage::

    spotify-otel remediate --config alerts/remediation.yaml [--host 127.0.0.1] [--port 9095] [--dry-run]

or in Python (any ASGI server)::

    from spotify_otel.remediation import create_app, load_config

    app = create_app(load_config("alerts/remediation.yaml"))

Alertmanager posts to ``/webhook`` with a bearer token (``http_config.authorization``). Each firing
alert is matched to an action (a command run without a shell, labels only as whole, validated
arguments; or a registered Python callable), deduplicated by fingerprint, rate limited per rule,
optionally only simulated (dry run), and every decision and result lands in a JSON-lines audit log.
Configuration format: :mod:`spotify_otel.remediation.config`.
"""

from __future__ import annotations

from spotify_otel.remediation.actions import ActionContext, ActionResult, register_action
from spotify_otel.remediation.app import RemediationApp, create_app
from spotify_otel.remediation.audit import AuditLog, read_audit
from spotify_otel.remediation.config import (
    ActionSpec,
    RateLimit,
    RemediationConfig,
    RemediationConfigError,
    Rule,
    load_config,
    parse_config,
)
from spotify_otel.remediation.engine import Decision, Remediator
from spotify_otel.remediation.payload import Alert, PayloadError, parse_payload
from spotify_otel.remediation.server import serve

__all__ = [
    "ActionContext",
    "ActionResult",
    "ActionSpec",
    "Alert",
    "AuditLog",
    "Decision",
    "PayloadError",
    "RateLimit",
    "RemediationApp",
    "RemediationConfig",
    "RemediationConfigError",
    "Remediator",
    "Rule",
    "create_app",
    "load_config",
    "parse_config",
    "parse_payload",
    "read_audit",
    "register_action",
    "serve",
]
