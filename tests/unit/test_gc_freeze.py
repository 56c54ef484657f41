"""``gc_freeze``: the first request of a process freezes the start-up heap, once; off means untouched."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from spotify_otel import init_telemetry
from spotify_otel._telemetry import _reset_for_tests
from tests._support import free_port


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    _reset_for_tests()  # a telemetry left by an earlier test has had its first request already
    gc.unfreeze()
    yield
    _reset_for_tests()
    gc.unfreeze()


def _telemetry(**kwargs: object) -> object:
    return init_telemetry("gc-freeze", endpoint=f"http://127.0.0.1:{free_port()}", system_metrics=False,
                          traces_enabled=False, metrics_enabled=False, logs_enabled=False, **kwargs)


def test_first_request_freezes_the_heap_once() -> None:
    telemetry = _telemetry()
    server = telemetry.server  # type: ignore[attr-defined]
    assert gc.get_freeze_count() == 0
    server.warmup()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # the interpreter, the SDK and this test session
    garbage = [[i] for i in range(500)]  # allocated after the first request
    server.warmup()
    # later requests do not freeze again: the 500 lists stay out of the permanent generation (whose count
    # only drops when frozen objects die)
    assert gc.get_freeze_count() < frozen + 500
    del garbage


def test_off_leaves_the_collector_alone() -> None:
    telemetry = _telemetry(gc_freeze=False)
    telemetry.server.warmup()  # type: ignore[attr-defined]
    assert gc.get_freeze_count() == 0
