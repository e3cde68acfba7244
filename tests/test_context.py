"""Neighbouring slices as channels (``segstudy.data.context``), as the recipe probes build them."""

from __future__ import annotations

import numpy as np
import pytest

from segstudy import SegstudyError
from segstudy.data.context import neighbour_rows, with_context


def _slices(values: list[int]) -> np.ndarray:
    """(N, 2, 2, 3) uint8, slice i filled with values[i] in every channel."""
    return np.array(values, np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)


def test_each_slice_is_followed_by_the_slice_below_then_the_slice_above_it():
    images = _slices([10, 20, 30])
    out = with_context(images, np.zeros(3), np.arange(3), 1)
    assert out.shape == (3, 2, 2, 9) and out.dtype == np.uint8
    assert out[1, 0, 0].tolist() == [20] * 3 + [10] * 3 + [30] * 3


def test_a_volumes_first_and_last_slices_repeat_themselves_as_missing_neighbours():
    out = with_context(_slices([10, 20, 30]), np.zeros(3), np.arange(3), 1)
    assert out[0, 0, 0].tolist() == [10] * 3 + [10] * 3 + [20] * 3
    assert out[2, 0, 0].tolist() == [30] * 3 + [20] * 3 + [30] * 3


def test_neighbours_come_from_the_same_volume_in_slice_order_whatever_the_row_order():
    # rows: case b slice 2, case a slice 1, case b slice 1, case a slice 2
    cases = np.array(["b", "a", "b", "a"])
    order = np.array([2, 1, 1, 2])
    assert neighbour_rows(cases, order, -1).tolist() == [2, 1, 2, 1]
    assert neighbour_rows(cases, order, +1).tolist() == [0, 3, 0, 3]


def test_context_zero_returns_the_images_unchanged_and_a_negative_one_is_refused():
    images = _slices([1, 2])
    assert with_context(images, np.zeros(2), np.arange(2), 0) is images
    with pytest.raises(SegstudyError, match="context: -1"):
        with_context(images, np.zeros(2), np.arange(2), -1)

