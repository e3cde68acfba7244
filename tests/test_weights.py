"""The U-Net paper's weight map: where it is heavy, how it reaches the loss through augmentation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segstudy.data.weights import SCALE, border_term, class_weights, to_weights, weight_maps


def _two_cells(gap: int) -> np.ndarray:
    mask = np.zeros((40, 60), np.uint8)
    mask[10:30, 5:25] = 1
    mask[10:30, 25 + gap : 45 + gap] = 1
    return mask


def test_border_term_is_heaviest_on_the_membrane_between_two_touching_cells():
    mask = _two_cells(gap=2)
    term = border_term(mask, w0=10.0, sigma=5.0)
    between = term[20, 25:27]  # d1 + d2 = 1 + 2 or 2 + 1 pixels
    np.testing.assert_allclose(between, 10 * np.exp(-(3.0**2) / 50), rtol=1e-5)
    outer = term[20, 3]  # beside the left cell, far from the right one (d1 = 2, d2 = 24)
    assert outer < 0.01 * between.min()
    assert (term[mask > 0] == 0).all()  # the term is for background (membrane) pixels only


def test_border_term_is_zero_for_a_lone_cell_and_an_empty_mask():
    lone = np.zeros((30, 30), np.uint8)
    lone[5:20, 5:20] = 1
    assert not border_term(lone, 10.0, 5.0).any()
    assert not border_term(np.zeros((8, 8), np.uint8), 10.0, 5.0).any()


def test_class_weights_lift_the_rarer_class_to_the_frequency_ratio():
    masks = np.zeros((1, 10, 10), np.uint8)
    masks[0, :8] = 1  # 80 % foreground
    w_bg, w_fg = class_weights(masks)
    assert (w_bg, w_fg) == (pytest.approx(4.0), 1.0)


def test_weight_maps_round_trip_through_uint8_within_one_step():
    masks = np.stack([_two_cells(2), _two_cells(6)])
    stored = weight_maps(masks, np.array([True, True]), 10.0, 5.0)
    assert stored.dtype == np.uint8
    w_bg, w_fg = class_weights(masks)
    exact = np.where(masks[0] > 0, w_fg, w_bg) + border_term(masks[0], 10.0, 5.0)
    np.testing.assert_allclose(to_weights(stored[0]), exact, atol=0.5 / SCALE + 1e-6)


def test_weighted_bce_counts_each_pixel_by_its_weight():
    from segstudy.training.losses import make_loss

    bce = make_loss("bce", (0.0, 1.0))
    y = np.array([[[[1.0], [0.0]]]], np.float32)  # (1, 1, 2, 1)
    p = np.array([[[[0.9], [0.4]]]], np.float32)
    plain = float(np.asarray(bce(y, p))[0])
    np.testing.assert_allclose(plain, -(np.log(0.9) + np.log(0.6)) / 2, rtol=1e-5)
    weighted = np.concatenate([y, np.array([[[[1.0], [3.0]]]], np.float32)], axis=-1)
    np.testing.assert_allclose(float(np.asarray(bce(weighted, p))[0]),
                               -(np.log(0.9) + 3 * np.log(0.6)) / 2, rtol=1e-5)
    dice = make_loss("dice", (0.0, 1.0))  # overlap losses ignore the weights
    np.testing.assert_allclose(np.asarray(dice(weighted, p)), np.asarray(dice(y, p)))


def test_training_batches_carry_the_weights_through_the_same_warp_as_the_mask(tmp_path):
    from segstudy.data.batches import TrainBatches
    from segstudy.data.prepared import Prepared

    rng = np.random.default_rng(0)
    masks = (rng.random((4, 64, 64)) > 0.5).astype(np.uint8)
    np.save(tmp_path / "images.npy", rng.integers(0, 255, (4, 64, 64, 1), dtype=np.uint8))
    np.save(tmp_path / "masks.npy", masks)
    np.save(tmp_path / "weights.npy", (SCALE * (1 + 2 * masks)).astype(np.uint8))  # 1 or 3
    pd.DataFrame({"sample_id": list("abcd"), "case_id": "c", "split": "train"}).to_csv(
        tmp_path / "split.csv", index=False)
    (tmp_path / "norm.json").write_text(json.dumps({"mean": [127.5], "std": [127.5]}))
    augment = {"flip": True, "rot90": True, "elastic": False, "affine": False}
    batches = TrainBatches(Prepared(tmp_path), np.arange(4), (0.0, 1.0), 2, augment, seed=1,
                           tile=32)
    x, y = batches[0]
    assert x.shape == (2, 32, 32, 1) and y.shape == (2, 32, 32, 2)
    np.testing.assert_array_equal(y[..., 1], 1 + 2 * y[..., 0])  # weights moved with the mask


def test_pixels_a_warp_brings_in_from_outside_get_weight_one_not_zero(tmp_path):
    from segstudy.data.batches import TrainBatches
    from segstudy.data.prepared import Prepared

    rng = np.random.default_rng(1)
    np.save(tmp_path / "images.npy", rng.integers(1, 255, (2, 48, 48, 1), dtype=np.uint8))
    np.save(tmp_path / "masks.npy", np.ones((2, 48, 48), np.uint8))
    np.save(tmp_path / "weights.npy", np.full((2, 48, 48), 3 * SCALE, np.uint8))  # all 3
    pd.DataFrame({"sample_id": ["a", "b"], "case_id": "c", "split": "train"}).to_csv(
        tmp_path / "split.csv", index=False)
    (tmp_path / "norm.json").write_text(json.dumps({"mean": [127.5], "std": [127.5]}))
    augment = {"flip": False, "rot90": False, "elastic": False, "affine": True,
               "affine_degrees": 30.0, "affine_scale": 0.0}  # corners come from outside
    _, y = TrainBatches(Prepared(tmp_path), np.arange(2), (0.0, 1.0), 2, augment, seed=3)[0]
    weights = y[..., 1]
    assert weights.min() == pytest.approx(1.0)  # the zero border, floored at weight 1
    assert weights.max() == pytest.approx(3.0)
