"""Metrics against hand-computed cases; numpy and keras.ops give the same numbers."""

import keras
import numpy as np
import pytest

from segstudy.metrics import dice, iou, module, percent, quality, region_scores, squaring

A = (-1.0, 1.0)  # study A's tanh scale
B = (0.0, 1.0)  # study B's sigmoid scale


def m(rows):
    return np.array([rows], dtype=np.float32)  # one sample


def test_empty_vs_empty_scores_the_stated_default():
    z = np.zeros((1, 4, 4), np.float32)
    assert iou(z, z, B)[0] == 1.0 and dice(z, z, B)[0] == 1.0
    assert iou(z, z, B, empty=0.0)[0] == 0.0


def test_empty_vs_nonempty_scores_zero():
    z = np.zeros((1, 4, 4), np.float32)
    o = z.copy()
    o[0, 0, 0] = 1
    assert iou(z, o, B)[0] == 0.0 and iou(o, z, B)[0] == 0.0 and dice(o, z, B)[0] == 0.0


def test_all_correct_and_all_wrong_masks():
    t = m([[1, 0], [1, 1]])
    assert iou(t, t, B)[0] == 1.0 and percent(t, t, B)[0] == 100.0 and module(t, t, B)[0] == 0.0
    w = 1 - t
    assert iou(w, t, B)[0] == 0.0 and percent(w, t, B)[0] == 0.0 and dice(w, t, B)[0] == 0.0
    # on study A's scale a fully wrong pixel has error 2: module 2, squaring 4
    ta, wa = 2 * t - 1, 2 * w - 1
    assert module(wa, ta, A)[0] == 2.0 and squaring(wa, ta, A)[0] == 4.0


def test_hand_computed_partial_overlap():
    pred = m([[0.9, 0.8], [0.2, 0.6]])  # binarised: 1 1 / 0 1
    true = m([[1.0, 0.0], [0.0, 1.0]])  # 1 0 / 0 1
    assert iou(pred, true, B)[0] == pytest.approx(2 / 3)
    assert dice(pred, true, B)[0] == pytest.approx(2 * 2 / (3 + 2))
    assert percent(pred, true, B)[0] == pytest.approx(75.0)
    assert module(pred, true, B)[0] == pytest.approx((0.1 + 0.8 + 0.2 + 0.4) / 4)
    assert squaring(pred, true, B)[0] == pytest.approx((0.01 + 0.64 + 0.04 + 0.16) / 4)


def test_threshold_is_the_midpoint_of_the_scale():
    true = m([[1.0, -1.0]])
    assert percent(m([[0.01, -0.01]]), true, A)[0] == 100.0
    assert percent(m([[0.01, -0.01]]), (true + 1) / 2, B)[0] == 50.0


def test_keras_ops_and_numpy_agree_per_sample():
    rng = np.random.default_rng(0)
    pred = rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    true = np.where(rng.random((3, 8, 8, 1)) > 0.5, 1.0, -1.0).astype(np.float32)
    for name in ("module", "squaring", "percent", "iou"):
        ref = quality(name, pred, true, A, power=2)
        got = keras.ops.convert_to_numpy(quality(name, pred, true, A, power=2, xp=keras.ops))
        np.testing.assert_allclose(got, ref, rtol=1e-5)
        assert ref.shape == (3,)


def test_quality_is_one_for_a_perfect_mask_and_rejects_unknown_names():
    t = m([[1.0, -1.0]])
    for name in ("module", "squaring", "percent", "iou"):
        assert quality(name, t, t, A)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="module, squaring, percent, iou"):
        quality("bogus", t, t, A)


def test_region_scores_are_zero_for_identical_cells_and_worse_for_a_merge():
    true = np.ones((16, 16), np.float32)
    true[:, 8] = 0  # a membrane splits two cells
    perfect = region_scores(true, true, B)
    assert perfect["rand_error"] == pytest.approx(0.0) and perfect["vi"] == pytest.approx(0.0)
    merged = region_scores(np.ones_like(true), true, B)  # membrane missed: cells merge
    assert merged["rand_error"] > 0.1 and merged["vi"] > 0.5


def test_region_scores_ignore_the_true_membrane_so_a_thinner_predicted_border_is_perfect():
    true = np.ones((16, 16), np.float32)
    true[:, 6:11] = 0  # a thick true membrane
    thin = np.ones_like(true)
    thin[:, 8] = 0  # the same two cells, one-pixel border inside the true membrane
    scores = region_scores(thin, true, B)
    assert scores["rand_error"] == pytest.approx(0.0) and scores["vi"] == pytest.approx(0.0)
    thick = np.ones_like(true)
    thick[:, 3:14] = 0  # predicted membrane reaching into both true cells
    assert region_scores(thick, true, B)["rand_error"] > 0.1, "one segment joins both cells"
