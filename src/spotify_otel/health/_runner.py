"""Run the selected checks concurrently, each bounded by ``--timeout``.

Every check runs in its own daemon thread; the runner waits at most ``timeout + grace`` in total, so
the whole run takes about the slowest check, not the sum. A check still running at the bound is
reported as timed out (its daemon thread cannot block interpreter exit). No exception escapes: an
unexpected error becomes an unhealthy result naming it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from spotify_otel.health._canary import BACKENDS, run_canary
from spotify_otel.health._checks import CHECKS, Outcome, Probe
from spotify_otel.health._config import HealthConfig
from spotify_otel.health._http import ProbeError, display_url
from spotify_otel.health._result import CanaryReport, CheckResult, HealthReport, SignalResult, Status

GRACE_S = 0.5


def _timed_out(config: HealthConfig) -> str:
    return f"timed out after {config.timeout:.1f} s"


def run_one(component: str, config: HealthConfig, check: Callable[[Probe], Outcome] | None = None) -> CheckResult:
    """Run one check synchronously and return its typed result (never raises)."""
    endpoint = config.endpoints[component]
    check = check or CHECKS[component]
    start = time.monotonic()
    probe = Probe(endpoint=endpoint, config=config, deadline=start + config.timeout)
    try:
        outcome = check(probe)
    except ProbeError as exc:
        reason = _timed_out(config) if str(exc).startswith("timed out") else str(exc)
        outcome = Outcome(False, reason)
    except Exception as exc:  # a probe bug or an unexpected answer must not crash the run
        outcome = Outcome(False, f"unexpected {type(exc).__name__}: {exc}")
    return CheckResult(
        component=component,
        status=Status.HEALTHY if outcome.healthy else Status.UNHEALTHY,
        latency_ms=(time.monotonic() - start) * 1000.0,
        reason=outcome.reason,
        endpoint=display_url(endpoint),
        details=outcome.details,
        required=component in config.required,
    )


def run_checks(config: HealthConfig) -> tuple[CheckResult, ...]:
    """Run every check in ``config.checks`` concurrently; results come back in component order."""
    results: dict[str, CheckResult] = {}
    lock = threading.Lock()

    def worker(component: str) -> None:
        result = run_one(component, config)
        with lock:
            results[component] = result

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(c,), name=f"health-{c}", daemon=True) for c in config.checks]
    for thread in threads:
        thread.start()
    bound = start + config.timeout + GRACE_S
    for thread in threads:
        thread.join(max(0.0, bound - time.monotonic()))
    ordered = []
    with lock:
        for component in config.checks:
            ordered.append(
                results.get(component)
                or CheckResult(
                    component=component,
                    status=Status.UNHEALTHY,
                    latency_ms=(time.monotonic() - start) * 1000.0,
                    reason=_timed_out(config),
                    endpoint=display_url(config.endpoints[component]),
                    required=component in config.required,
                )
            )
    return tuple(ordered)


def run_health(config: HealthConfig) -> HealthReport:
    """Run the selected checks and, with ``config.canary``, the canary at the same time."""
    started = time.monotonic()
    timestamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    canary_box: list[CanaryReport] = []
    canary_thread = None
    if config.canary:
        canary_thread = threading.Thread(
            target=lambda: canary_box.append(run_canary(config)), name="health-canary", daemon=True
        )
        canary_thread.start()
    checks = run_checks(config)
    if canary_thread is not None:
        # sends (3 x timeout) + polling (canary_timeout + one last poll) bound the canary
        canary_thread.join(config.canary_timeout + 4 * config.timeout + GRACE_S)
    canary = canary_box[0] if canary_box else None
    if config.canary and canary is None:  # cannot happen unless a thread hangs: report, never hang
        overran = tuple(
            SignalResult(s, BACKENDS[s], Status.UNHEALTHY, False, None, "canary did not finish", "")
            for s in config.canary_signals
        )
        canary = CanaryReport("", config.protocol, "", config.canary_timeout, (), overran)
    return HealthReport(
        checks=checks,
        canary=canary,
        timestamp=timestamp,
        duration_ms=(time.monotonic() - started) * 1000.0,
    )
