"""The one normalisation: a 256-entry table per channel gives exactly the formula's floats."""

from __future__ import annotations

import numpy as np
import pytest

from segstudy.data.prepared import normalise

NORM = {"mean": [31.5, 12.25, 40.0], "std": [41.3, 30.2, 50.7]}


@pytest.mark.parametrize("shape", [(4, 20, 24, 3), (20, 24, 3), (4, 20, 24, 1), (0, 20, 24, 3)])
def test_normalise_equals_the_per_channel_formula_bit_for_bit(shape: tuple[int, ...]):
    channels = shape[-1]
    norm = {k: v[:channels] for k, v in NORM.items()}
    images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    formula = (images.astype(np.float32) - np.float32(norm["mean"])) / np.float32(norm["std"])
    out = normalise(images, norm)
    assert out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_array_equal(out, formula)


def test_normalise_reads_strided_and_read_only_views(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (6, 16, 18, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")[::2, :, ::-1]
    expected = (np.asarray(mapped).astype(np.float32) - np.float32(NORM["mean"])) / np.float32(
        NORM["std"])
    np.testing.assert_array_equal(normalise(mapped, NORM), expected)


def test_normalise_broadcasts_one_mean_and_std_over_all_channels():
    images = np.random.default_rng(2).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    norm = {"mean": [100.0], "std": [20.0]}
    expected = (images.astype(np.float32) - np.float32(100.0)) / np.float32(20.0)
    np.testing.assert_array_equal(normalise(images, norm), expected)
