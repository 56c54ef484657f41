"""One module per dashboard; :data:`BOARDS` is the order the README lists them in."""

from __future__ import annotations

from collections.abc import Callable

from ..board import Board
from . import business, cost, infrastructure, ml, overview, performance, pipeline, security, slo, tenants

BOARDS: tuple[Callable[[], Board], ...] = (
    overview.build,
    tenants.build,
    performance.build,
    infrastructure.build,
    business.build,
    security.build,
    cost.build,
    slo.build,
    ml.build,
    pipeline.build,
)
