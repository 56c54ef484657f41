"""Run by test_django_gunicorn_fork_race.py: a gunicorn master with telemetry forks a worker while one
of its export threads is doing the first export (and so importing the gRPC channel module); the worker
then records a span and shuts down. Exits 0; prints what happened for the test's diagnostics.

The import is slowed down artificially (a meta-path hook) to make the race deterministic; on a busy
machine the window is real: the master's periodic metric export and gunicorn's fork of a worker.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
import time
from types import ModuleType
from typing import Any

SLOW_MODULE = "grpc._channel"
importing = threading.Event()


class _SlowImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: ModuleType | None = None) -> Any:
        if name != SLOW_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        real = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            importing.set()
            time.sleep(1.0)
            real(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main() -> int:
    sys.meta_path.insert(0, _SlowImport())
    from opentelemetry import trace

    from spotify_otel import init_telemetry

    telemetry = init_telemetry("fork-race")
    tracer = trace.get_tracer("fork-race")
    with tracer.start_as_current_span("master.span"):
        pass
    exporting = threading.Thread(target=telemetry.force_flush, args=(5,), daemon=True)
    exporting.start()  # the first export builds the exporter in this thread
    deadline = time.monotonic() + 3
    while not importing.is_set() and exporting.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)  # fork as soon as the export thread is inside the import (or done without one)
    mid_import = importing.is_set() and exporting.is_alive()
    print("master: export thread importing", SLOW_MODULE, "at fork:", mid_import, flush=True)
    pid = os.fork()
    if pid == 0:  # the "worker"
        sys.meta_path.pop(0)
        with tracer.start_as_current_span("worker.span"):
            pass
        print("worker: shutdown finished in time:", telemetry.shutdown(timeout=3), flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    exporting.join(5)
    print("master: worker exit status", status, "shutdown:", telemetry.shutdown(timeout=3), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
