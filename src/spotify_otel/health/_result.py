"""Typed results of the health checks and the canary, and the report that gathers them.

``HealthReport.to_dict()`` is the documented ``--json`` schema (``docs/health.md``); bump
``SCHEMA_VERSION`` on any incompatible change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


class Status(enum.StrEnum):
    """Outcome of one check or one canary signal."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    """The result of probing one component.

    Attributes:
        component: the component name (``otlp-grpc``, ``prometheus``, ...).
        status: healthy, unhealthy or skipped.
        latency_ms: wall time the probe took, in milliseconds.
        reason: one human-readable line, e.g. ``"HTTP 503 from /-/ready"``.
        endpoint: the URL probed (credentials removed).
        details: extra facts the probe learned (versions, cluster status, ...).
        required: whether this component's failure fails the exit code.
    """

    component: str
    status: Status
    latency_ms: float
    reason: str
    endpoint: str
    details: dict[str, Any] = field(default_factory=dict)
    required: bool = False

    @property
    def healthy(self) -> bool:
        """True when the status is healthy."""
        return self.status is Status.HEALTHY

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this result."""
        return {
            "component": self.component,
            "status": self.status.value,
            "required": self.required,
            "latency_ms": round(self.latency_ms, 1),
            "reason": self.reason,
            "endpoint": self.endpoint,
            "details": self.details,
        }


@dataclass(frozen=True)
class SendResult:
    """Whether one canary signal was accepted by the OTLP endpoint."""

    signal: str
    ok: bool
    reason: str
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this result."""
        return {"ok": self.ok, "reason": self.reason, "latency_ms": round(self.latency_ms, 1)}


@dataclass(frozen=True)
class SignalResult:
    """Whether one canary signal was found in its backend, and how long it took to get there.

    ``delay_ms`` is the end-to-end delay from just before sending to the poll that found it.
    """

    signal: str
    backend: str
    status: Status
    found: bool
    delay_ms: float | None
    reason: str
    endpoint: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this result."""
        return {
            "signal": self.signal,
            "backend": self.backend,
            "status": self.status.value,
            "found": self.found,
            "delay_ms": None if self.delay_ms is None else round(self.delay_ms, 1),
            "reason": self.reason,
            "endpoint": self.endpoint,
            "details": self.details,
        }


@dataclass(frozen=True)
class CanaryReport:
    """Everything the canary did: what it sent and what each backend showed."""

    canary_id: str
    protocol: str
    endpoint: str
    timeout_s: float
    sent: tuple[SendResult, ...]
    signals: tuple[SignalResult, ...]

    @property
    def healthy(self) -> bool:
        """True when every signal that was not skipped was found."""
        return all(s.status is not Status.UNHEALTHY for s in self.signals)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this report."""
        return {
            "canary_id": self.canary_id,
            "healthy": self.healthy,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "timeout_s": self.timeout_s,
            "sent": {s.signal: s.to_dict() for s in self.sent},
            "signals": [s.to_dict() for s in self.signals],
        }


@dataclass(frozen=True)
class HealthReport:
    """The whole run: every check, the canary if requested, and the overall verdict."""

    checks: tuple[CheckResult, ...]
    canary: CanaryReport | None
    timestamp: str
    duration_ms: float

    @property
    def healthy(self) -> bool:
        """True when every required check is healthy and, if run, the canary found every signal."""
        checks_ok = all(c.healthy for c in self.checks if c.required)
        return checks_ok and (self.canary is None or self.canary.healthy)

    @property
    def exit_code(self) -> int:
        """0 when healthy, 1 otherwise."""
        return 0 if self.healthy else 1

    def to_dict(self) -> dict[str, Any]:
        """The documented ``--json`` document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "healthy": self.healthy,
            "timestamp": self.timestamp,
            "duration_ms": round(self.duration_ms, 1),
            "required": [c.component for c in self.checks if c.required],
            "checks": [c.to_dict() for c in self.checks],
            "canary": None if self.canary is None else self.canary.to_dict(),
        }
