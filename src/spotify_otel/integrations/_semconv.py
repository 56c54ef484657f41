"""Make the contrib HTTP instrumentations use the stable HTTP semantic conventions on spans.

Without ``OTEL_SEMCONV_STABILITY_OPT_IN=http`` they emit the old attribute names. The variable is read
once, at first use; if the user set it, their choice stands. Otherwise we select the stable mode through
the instrumentation package's own switch (no environment mutation)."""

from __future__ import annotations

import functools
import logging
import os

from opentelemetry.util.http import detect_synthetic_user_agent

_logger = logging.getLogger("spotify_otel.integrations")


@functools.lru_cache(maxsize=256)  # bounded: clients choose user agents
def synthetic_type(user_agent: str) -> str | None:
    """``user_agent.synthetic.type`` of a user agent (``bot``, ``test``, or ``None``), as the contrib
    instrumentations detect it."""
    return detect_synthetic_user_agent(user_agent)


def use_stable_http_semconv() -> None:
    """Select stable HTTP semantic conventions unless the user chose a mode."""
    if os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN"):
        return
    try:
        from opentelemetry.instrumentation._semconv import (
            _OpenTelemetrySemanticConventionStability as Stability,
        )
        from opentelemetry.instrumentation._semconv import (
            _OpenTelemetryStabilitySignalType,
            _StabilityMode,
        )

        Stability._initialize()  # type: ignore[no-untyped-call]
        Stability._OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING[_OpenTelemetryStabilitySignalType.HTTP] = (
            _StabilityMode.HTTP
        )
    except Exception:  # pragma: no cover - private switch moved; old conventions are still usable
        _logger.warning("spotify-otel: could not select stable HTTP semantic conventions", exc_info=True)
