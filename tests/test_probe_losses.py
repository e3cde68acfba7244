"""benchmarks/probe_batches.py: the probe-only losses behave as their formulas say."""

import numpy as np
import pytest

from tests.conftest import load_benchmark
from tests.conftest import square_mask as _square

probe_batches = load_benchmark("probe_batches")

from segstudy.training.losses import make_loss  # noqa: E402

UNIT = (0.0, 1.0)


def test_tversky_with_equal_weights_is_the_recipes_bce_dice_up_to_smoothing() -> None:
    truth = _square()
    pred = np.clip(0.7 * _square(lo=20, hi=52) + 0.1, 0, 1).astype(np.float32)
    tversky = probe_batches.bce_tversky(UNIT, alpha=0.5, beta=0.5)(truth, pred)
    dice = make_loss("bce_dice", UNIT)(truth, pred)
    assert np.asarray(tversky) == pytest.approx(np.asarray(dice), abs=1e-3)


def test_tversky_makes_a_missed_pixel_cost_more_than_a_false_one() -> None:
    truth = _square()
    missed, false = truth.copy(), truth.copy()
    missed[:, 16, 16:48] = 0  # one row of tumour missed
    false[:, 15, 16:48] = 1   # one row of false tumour
    loss = probe_batches.bce_tversky(UNIT)  # α 0.3 on false, β 0.7 on missed pixels
    assert float(np.asarray(loss(truth, missed))[0]) > float(np.asarray(loss(truth, false))[0])
    even = probe_batches.bce_tversky(UNIT, alpha=0.5, beta=0.5)
    assert float(np.asarray(even(truth, missed))[0]) == pytest.approx(
        float(np.asarray(even(truth, false))[0]), rel=0.02)
