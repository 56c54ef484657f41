"""The remediation engine: decide what to do with each alert, audit it, run the action in the background.

Decision order for each alert of a webhook notification:

1. ``ignored``       - the alert is resolved (only firing alerts are remediated);
2. ``no_match``      - no rule maps its alertname (and labels) to an action;
3. ``rejected``      - a label the action's arguments use is missing or unsafe (argument injection);
4. ``deduplicated``  - the same fingerprint was handled within ``dedup_window``;
5. ``rate_limited``  - the rule already ran ``max`` times within ``per``;
6. ``dry_run``       - everything passed, but the service runs with dry_run (nothing executes);
7. ``scheduled``     - the action starts; its ``result`` record follows when it ends.

Decisions are taken synchronously on the event loop, so two deliveries of one alert cannot both
pass the deduplication step.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

from spotify_otel.remediation.actions import ActionContext, ActionResult, run_callable, run_command
from spotify_otel.remediation.audit import AuditLog
from spotify_otel.remediation.config import ActionSpec, RemediationConfig, Rule
from spotify_otel.remediation.payload import Alert
from spotify_otel.remediation.policy import Deduplicator, RateLimiter
from spotify_otel.remediation.templating import UnsafeValueError, render_argv

_logger = logging.getLogger("spotify_otel.remediation")


@dataclass(frozen=True)
class Decision:
    """What was decided for one alert (also the body of its audit record)."""

    decision: str
    reason: str
    alertname: str
    fingerprint: str
    action: str = ""
    rule: int | None = None
    argv: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (argv as a list, empty fields dropped)."""
        data = asdict(self)
        data["argv"] = list(self.argv)
        return {k: v for k, v in data.items() if v not in ("", None, [])}


class Remediator:
    """Applies a :class:`RemediationConfig` to incoming alerts."""

    def __init__(self, config: RemediationConfig, audit: AuditLog) -> None:
        self.config = config
        self.audit = audit
        self._dedup = Deduplicator(config.dedup_window)
        self._limits = RateLimiter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None

    def handle(self, alerts: list[Alert], remote: str) -> list[Decision]:
        """Decide, audit and schedule each alert; raises OSError if the audit log cannot be written."""
        decisions = []
        for alert in alerts:
            decision, spec = self._decide(alert)
            self.audit.write("decision", remote=remote, status=alert.status, labels=dict(alert.labels),
                             **decision.to_dict())
            decisions.append(decision)
            if decision.decision == "scheduled" and spec is not None:
                self._start(spec, decision, alert)
        return decisions

    def _decide(self, alert: Alert) -> tuple[Decision, ActionSpec | None]:
        decision = Decision("", "", alert.alertname, alert.fingerprint)
        if alert.status != "firing":
            return replace(decision, decision="ignored", reason="resolved alerts are not remediated"), None
        rule = self.config.rule_for(alert)
        if rule is None:
            return replace(decision, decision="no_match", reason="no rule maps this alert to an action"), None
        spec = self.config.actions[rule.action]
        decision = replace(decision, action=spec.name, rule=rule.index)
        try:
            argv = tuple(render_argv(spec.command, alert.labels, alert.fingerprint, spec.label_pattern))
        except UnsafeValueError as exc:
            return replace(decision, decision="rejected", reason=str(exc)), None
        decision = replace(decision, argv=argv)
        if self._dedup.seen(alert.fingerprint):
            reason = f"fingerprint already handled within {self.config.dedup_window:g} s"
            return replace(decision, decision="deduplicated", reason=reason), None
        key, limit = _rate_key(rule), rule.rate_limit
        if not self._limits.allow(key, limit.max_runs, limit.period):
            reason = f"rule {rule.index} already ran {limit.max_runs} time(s) within {limit.period:g} s"
            return replace(decision, decision="rate_limited", reason=reason), None
        self._dedup.record(alert.fingerprint)
        self._limits.record(key)
        if self.config.dry_run:
            return replace(decision, decision="dry_run", reason="dry run: the action would run now"), None
        return replace(decision, decision="scheduled", reason="action started"), spec

    def _start(self, spec: ActionSpec, decision: Decision, alert: Alert) -> None:
        task = asyncio.get_running_loop().create_task(self._run(spec, decision, alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, spec: ActionSpec, decision: Decision, alert: Alert) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_concurrent)
        async with self._slots:
            context = ActionContext(
                alert.alertname, dict(alert.labels), dict(alert.annotations), alert.fingerprint, alert.status,
                alert.starts_at,
            )
            if spec.func is not None:
                result = await run_callable(spec.func, context, spec.timeout)
            else:
                stdin = json.dumps(asdict(context)).encode()
                result = await run_command(decision.argv, stdin, spec.timeout, spec.env, spec.cwd)
        self._record_result(decision, result)

    def _record_result(self, decision: Decision, result: ActionResult) -> None:
        fields = {k: v for k, v in asdict(result).items() if v not in ("", None, {})}
        try:
            self.audit.write("result", alertname=decision.alertname, fingerprint=decision.fingerprint,
                             action=decision.action, rule=decision.rule, **fields)
        except OSError:
            _logger.exception("cannot audit the result of %s (%s)", decision.action, decision.fingerprint)

    @property
    def running(self) -> int:
        """Actions currently running or waiting for a slot."""
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for running actions (called on shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


def _rate_key(rule: Rule) -> str:
    return f"rule-{rule.index}"
