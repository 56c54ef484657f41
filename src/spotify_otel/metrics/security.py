"""Security signals: failed logins, authorization failures, API abuse detection and an audit trail.

Abuse detection: per tenant and client, a sliding window counts requests; when a client goes over
``threshold`` requests within ``window_seconds`` it produces **one** abuse event for that window (a
counter increment, a warning log and a span event), and no other until the window has passed. Memory is
bounded: at most ``threshold + 1`` timestamps per client and ``max_clients`` clients (least recently
seen evicted).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from opentelemetry import metrics, trace

from spotify_otel.metrics._labels import label_value, tenant_value
from spotify_otel.tenant import TENANT_ATTRIBUTE

_logger = logging.getLogger("spotify_otel.security")
audit_logger = logging.getLogger("spotify_otel.audit")


def _client_ref(client_id: str) -> str:
    """A short stable hash: client ids (IPs, API keys) never go into logs or attributes verbatim."""
    return hashlib.sha256(client_id.encode("utf-8", "replace")).hexdigest()[:16]


class SecurityMonitor:
    """Failed logins, authorization failures, abuse detection and audit records."""

    def __init__(self, threshold: int = 100, window_seconds: float = 60.0, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if threshold < 1 or window_seconds <= 0:
            raise ValueError("threshold must be >= 1 and window_seconds > 0")
        self.threshold = threshold
        self.window = window_seconds
        self.max_clients = max_clients
        self._clock = clock
        self._hits: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._fired_at: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        meter = metrics.get_meter("spotify_otel.security")
        self._logins = meter.create_counter("spotify.security.login.failures", unit="{attempt}",
                                            description="Failed login attempts.")
        self._authz = meter.create_counter("spotify.security.authorization.failures", unit="{attempt}",
                                           description="Authorization failures.")
        self._abuse = meter.create_counter("spotify.security.abuse.events", unit="{event}",
                                           description="API abuse detections (one per client and window).")

    def failed_login(self, reason: str = "bad_credentials", tenant_id: str | None = None) -> None:
        """Count a failed login."""
        self._logins.add(1, {"reason": label_value("spotify.security.login.failures", "reason", reason),
                             TENANT_ATTRIBUTE: tenant_value("spotify.security.login.failures", tenant_id)})

    def authorization_failure(self, action: str, tenant_id: str | None = None) -> None:
        """Count a refused action."""
        self._authz.add(1, {"action": label_value("spotify.security.authorization.failures", "action", action),
                            TENANT_ATTRIBUTE: tenant_value("spotify.security.authorization.failures", tenant_id)})

    def observe_request(self, client_id: str, tenant_id: str | None = None, rule: str = "rate") -> bool:
        """Record one request from ``client_id``; returns True when this request triggered an abuse event."""
        tenant = tenant_value("spotify.security.abuse.events", tenant_id)
        key = (tenant, client_id)
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque(maxlen=self.threshold + 1)
                while len(self._hits) > self.max_clients:
                    evicted, _ = self._hits.popitem(last=False)
                    self._fired_at.pop(evicted, None)
            else:
                self._hits.move_to_end(key)
            hits.append(now)
            while hits and now - hits[0] > self.window:
                hits.popleft()
            over = len(hits) > self.threshold
            last = self._fired_at.get(key)
            fire = over and (last is None or now - last >= self.window)
            if fire:
                self._fired_at[key] = now
        if fire:
            self._report_abuse(tenant, client_id, rule)
        return fire

    def _report_abuse(self, tenant: str, client_id: str, rule: str) -> None:
        ref = _client_ref(client_id)
        self._abuse.add(1, {"rule": label_value("spotify.security.abuse.events", "rule", rule),
                            TENANT_ATTRIBUTE: tenant})
        _logger.warning("API abuse detected: more than %d requests in %.0f s", self.threshold, self.window,
                        extra={"security.client_ref": ref, "security.rule": rule})
        span = trace.get_current_span()
        if span.is_recording():
            span.add_event("security.abuse", {"security.client_ref": ref, "security.rule": rule,
                                              TENANT_ATTRIBUTE: tenant})

    def audit(self, actor: str, action: str, outcome: str = "success", tenant_id: str | None = None,
              **details: str | int | float | bool) -> None:
        """Write an audit-trail log record (logger ``spotify_otel.audit``): actor, action, tenant, outcome."""
        attributes: dict[str, str | int | float | bool] = {
            "audit.actor": str(actor)[:256], "audit.action": str(action)[:256], "audit.outcome": str(outcome)[:64],
            "audit.tenant": tenant_value("spotify.security.audit", tenant_id),
        }
        attributes.update({f"audit.{key}": value for key, value in details.items()})
        audit_logger.info("audit: %s %s -> %s", attributes["audit.actor"], attributes["audit.action"],
                          attributes["audit.outcome"], extra=attributes)
