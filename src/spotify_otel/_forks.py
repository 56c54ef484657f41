"""How many times this process's lineage has forked: a counter read where ``os.getpid()`` (a system
call) would otherwise be asked on every request whether the process is still the one that set up."""

from __future__ import annotations

import os

FORKS = [0]


def _after_in_child() -> None:
    FORKS[0] += 1


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork and the count stays 0
    os.register_at_fork(after_in_child=_after_in_child)
