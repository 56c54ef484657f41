"""Remediation actions: a command (argv list, never a shell) or a registered Python callable.

Register a callable before loading the configuration::

    from spotify_otel.remediation import ActionContext, register_action

    @register_action("flush-tenant-cache")
    def flush(ctx: ActionContext) -> str:
        cache.flush(ctx.labels["tenant_id"])
        return "flushed"

and refer to it as ``callable: flush-tenant-cache`` (or by import path, ``callable: pkg.mod:func``).
Commands get the alert as JSON on stdin, a minimal environment (PATH, HOME, LANG, LC_ALL, TZ plus the
action's ``env``) and run in their own process group, killed when the timeout expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_logger = logging.getLogger("spotify_otel.remediation")
OUTPUT_LIMIT = 2000
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class ActionContext:
    """What a Python action receives: the alert that triggered it."""

    alertname: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    fingerprint: str
    status: str
    starts_at: str


ActionCallable = Callable[[ActionContext], "str | Awaitable[str | None] | None"]
_REGISTRY: dict[str, ActionCallable] = {}


def register_action(name: str) -> Callable[[ActionCallable], ActionCallable]:
    """Decorator registering ``func`` as the Python action ``name`` (referenced by ``callable: name``)."""

    def decorator(func: ActionCallable) -> ActionCallable:
        _REGISTRY[name] = func
        return func

    return decorator


def registered_action(name: str) -> ActionCallable | None:
    """The callable registered as ``name``, if any."""
    return _REGISTRY.get(name)


@register_action("log")
def log_alert(ctx: ActionContext) -> str:
    """Built-in action: log the alert (useful as a first, harmless mapping)."""
    _logger.warning("remediation requested for %s (%s): %s", ctx.alertname, ctx.fingerprint, dict(ctx.labels))
    return f"logged {ctx.alertname}"


@dataclass(frozen=True)
class ActionResult:
    """How an action run ended: ``succeeded``, ``failed``, ``timeout`` or ``error`` (could not start)."""

    outcome: str
    duration_ms: float
    exit_code: int | None = None
    output: str = ""
    error: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


def _tail(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text[-OUTPUT_LIMIT:]


async def run_command(
    argv: Sequence[str], stdin: bytes, timeout: float, env: Mapping[str, str], cwd: Path
) -> ActionResult:
    """Execute ``argv`` directly (no shell) with ``stdin``; kill its process group after ``timeout``."""
    environment = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
    environment.update(env)
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=environment,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        return ActionResult("error", _ms(started), error=f"cannot execute {argv[0]!r}: {exc.strerror or exc}")
    try:
        output, _ = await asyncio.wait_for(process.communicate(stdin), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        error = f"killed after {timeout:g} s"
        return ActionResult("timeout", _ms(started), exit_code=process.returncode, error=error)
    outcome = "succeeded" if process.returncode == 0 else "failed"
    return ActionResult(outcome, _ms(started), exit_code=process.returncode, output=_tail(output))


async def run_callable(func: ActionCallable, ctx: ActionContext, timeout: float) -> ActionResult:
    """Call ``func(ctx)`` (a coroutine function, or a plain function in a worker thread)."""
    started = time.monotonic()
    try:
        if inspect.iscoroutinefunction(func):
            value = await asyncio.wait_for(func(ctx), timeout)
        else:
            value = await asyncio.wait_for(asyncio.to_thread(func, ctx), timeout)
            if inspect.isawaitable(value):
                value = await asyncio.wait_for(value, timeout)
    except TimeoutError:
        # A thread cannot be killed: it finishes in the background, its result is discarded.
        return ActionResult("timeout", _ms(started), error=f"no result after {timeout:g} s")
    except Exception as exc:
        return ActionResult("failed", _ms(started), error=f"{type(exc).__name__}: {exc}")
    return ActionResult("succeeded", _ms(started), output=_tail("" if value is None else str(value)))


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
