"""What every server integration shares: tenant resolution, HTTP metrics and URL exclusion, built
once by ``init_telemetry`` and handed to the framework middlewares."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.trace import NoOpTracerProvider, TracerProvider

from spotify_otel._http_metrics import HttpServerMetrics
from spotify_otel._tenant_resolution import TenantResolver


def traces_off(tracer_provider: TracerProvider | None) -> bool:
    """Whether the integrations get no tracer provider to trace with (traces disabled): then they add no
    span layer at all, only the tenant middleware."""
    return tracer_provider is None or isinstance(tracer_provider, NoOpTracerProvider)


@dataclass(frozen=True)
class ServerInstrumentation:
    """The per-process objects a request middleware needs."""

    resolver: TenantResolver
    metrics: HttpServerMetrics | None
    excluded_urls: tuple[str, ...]
    # Called at every request start; does real work once per process (re-attach log handlers).
    warmup: Callable[[], None] = lambda: None
    # Called when the server shuts the application down (ASGI lifespan): flush before the process
    # dies. uvicorn re-raises SIGTERM with the default handler after its graceful shutdown, so
    # ``atexit`` handlers never run there.
    on_server_shutdown: Callable[[], object] = lambda: None

    def __post_init__(self) -> None:
        pattern = "|".join(f"(?:{p})" for p in self.excluded_urls) if self.excluded_urls else None
        object.__setattr__(self, "_excluded", re.compile(pattern) if pattern else None)

    def is_excluded(self, url: str) -> bool:
        """True for URLs (full, with scheme and host) that get no telemetry, e.g. health checks."""
        excluded: re.Pattern[str] | None = self.__dict__["_excluded"]
        return excluded is not None and excluded.search(url) is not None
