"""Flush telemetry when a server stops the process without running ``atexit`` handlers.

- ``manage.py runserver`` (and any server leaving SIGTERM at its default action) is killed by SIGTERM
  without unwinding: when SIGTERM has the default action at ``init_telemetry`` time (main thread only),
  a handler flushes within ``shutdown_timeout``, restores the default action and re-sends SIGTERM, so
  the process still dies of SIGTERM as before.
- uvicorn re-raises SIGTERM with the default action after its graceful shutdown; ASGI applications with
  a lifespan (FastAPI) are flushed by the lifespan shutdown, those without one (Django) by wrapping
  ``uvicorn.Server.shutdown``.
Servers that install their own SIGTERM handler and exit normally (gunicorn workers) use ``atexit``.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

_logger = logging.getLogger("spotify_otel")


def install_sigterm_flush(shutdown: Callable[[], object]) -> Callable[[], None] | None:
    """Install the flushing SIGTERM handler if SIGTERM has its default action; returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return None
    except (ValueError, OSError):
        return None

    def on_sigterm(signum: int, frame: Any) -> None:
        try:
            shutdown()
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)

    def undo() -> None:
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return undo


def install_uvicorn_flush(shutdown: Callable[[], object]) -> Callable[[], None] | None:
    """Flush after uvicorn's graceful shutdown (before it re-raises SIGTERM); returns an undo."""
    module = sys.modules.get("uvicorn.server")
    server_class = getattr(module, "Server", None)
    original = getattr(server_class, "shutdown", None)
    if server_class is None or original is None or getattr(original, "_spotify_otel", False):
        return None

    @functools.wraps(original)
    async def flushing_shutdown(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        finally:
            try:
                shutdown()
            except Exception:
                _logger.debug("flush at uvicorn shutdown failed", exc_info=True)

    flushing_shutdown._spotify_otel = True  # type: ignore[attr-defined]
    server_class.shutdown = flushing_shutdown

    def undo() -> None:
        server_class.shutdown = original

    return undo
