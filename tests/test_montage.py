"""predict's overlay drawing: the outline sits on the mask's border and nowhere else."""

from __future__ import annotations

import numpy as np

from segstudy.montage import RED, montage, overlay


def test_outline_is_the_one_pixel_band_each_side_of_the_border_and_the_scan_is_kept():
    image = np.full((20, 20, 3), 90, np.uint8)
    image[..., 1] = 120  # FLAIR, the channel an LGG overlay shows
    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, 5:15] = 1
    rgb = overlay(image, mask)
    red = np.all(rgb == RED, axis=-1)
    expected = np.zeros((20, 20), bool)
    expected[4:16, 4:16] = True
    expected[6:14, 6:14] = False
    assert np.array_equal(red, expected)
    assert np.all(rgb[~red] == 120)


def test_an_empty_or_full_mask_draws_no_outline():
    image = np.zeros((8, 8, 1), np.uint8)
    for mask in (np.zeros((8, 8), np.uint8), np.ones((8, 8), np.uint8)):
        assert not np.all(overlay(image, mask) == RED, axis=-1).any()


def test_montage_lays_tiles_in_rows_of_the_given_width():
    images = np.zeros((5, 40, 36, 1), np.uint8)
    sheet = montage(images, np.zeros((5, 40, 36), np.uint8), list("abcde"), tile=80, columns=2)
    assert sheet.shape == (3 * 80, 2 * 72, 3)
