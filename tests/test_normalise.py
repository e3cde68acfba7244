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


def _brain(seed: int, shape=(3, 32, 32, 3)) -> np.ndarray:
    """Images with a zero background and a bright 'tissue' disc of random intensities."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[1], : shape[2]]
    disc = (yy - shape[1] / 2) ** 2 + (xx - shape[2] / 2) ** 2 < (shape[1] / 3) ** 2
    images = rng.integers(20, 120, shape).astype(np.uint8)
    images[:, ~disc] = 0
    return images


def test_per_image_gives_each_images_tissue_zero_mean_and_unit_std_per_channel():
    images = _brain(3)
    out = normalise(images, {"mode": "per_image"})
    assert out.dtype == np.float32 and out.shape == images.shape
    tissue = (images != 0).any(axis=-1)
    for i in range(len(images)):
        values = out[i][tissue[i]]
        np.testing.assert_allclose(values.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(values.std(axis=0), 1.0, rtol=1e-4)


def test_per_image_ignores_a_patients_intensity_scale_and_offset():
    images = _brain(4)
    brighter = images.copy()
    brighter[images != 0] = images[images != 0] * 2 + 5  # another scanner's gain and offset
    a = normalise(images, {"mode": "per_image"})
    b = normalise(brighter, {"mode": "per_image"})
    tissue = (images != 0).any(axis=-1)
    np.testing.assert_allclose(a[tissue], b[tissue], atol=1e-4)


def test_per_image_keeps_blank_and_nearly_blank_images_finite():
    blank = np.zeros((2, 16, 16, 3), np.uint8)
    speck = blank.copy()
    speck[0, 3, 3] = 255  # one pixel of tissue: under 1 %, whole-image statistics
    for images in (blank, speck):
        out = normalise(images, {"mode": "per_image"})
        assert np.isfinite(out).all()
    np.testing.assert_array_equal(normalise(blank, {"mode": "per_image"}), 0.0)


def test_a_per_image_model_states_its_normalisation_in_prepare_and_the_sidecar(tmp_path):
    import json

    from segstudy.data.prepare import normalisation
    from segstudy.inference import read_sidecar

    norm = normalisation(_brain(5), np.ones(3, bool), "per_image")
    assert norm == {"mode": "per_image"}
    info = {"dataset": "lgg", "in_channels": 3, "mask_range": [0.0, 1.0], "norm": norm,
            "input_size": 32, "decision": None}
    (tmp_path / "m.json").write_text(json.dumps(info))
    (tmp_path / "m.keras").write_bytes(b"")  # only the sidecar is read
    assert read_sidecar(tmp_path / "m.keras")["norm"] == {"mode": "per_image"}
