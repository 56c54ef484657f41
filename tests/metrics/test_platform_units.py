"""Drift statistics, abuse detection windows, label validation."""

from __future__ import annotations

import random

import pytest

from spotify_otel.metrics import SecurityMonitor, drift
from spotify_otel.metrics._labels import INVALID, label_value


def sample(mean: float, sd: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


def test_same_distribution_has_low_psi_and_ks() -> None:
    reference, live = sample(120, 12, 5000, 1), sample(120, 12, 1000, 2)
    assert drift.psi_continuous(reference, live) < 0.05
    assert drift.ks_statistic(reference, live) < 0.07


def test_shifted_distribution_has_high_psi_and_ks() -> None:
    reference = sample(120, 12, 5000, 1)
    moderate, strong = sample(126, 12, 1000, 3), sample(170, 12, 1000, 4)
    assert 0.05 < drift.psi_continuous(reference, moderate) < 0.5
    assert drift.psi_continuous(reference, strong) > 2
    assert drift.ks_statistic(reference, strong) > 0.9
    assert drift.psi_continuous(reference, strong) > drift.psi_continuous(reference, moderate)


def test_categorical_psi() -> None:
    reference = ["jazz"] * 50 + ["rock"] * 50
    assert drift.psi_categorical(reference, ["jazz"] * 48 + ["rock"] * 52) < 0.01
    assert drift.psi_categorical(reference, ["jazz"] * 10 + ["rock"] * 60 + ["metal"] * 30) > 1


def test_ks_is_zero_for_identical_and_one_for_disjoint() -> None:
    assert drift.ks_statistic([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0
    assert drift.ks_statistic([1.0, 2.0], [5.0, 6.0]) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_abuse_fires_exactly_once_per_window_over_threshold() -> None:
    clock = Clock()
    monitor = SecurityMonitor(threshold=10, window_seconds=60, clock=clock)
    fired = []
    for _ in range(100):  # a burst far over the threshold within one window
        fired.append(monitor.observe_request("scraper", "acme"))
        clock.now += 0.1
    assert fired.count(True) == 1 and fired.index(True) == 10
    clock.now += 60  # next window, still abusive
    fired = [monitor.observe_request("scraper", "acme") for _ in range(20)]
    assert fired.count(True) == 1


def test_abuse_never_fires_below_threshold() -> None:
    clock = Clock()
    monitor = SecurityMonitor(threshold=10, window_seconds=60, clock=clock)
    fired = []
    for _ in range(300):  # 10 per 61 s: never more than 10 inside a 60 s window
        fired.append(monitor.observe_request("steady", "acme"))
        clock.now += 6.1
    assert not any(fired)


def test_abuse_is_per_tenant_and_client_with_bounded_memory() -> None:
    clock = Clock()
    monitor = SecurityMonitor(threshold=3, window_seconds=60, max_clients=100, clock=clock)
    assert not any(monitor.observe_request(f"client-{i}", "acme") for i in range(1000))
    assert len(monitor._hits) == 100
    assert [monitor.observe_request("c", "acme") for _ in range(4)][-1] is True
    assert [monitor.observe_request("c", "globex") for _ in range(4)][-1] is True


@pytest.mark.parametrize("value", ["", "a b", "x" * 65, "../../etc", "é", None, "-lead"])
def test_invalid_label_values_are_replaced(value: object) -> None:
    assert label_value("m", "k", value) == INVALID


def test_label_values_are_capped_per_metric() -> None:
    values = {label_value("capped.metric", "api", f"api-{i}") for i in range(500)}
    assert len(values) == 201 and "__overflow__" in values
