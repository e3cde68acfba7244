"""benchmarks/isbi_errors.py: where a pixel map's wrong pixels lie against the true border."""

import numpy as np
import pytest

from tests.conftest import load_benchmark

isbi_errors = load_benchmark("isbi_errors")


def _cells() -> np.ndarray:
    """One 40² slice: two interior blocks split by a 4-px membrane (columns 18–21)."""
    truth = np.ones((1, 40, 40), bool)
    truth[:, :, 18:22] = False
    return truth


def test_a_membrane_one_pixel_too_thick_counts_its_errors_beside_the_border() -> None:
    truth = _cells()
    pred = truth.copy()
    pred[:, :, 17] = False  # the predicted membrane eats the interior's border column
    s = isbi_errors.split_errors(truth, pred)
    assert s["fn"] == pytest.approx(40 / 1600) and s["fp"] == 0
    assert s["pixel_error"] == pytest.approx(40 / 1600)
    assert s["by_distance"][0] == 1.0  # every wrong pixel is a border pixel
    assert s["iou"] == pytest.approx((1440 - 40) / 1440)


def test_an_invented_membrane_far_from_any_border_counts_at_five_pixels_or_more() -> None:
    truth = _cells()
    pred = truth.copy()
    pred[:, 5, 0:10] = False  # a false membrane inside the left cell, ≥ 8 px from column 17
    s = isbi_errors.split_errors(truth, pred)
    assert s["by_distance"][-1] == 1.0
    assert s["pixel_error"] == pytest.approx(10 / 1600)


def test_setting_far_errors_right_leaves_the_border_errors() -> None:
    truth = _cells()
    pred = truth.copy()
    pred[:, :, 17] = False  # a border error: stays
    pred[:, 5, 0:10] = False  # a far error: set right in the what-if
    s = isbi_errors.split_errors(truth, pred)
    assert s["iou"] < s["iou_far_fixed"] == pytest.approx((1440 - 40) / 1440)
    assert s["iou_near_fixed"] == pytest.approx((1440 - 40) / 1440)
