"""The one rule by which the report calls a difference: a paired 95 % interval.

Given paired values ``a`` and ``b`` (the same seeds, or the same test samples, under two
models), the mean of ``a − b`` is bootstrapped (``N_BOOT`` resamples of the pairs, fixed seed,
percentile interval). Only an interval that excludes 0 is a difference ("better" / "worse",
with ``higher_is_better`` saying which way is good); otherwise it is "no difference
detectable" with the interval's half-width. Fewer than two pairs give no interval and no
verdict. Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_BOOT = 10_000


def paired_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Mean of ``a − b`` and its 95 % bootstrap percentile interval ``(mean, low, high)``."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if d.shape != np.asarray(b, float).shape or d.ndim != 1 or len(d) < 2:
        raise ValueError("paired_interval needs two equal-length sequences of ≥ 2 values")
    means = np.random.default_rng(0).choice(d, (N_BOOT, len(d))).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(d.mean()), float(low), float(high)


def verdict(a: Sequence[float], b: Sequence[float], unit: str,
            higher_is_better: bool = True) -> str:
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
        return f"{where}: **{'better' if good else 'worse'}**"
    return f"{where}: **no difference detectable** (±{max(abs(low), abs(high)):.3f})"
