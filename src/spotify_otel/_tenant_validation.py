"""Tenant id validation: length and character set, with rejected values counted and warned about
at a limited rate. A rejected value never reaches an attribute."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

_logger = logging.getLogger("spotify_otel.tenant")

# Letters, digits, '.', '_' and '-', starting with a letter or digit: safe as a span attribute, a
# Prometheus label value, an Elasticsearch data stream namespace (after lower-casing) and a file name.
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

REASON_EMPTY = "empty"
REASON_TOO_LONG = "too_long"
REASON_CHARSET = "invalid_characters"


class TenantValidator:
    """Validates tenant ids; ``on_reject(reason, source)`` is called for every rejection."""

    def __init__(
        self,
        max_length: int = 64,
        on_reject: Callable[[str, str], None] | None = None,
        warn_interval: float = 60.0,
    ) -> None:
        self.max_length = max_length
        self.on_reject = on_reject
        self._warn_interval = warn_interval
        self._last_warning: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def reason(self, value: str) -> str | None:
        """Why ``value`` is not a valid tenant id, or ``None`` when it is valid."""
        if not value:
            return REASON_EMPTY
        if len(value) > self.max_length:
            return REASON_TOO_LONG
        if not _ALLOWED.fullmatch(value):
            return REASON_CHARSET
        return None

    def validate(self, value: str | None, source: str) -> str | None:
        """Return ``value`` if valid; otherwise count and (rate-limited) warn, and return ``None``."""
        if value is None:
            return None
        reason = self.reason(value)
        if reason is None:
            return value
        self._reject(reason, source)
        return None

    def _reject(self, reason: str, source: str) -> None:
        try:
            if self.on_reject is not None:
                self.on_reject(reason, source)
        except Exception:  # telemetry must never break the request
            _logger.debug("tenant rejection counter failed", exc_info=True)
        now = time.monotonic()
        key = f"{source}:{reason}"
        with self._lock:
            last = self._last_warning.get(key)
            if last is not None and now - last < self._warn_interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last_warning[key] = now
            suppressed = self._suppressed.pop(key, 0)
        # The value itself is never logged: it is attacker-controlled and may be huge.
        _logger.warning(
            "spotify-otel: rejected a tenant id from %s (%s); %d similar rejections suppressed since the last "
            "warning",
            source, reason, suppressed,
        )
