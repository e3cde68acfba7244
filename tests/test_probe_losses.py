"""benchmarks/probe_batches.py: the probe-only losses behave as their formulas say."""

import numpy as np
import pytest

from tests.conftest import load_benchmark

probe_batches = load_benchmark("probe_batches")

from segstudy.training.losses import make_loss  # noqa: E402

UNIT = (0.0, 1.0)


def _square(size: int = 64, lo: int = 16, hi: int = 48) -> np.ndarray:
    mask = np.zeros((1, size, size, 1), np.float32)
    mask[:, lo:hi, lo:hi] = 1
    return mask


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


def _iou(truth: np.ndarray, pred: np.ndarray) -> float:
    return float((truth * pred).sum() / np.maximum(truth, pred).sum())


def test_lovasz_of_a_binary_prediction_is_one_minus_its_iou() -> None:
    rng = np.random.default_rng(0)
    truth = _square()
    preds = [_square(lo=20, hi=52), _square(lo=40, hi=60), np.zeros_like(truth),
             (rng.random(truth.shape) < 0.3).astype(np.float32)]
    for pred in preds:
        got = float(np.asarray(probe_batches.lovasz_iou(truth, pred))[0])
        assert got == pytest.approx(1 - _iou(truth, pred), abs=1e-5)


def test_lovasz_leaves_an_empty_slice_to_the_bce() -> None:
    empty = np.zeros((1, 64, 64, 1), np.float32)
    pred = np.full_like(empty, 0.4)
    assert float(np.asarray(probe_batches.lovasz_iou(empty, pred))[0]) == 0.0
    bce = make_loss("bce", UNIT)(empty, pred)
    both = probe_batches.bce_lovasz(UNIT)(empty, pred)
    assert np.asarray(both) == pytest.approx(np.asarray(bce), abs=1e-6)


def test_lovasz_falls_as_a_soft_prediction_moves_towards_the_truth() -> None:
    truth = _square()
    near, far = 0.8 * truth + 0.1, 0.4 * truth + 0.3
    loss = probe_batches.lovasz_iou
    assert float(np.asarray(loss(truth, near))[0]) < float(np.asarray(loss(truth, far))[0])
