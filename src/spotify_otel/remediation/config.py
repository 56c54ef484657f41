"""Load and validate the remediation configuration (``remediation.yaml``).

Format::

    listen: {host: 127.0.0.1, port: 9095}   # optional; the CLI flags override it
    auth:                                   # the bearer token Alertmanager sends (one of):
      token_file: /run/secrets/remediation_token
      # token_env: REMEDIATION_TOKEN
    audit_log: /var/log/spotify-otel/remediation.jsonl
    dry_run: false                          # decide and audit, never execute
    dedup_window: 1h                        # one run per alert fingerprint within this window
    actions:
      restart-collector:
        command: [kubectl, rollout, restart, deployment/otel-collector]
        timeout: 60s
      shed-tenant:
        command: [/opt/runbooks/shed-tenant, --tenant, "{labels.tenant_id}"]
        label_pattern: "[a-z0-9-]{1,64}"    # what a label used in the arguments may look like
      note:
        callable: log                       # registered name or "package.module:function"
    rules:                                  # first match wins
      - alertname: HighErrorRatio
        match: {severity: critical}         # optional: further labels that must be equal
        action: shed-tenant
        rate_limit: {max: 3, per: 1h}       # default: 3 runs per hour per rule

Relative paths (token_file, audit_log, a command path containing '/') are relative to the
configuration file. Every error names the field, the value and what is accepted.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotify_otel._durations import parse_seconds
from spotify_otel.remediation.actions import ActionCallable, registered_action
from spotify_otel.remediation.payload import Alert
from spotify_otel.remediation.templating import DEFAULT_LABEL_PATTERN, TemplateError, placeholders

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
MIN_TOKEN_LENGTH = 16
_TOP_LEVEL = {
    "listen", "auth", "audit_log", "dry_run", "dedup_window", "max_body_bytes", "max_concurrent", "actions",
    "rules",
}


class RemediationConfigError(ValueError):
    """The remediation configuration is invalid; the message names the field and what is accepted."""


@dataclass(frozen=True)
class ActionSpec:
    """A configured action: ``command`` (argv templates) or ``func`` (a Python callable)."""

    name: str
    timeout: float
    command: tuple[str, ...] = ()
    func: ActionCallable | None = None
    callable_ref: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    label_pattern: re.Pattern[str] = re.compile(DEFAULT_LABEL_PATTERN)
    cwd: Path = Path()


@dataclass(frozen=True)
class RateLimit:
    """At most ``max_runs`` executions per ``period`` seconds."""

    max_runs: int
    period: float


@dataclass(frozen=True)
class Rule:
    """Maps alerts (by alertname and optional label equalities) to an action."""

    index: int
    alertname: str
    action: str
    match: Mapping[str, str]
    rate_limit: RateLimit

    def matches(self, alert: Alert) -> bool:
        """Whether ``alert`` is selected by this rule."""
        if alert.alertname != self.alertname:
            return False
        return all(alert.labels.get(k) == v for k, v in self.match.items())


@dataclass(frozen=True)
class RemediationConfig:
    """A validated configuration. The token never appears in ``repr``."""

    token: str = field(repr=False)
    audit_log: Path
    actions: Mapping[str, ActionSpec]
    rules: tuple[Rule, ...]
    dry_run: bool = False
    dedup_window: float = 3600.0
    max_body_bytes: int = 1 << 20
    max_concurrent: int = 4
    host: str = "127.0.0.1"
    port: int = 9095

    def rule_for(self, alert: Alert) -> Rule | None:
        """The first rule matching ``alert``."""
        return next((rule for rule in self.rules if rule.matches(alert)), None)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> RemediationConfig:
    """Read and validate the YAML file at ``path`` (raises :class:`RemediationConfigError`)."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - PyYAML ships with the dev extra
        raise RemediationConfigError("reading the configuration needs PyYAML: pip install pyyaml") from exc
    source = Path(path)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RemediationConfigError(f"cannot read {source}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RemediationConfigError(f"{source} is not valid YAML: {exc}") from exc
    return parse_config(document, base=source.parent, environ=os.environ if environ is None else environ)


def parse_config(document: Any, base: Path, environ: Mapping[str, str]) -> RemediationConfig:
    """Validate a parsed configuration; relative paths resolve against ``base``."""
    root = _mapping(document, "the document", _TOP_LEVEL)
    listen = _mapping(root.get("listen", {}), "listen", {"host", "port"})
    actions_doc = _mapping(root.get("actions"), "actions", None)
    actions = {name: _action(name, spec, base) for name, spec in actions_doc.items()}
    rules_doc = root.get("rules")
    if not isinstance(rules_doc, list) or not rules_doc:
        raise RemediationConfigError("rules: must be a non-empty list")
    rules = tuple(_rule(i, item, actions) for i, item in enumerate(rules_doc))
    audit_log = root.get("audit_log")
    if not isinstance(audit_log, str) or not audit_log:
        raise RemediationConfigError(f"audit_log: {audit_log!r} must be a file path")
    return RemediationConfig(
        token=_token(root.get("auth"), base, environ),
        audit_log=base / audit_log,
        actions=actions,
        rules=rules,
        dry_run=_bool(root.get("dry_run", False), "dry_run"),
        dedup_window=duration(root.get("dedup_window", "1h"), "dedup_window"),
        max_body_bytes=_int(root.get("max_body_bytes", 1 << 20), "max_body_bytes", 1024, 64 << 20),
        max_concurrent=_int(root.get("max_concurrent", 4), "max_concurrent", 1, 256),
        host=str(listen.get("host", "127.0.0.1")),
        port=_int(listen.get("port", 9095), "listen.port", 0, 65535),
    )


def duration(value: Any, where: str) -> float:
    """Seconds from ``30s``, ``10m``, ``1h``, ``500ms`` or a number of seconds (> 0)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    seconds = parse_seconds(value) if isinstance(value, str) else None
    if seconds is None or seconds <= 0:
        raise RemediationConfigError(f"{where}: {value!r} is not a positive duration like 30s, 10m or 1h")
    return seconds


def _mapping(value: Any, where: str, allowed: set[str] | None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RemediationConfigError(f"{where}: must be a mapping, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if allowed is not None and k not in allowed)
    if unknown:
        accepted = sorted(allowed or ())
        raise RemediationConfigError(f"{where}: unknown field(s) {unknown}; accepted: {accepted}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise RemediationConfigError(f"{where}: {value!r} must be true or false")
    return value


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RemediationConfigError(f"{where}: {value!r} must be an integer from {low} to {high}")
    return value


def _token(value: Any, base: Path, environ: Mapping[str, str]) -> str:
    auth = _mapping(value, "auth", {"token_file", "token_env"})
    if len(auth) != 1:
        raise RemediationConfigError("auth: give exactly one of token_file or token_env (token required)")
    if "token_file" in auth:
        path = base / str(auth["token_file"])
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            reason = exc.strerror or exc
            raise RemediationConfigError(f"auth.token_file: cannot read {path}: {reason}") from exc
        where = f"auth.token_file ({path})"
    else:
        name = str(auth["token_env"])
        token = environ.get(name, "").strip()
        where = f"auth.token_env ({name})"
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise RemediationConfigError(
            f"{where}: the token must be at least {MIN_TOKEN_LENGTH} characters without whitespace"
        )
    return token


def _action(name: Any, value: Any, base: Path) -> ActionSpec:
    where = f"actions.{name}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RemediationConfigError(f"actions: {name!r} is not a valid action name (letters, digits, . _ -)")
    spec = _mapping(value, where, {"command", "callable", "timeout", "env", "label_pattern"})
    if ("command" in spec) == ("callable" in spec):
        raise RemediationConfigError(f"{where}: give exactly one of command (argv list) or callable")
    timeout = duration(spec.get("timeout", "30s"), f"{where}.timeout")
    try:
        pattern = re.compile(str(spec.get("label_pattern", DEFAULT_LABEL_PATTERN)))
    except re.error as exc:
        raise RemediationConfigError(f"{where}.label_pattern: invalid regular expression: {exc}") from exc
    env = _mapping(spec.get("env", {}), f"{where}.env", None)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise RemediationConfigError(f"{where}.env: must map variable names to strings")
    if "callable" in spec:
        ref = spec["callable"]
        return ActionSpec(name, timeout, func=_resolve_callable(ref, where), callable_ref=str(ref), env=env,
                          label_pattern=pattern, cwd=base)
    command = spec["command"]
    if isinstance(command, str):
        raise RemediationConfigError(
            f"{where}.command: {command!r} is a string; give a list of arguments (no shell is ever used)"
        )
    if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
        raise RemediationConfigError(f"{where}.command: must be a non-empty list of non-empty strings")
    for argument in command:
        try:
            placeholders(argument)
        except TemplateError as exc:
            raise RemediationConfigError(f"{where}.command: {exc}") from None
    if placeholders(command[0]):
        raise RemediationConfigError(f"{where}.command: the program {command[0]!r} cannot use alert labels")
    program = command[0]
    if "/" in program and not Path(program).is_absolute():
        program = str(base / program)
    argv = (program, *command[1:])
    return ActionSpec(name, timeout, command=argv, env=env, label_pattern=pattern, cwd=base)


def _resolve_callable(ref: Any, where: str) -> ActionCallable:
    if not isinstance(ref, str) or not ref:
        raise RemediationConfigError(f"{where}.callable: {ref!r} must be a registered name or module:attr")
    if ":" not in ref:
        registered = registered_action(ref)
        if registered is None:
            raise RemediationConfigError(f"{where}.callable: no action registered as {ref!r}")
        return registered
    module_name, _, attribute = ref.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise RemediationConfigError(f"{where}.callable: cannot import {ref!r}: {exc}") from exc
    if not callable(target):
        raise RemediationConfigError(f"{where}.callable: {ref!r} is not callable")
    func: ActionCallable = target
    return func


def _rule(index: int, value: Any, actions: Mapping[str, ActionSpec]) -> Rule:
    where = f"rules[{index}]"
    item = _mapping(value, where, {"alertname", "match", "action", "rate_limit"})
    alertname = item.get("alertname")
    if not isinstance(alertname, str) or not alertname:
        raise RemediationConfigError(f"{where}.alertname: {alertname!r} must be an alert name")
    action = item.get("action")
    if action not in actions:
        defined = sorted(actions)
        raise RemediationConfigError(f"{where}.action: {action!r} is not defined under actions {defined}")
    match = _mapping(item.get("match", {}), f"{where}.match", None)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in match.items()):
        raise RemediationConfigError(f"{where}.match: must map label names to string values")
    limit = _mapping(item.get("rate_limit", {"max": 3, "per": "1h"}), f"{where}.rate_limit", {"max", "per"})
    rate = RateLimit(_int(limit.get("max"), f"{where}.rate_limit.max", 1, 10_000),
                     duration(limit.get("per"), f"{where}.rate_limit.per"))
    return Rule(index, alertname, str(action), dict(match), rate)
