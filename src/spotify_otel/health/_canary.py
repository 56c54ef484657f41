"""The end-to-end canary: send a tagged span, metric point and log record, then find them.

Signals go through the OTLP endpoint (gRPC by default, OTLP/HTTP with ``--protocol
http/protobuf``). Each signal that was accepted is then looked for in its backend (traces: Jaeger,
metrics: Prometheus, logs: Elasticsearch) by one thread polling every ``POLL_INTERVAL_S`` until it
is found or ``--canary-timeout`` (counted from the send) has passed. Nothing here raises.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from spotify_otel.health._canary_data import Canary, build
from spotify_otel.health._canary_poll import poll_elasticsearch, poll_jaeger, poll_prometheus
from spotify_otel.health._checks import elasticsearch_headers
from spotify_otel.health._config import HealthConfig
from spotify_otel.health._http import ProbeError, display_url
from spotify_otel.health._otlp import export
from spotify_otel.health._result import CanaryReport, SendResult, SignalResult, Status

POLL_INTERVAL_S = 0.5
BACKENDS = {"traces": "jaeger", "metrics": "prometheus", "logs": "elasticsearch"}

Poller = Callable[..., tuple[bool, dict[str, Any]]]


def _poller(signal: str, config: HealthConfig) -> Poller:
    if signal == "traces":
        return poll_jaeger
    if signal == "metrics":
        return poll_prometheus
    return functools.partial(
        poll_elasticsearch, index=config.elasticsearch_index, headers=elasticsearch_headers(config)
    )


def _send(signal: str, canary: Canary, config: HealthConfig, endpoint: str) -> SendResult:
    start = time.monotonic()
    try:
        export(config.protocol, endpoint, build(signal, canary), timeout=config.timeout)
        ok, reason = True, "accepted"
    except ProbeError as exc:
        ok, reason = False, str(exc)
    except Exception as exc:  # never let a send bug escape
        ok, reason = False, f"unexpected {type(exc).__name__}: {exc}"
    return SendResult(signal, ok, reason, (time.monotonic() - start) * 1000.0)


def _watch(signal: str, canary: Canary, config: HealthConfig, sent_at: float, stop: threading.Event) -> SignalResult:
    """Poll the signal's backend until found or the deadline; returns the signal's result."""
    backend = BACKENDS[signal]
    base = config.endpoints[backend]
    poll = _poller(signal, config)
    deadline = sent_at + config.canary_timeout
    last_error = ""
    polls = 0
    details: dict[str, Any] = {}
    while True:
        polls += 1
        try:
            timeout = max(0.1, min(config.timeout, deadline - time.monotonic()))
            found, details = poll(base, canary, timeout=timeout)
        except ProbeError as exc:
            found, last_error = False, str(exc)
        except Exception as exc:  # an unexpected answer shape: keep polling, remember why
            found, last_error = False, f"unexpected {type(exc).__name__}: {exc}"
        now = time.monotonic()
        if found:
            delay = (now - sent_at) * 1000.0
            return SignalResult(
                signal,
                backend,
                Status.HEALTHY,
                True,
                delay,
                f"found after {delay:.0f} ms",
                display_url(base),
                {**details, "polls": polls},
            )
        if now >= deadline or stop.is_set():
            suffix = f" (last error: {last_error})" if last_error else ""
            reason = f"not found in {backend} within {config.canary_timeout:.1f} s{suffix}"
            return SignalResult(
                signal,
                backend,
                Status.UNHEALTHY,
                False,
                None,
                reason,
                display_url(base),
                {**details, "polls": polls},
            )
        stop.wait(min(POLL_INTERVAL_S, deadline - now))


def run_canary(config: HealthConfig, stop: threading.Event | None = None) -> CanaryReport:
    """Send the canary signals and wait (at most ``config.canary_timeout``) for every backend."""
    stop = stop or threading.Event()
    canary = Canary.new()
    endpoint = config.endpoints["otlp-grpc" if config.protocol == "grpc" else "otlp-http"]
    sent: list[SendResult] = []
    results: dict[str, SignalResult] = {}
    threads: list[threading.Thread] = []
    for signal in config.canary_signals:
        sent_at = time.monotonic()
        outcome = _send(signal, canary, config, endpoint)
        sent.append(outcome)
        backend = BACKENDS[signal]
        if not outcome.ok:
            results[signal] = SignalResult(
                signal,
                backend,
                Status.UNHEALTHY,
                False,
                None,
                f"not sent: {outcome.reason}",
                display_url(config.endpoints[backend]),
            )
            continue

        def watch(signal: str = signal, sent_at: float = sent_at) -> None:
            results[signal] = _watch(signal, canary, config, sent_at, stop)

        thread = threading.Thread(target=watch, name=f"canary-{signal}", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(config.canary_timeout + config.timeout + 1.0)
    signals = []
    for signal in ("traces", "metrics", "logs"):
        backend = BACKENDS[signal]
        url = display_url(config.endpoints[backend])
        if signal not in config.canary_signals:
            signals.append(SignalResult(signal, backend, Status.SKIPPED, False, None, "not selected", url))
        else:
            signals.append(
                results.get(signal)
                or SignalResult(signal, backend, Status.UNHEALTHY, False, None, "poller did not finish", url)
            )
    return CanaryReport(
        canary_id=canary.canary_id,
        protocol=config.protocol,
        endpoint=display_url(endpoint),
        timeout_s=config.canary_timeout,
        sent=tuple(sent),
        signals=tuple(signals),
    )
