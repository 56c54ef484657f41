"""Serve the remediation app with uvicorn (an optional dependency, imported only here)."""

from __future__ import annotations

import dataclasses

from spotify_otel.remediation.app import create_app
from spotify_otel.remediation.config import RemediationConfig


class ServerUnavailable(RuntimeError):
    """uvicorn is not installed."""


def serve(config: RemediationConfig, host: str | None = None, port: int | None = None,
          dry_run: bool | None = None, log_level: str = "info") -> None:
    """Run the service until interrupted; ``host``/``port``/``dry_run`` override the configuration."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ServerUnavailable("serving remediation needs uvicorn: pip install uvicorn") from exc
    if dry_run is not None:
        config = dataclasses.replace(config, dry_run=dry_run)
    uvicorn.run(
        create_app(config),
        host=host or config.host,
        port=config.port if port is None else port,
        log_level=log_level,
        lifespan="on",
        server_header=False,
    )
