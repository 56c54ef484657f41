"""Drift statistics: Population Stability Index (binned) and the two-sample Kolmogorov-Smirnov statistic.

Pure functions, no dependency: PSI compares the share of live values per bin with the reference's, the
bins being the reference's deciles (continuous) or its categories (categorical); KS is the largest gap
between the two empirical distribution functions. Rules of thumb: PSI < 0.1 stable, 0.1-0.25 moderate,
> 0.25 significant shift; KS is in [0, 1].
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence

_EPSILON = 1e-4


def _psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, _EPSILON), max(a, _EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def decile_edges(reference: Sequence[float]) -> list[float]:
    """Inner bin edges at the reference's deciles (duplicates removed)."""
    ordered = sorted(reference)
    n = len(ordered)
    edges = sorted({ordered[min(n - 1, (n * k) // 10)] for k in range(1, 10)})
    return edges


def _shares(values: Sequence[float], edges: Sequence[float]) -> list[float]:
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect.bisect_right(edges, value)] += 1
    n = max(1, len(values))
    return [c / n for c in counts]


def psi_continuous(reference: Sequence[float], live: Sequence[float]) -> float:
    """PSI of ``live`` against ``reference`` over the reference's decile bins."""
    edges = decile_edges(reference)
    return _psi(_shares(reference, edges), _shares(live, edges))


def psi_categorical(reference: Sequence[str], live: Sequence[str]) -> float:
    """PSI over the categories of both samples."""
    ref_counts, live_counts = Counter(reference), Counter(live)
    categories = sorted(set(ref_counts) | set(live_counts))
    ref_n, live_n = max(1, len(reference)), max(1, len(live))
    return _psi([ref_counts[c] / ref_n for c in categories], [live_counts[c] / live_n for c in categories])


def ks_statistic(reference: Sequence[float], live: Sequence[float]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic D = sup |F_ref - F_live|."""
    ref, cur = sorted(reference), sorted(live)
    if not ref or not cur:
        return 0.0
    gap = 0.0
    for x in set(ref) | set(cur):
        gap = max(gap, abs(bisect.bisect_right(ref, x) / len(ref) - bisect.bisect_right(cur, x) / len(cur)))
    return gap
