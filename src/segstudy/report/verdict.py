"""The one rule by which the report calls a difference: a paired 95 % t-interval.

Given paired values ``a`` and ``b`` (the same seeds, or the same test samples, under two
models), the interval of the mean of ``d = a − b`` is ``mean(d) ± t(0.975, n−1) · sd(d)/√n``.
Only an interval that excludes 0 is a difference ("better" / "worse", or the caller's words,
with ``higher_is_better`` saying which way is good); otherwise it is "no difference detectable"
with the interval's half-width. Fewer than two pairs give no interval and no verdict. The
t-interval, not a bootstrap: with 2–6 pairs a percentile bootstrap is far too narrow (with two
seeds it "excludes 0" whenever both differences share a sign).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats


def paired_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Mean of ``a − b`` and its 95 % t-interval ``(mean, low, high)``."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if d.shape != np.asarray(b, float).shape or d.ndim != 1 or len(d) < 2:
        raise ValueError("paired_interval needs two equal-length sequences of ≥ 2 values")
    return mean_interval(d)


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean of ``values`` (e.g. one score per patient) and its 95 % t-interval
    ``(mean, low, high)``: how far another draw of as many patients could move the mean."""
    v = np.asarray(values, float)
    if v.ndim != 1 or len(v) < 2:
        raise ValueError("mean_interval needs a sequence of ≥ 2 values")
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def ratio_interval(sums: Sequence[float], counts: Sequence[float]) -> tuple[float, float, float]:
    """A mean over items that come in clusters (slices of patients), ``R = Σ sums / Σ counts``,
    and its 95 % interval over the clusters: ``R ± t(0.975, k−1) · SE`` with the cluster-robust
    (linearised ratio) ``SE² = k/(k−1) · Σ (sums_p − R·counts_p)² / (Σ counts)²`` over k
    clusters. With one item per cluster it is :func:`mean_interval`'s interval."""
    total, n = np.asarray(sums, float), np.asarray(counts, float)
    if total.shape != n.shape or total.ndim != 1 or len(n) < 2 or n.sum() <= 0:
        raise ValueError("ratio_interval needs two equal-length sequences of ≥ 2 clusters")
    k, ratio = len(n), float(total.sum() / n.sum())
    se = float(np.sqrt(k / (k - 1) * np.sum((total - ratio * n) ** 2)) / n.sum())
    half = float(stats.t.ppf(0.975, k - 1) * se)
    return ratio, ratio - half, ratio + half


def verdict(a: Sequence[float], b: Sequence[float], unit: str, higher_is_better: bool = True,
            words: tuple[str, str] = ("better", "worse")) -> str:
    """``"Δ +0.012, 95 % interval [+0.004, +0.020] over 6 test slices: **better**"``;
    ``unit`` names what is paired, in the plural ("seeds", "test slices of seed 42")."""
    n = len(a)
    if n < 2:
        delta = float(np.mean(a) - np.mean(b)) if n else float("nan")
        return f"Δ {delta:+.3f} from {n} of {unit}: no interval, so **no verdict**"
    delta, low, high = paired_interval(a, b)
    where = f"Δ {delta:+.3f}, 95 % interval [{low:+.3f}, {high:+.3f}] over {n} {unit}"
    if low > 0 or high < 0:
        good = (low > 0) == higher_is_better
        return f"{where}: **{words[0] if good else words[1]}**"
    return f"{where}: **no difference detectable** (±{(high - low) / 2:.3f})"
