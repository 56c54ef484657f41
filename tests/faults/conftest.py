"""Fixtures of the fault suite."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from spotify_otel._telemetry import _reset_for_tests


@pytest.fixture
def reset() -> Iterator[None]:
    """A fresh process-wide telemetry before and after the test; the root logger level restored."""
    root = logging.getLogger()
    level = root.level
    _reset_for_tests()
    yield
    _reset_for_tests()
    root.setLevel(level)

