"""The fast warps (OpenCV): the same pixels as scipy's, and an elastic field with the displacement
statistics of Simard's full-resolution recipe (benchmarks/augment_cost.py measures the cost)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segstudy.data.augment import affine_warp, augment, elastic_field, warp


def _image_and_mask(size: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    img = ndimage.gaussian_filter(rng.integers(0, 256, (size, size, 2)).astype(float), (2, 2, 0))
    mask = ndimage.gaussian_filter(rng.random((size, size)), 3) > 0.5
    return img.astype(np.uint8), mask.astype(np.uint8)


def test_warp_equals_scipy_map_coordinates_bilinear_image_nearest_mask():
    img, mask = _image_and_mask()
    dy, dx = elastic_field(mask.shape, np.random.default_rng(1), alpha=34.0, sigma=4.0)
    assert np.abs(dy).max() > 1.0  # a real deformation, not the identity
    yy, xx = np.meshgrid(np.arange(96), np.arange(96), indexing="ij")
    coords = np.array([yy + dy, xx + dx])
    want_img = np.stack([ndimage.map_coordinates(img[..., c], coords, order=1, mode="reflect")
                         for c in range(2)], axis=-1)
    want_mask = ndimage.map_coordinates(mask, coords, order=0, mode="reflect")
    got_img, got_mask = warp(img, mask, dy, dx)
    assert got_img.dtype == np.uint8 and got_mask.dtype == np.uint8
    assert np.abs(got_img.astype(int) - want_img).max() <= 1  # rounding of .5 only
    np.testing.assert_array_equal(got_mask, want_mask)


def test_affine_warp_equals_scipy_affine_transform_zero_outside():
    img, mask = _image_and_mask()
    img, mask = img[:90, :70], mask[:90, :70]  # not square: catches a (row, col) mix-up
    theta, scale = 0.2, 1.07
    matrix = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) / scale
    offset = np.array([45.0, 35.0]) - matrix @ np.array([45.0, 35.0])
    want_img = np.stack([ndimage.affine_transform(img[..., c], matrix, offset, order=1,
                                                  mode="grid-constant") for c in range(2)], -1)
    want_mask = ndimage.affine_transform(mask, matrix, offset, order=0, mode="grid-constant")
    got_img, got_mask = affine_warp(img, mask, matrix, offset)
    assert got_img.shape == img.shape and (want_img == 0).sum() > 100  # corners left the frame
    error = np.abs(got_img.astype(int) - want_img)
    # OpenCV places samples on a 1/32-px grid: a few grey levels only where the image drops
    # to zero at the frame's edge (a steep step), ~0 elsewhere
    assert error.max() <= 3 and error.mean() < 0.1
    np.testing.assert_array_equal(got_mask, want_mask)


def test_coarse_elastic_field_has_simard_full_resolution_rms_and_correlation_length():
    rng = np.random.default_rng(2)
    alpha, sigma, n = 34.0, 4.0, 128
    full = np.stack([ndimage.gaussian_filter(rng.uniform(-1, 1, (n, n)), sigma) * alpha
                     for _ in range(60)])
    coarse = np.stack([elastic_field((n, n), rng, alpha, sigma)[0] for _ in range(60)])

    def rms(a: np.ndarray) -> float:
        return float(np.sqrt(np.mean(a**2)))

    def correlation(a: np.ndarray, lag: int) -> float:
        return float(np.mean(a[:, :, :-lag] * a[:, :, lag:]) / np.mean(a * a))

    assert abs(rms(coarse) / rms(full) - 1) < 0.05
    for lag in (1, 4, 8):
        assert abs(correlation(coarse, lag) - correlation(full, lag)) < 0.07


def test_augment_with_zero_alpha_leaves_image_and_mask_unchanged():
    img, mask = _image_and_mask()
    out_img, out_mask = augment(img, mask, np.random.default_rng(0),
                                {"flip": False, "rot90": False, "affine": False, "elastic": True,
                                 "elastic_alpha": 0.0, "elastic_sigma": 4.0})
    np.testing.assert_array_equal(out_img, img)
    np.testing.assert_array_equal(out_mask, mask)
