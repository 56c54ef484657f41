"""Start the FastAPI example under real uvicorn (optionally via opentelemetry-instrument)."""

from __future__ import annotations

from _support import BIN, ServerProcess, free_port, telemetry_env

APP = "examples.fastapi_app.app:app"


def uvicorn(endpoint: str, *extra_args: str, protocol: str = "grpc", zero_code: bool = False,
            **env: str) -> ServerProcess:
    """Start the example app under uvicorn (optionally via opentelemetry-instrument)."""
    port = free_port()
    argv = [str(BIN / "uvicorn"), APP, "--host", "127.0.0.1", "--port", str(port), *extra_args]
    if zero_code:
        argv = [str(BIN / "opentelemetry-instrument"), *argv]
    environment = telemetry_env(endpoint, protocol, **{"PORT": str(port), "OTEL_SERVICE_NAME": "music-api", **env})
    return ServerProcess(argv, environment, port).wait_ready()
