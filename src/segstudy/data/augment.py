"""Training augmentation of one (image, mask) pair: flips, 90° turns, a small affine and
Simard's elastic deformation; images warp bilinearly, masks by nearest pixel (OpenCV)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from scipy import ndimage

# Batches are built by the PyDataset's worker threads next to the model's own threads on few
# cores: OpenCV's thread pool on top would oversubscribe them.
cv2.setNumThreads(1)


# The displacement field is drawn on a grid this many times coarser than the image and
# interpolated up: the smoothing (σ px) makes finer noise invisible, and the full-resolution
# field was a third of the augmentation's cost (README, benchmark: optimisations).
ELASTIC_GRID_STEP = 4


@lru_cache(maxsize=16)
def _coarse_grid(n: int, sigma: float) -> tuple[int, np.ndarray, np.ndarray]:
    """How n pixels read a coarse field of m = n // step + 2 nodes: each pixel's position on
    the coarse grid (float32, for a linear ``cv2.remap``) and a gain that gives each pixel the
    variance of ``gaussian_filter(noise, σ)`` on the full grid (Simard's recipe).

    The field is linear in the i.i.d. noise, ``A @ noise`` with A = interpolate ∘ smooth(σ/step),
    so a pixel's variance is proportional to its row's squared norm; the gain matches that norm
    to the full-resolution smoothing's.
    """
    step = ELASTIC_GRID_STEP
    m = n // step + 2
    pos = np.arange(n) / step
    left = np.minimum(pos.astype(np.intp), m - 2)
    frac = pos - left
    interpolate = np.zeros((n, m))
    interpolate[np.arange(n), left] = 1.0 - frac
    interpolate[np.arange(n), left + 1] = frac
    coarse = interpolate @ ndimage.gaussian_filter1d(np.eye(m), sigma / step, axis=0,
                                                     mode="reflect")
    full = ndimage.gaussian_filter1d(np.eye(n), sigma, axis=0, mode="reflect")
    gain = np.sqrt((full**2).sum(1) / (coarse**2).sum(1))
    return m, pos.astype(np.float32), gain.astype(np.float32)


@lru_cache(maxsize=16)
def _upsampling(shape: tuple[int, int], sigma: float) -> tuple[int, int, np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    my, py, gy = _coarse_grid(shape[0], sigma)
    mx, px, gx = _coarse_grid(shape[1], sigma)
    map_x, map_y = np.meshgrid(px, py)
    return my, mx, map_x, map_y, gy[:, None] * gx


@lru_cache(maxsize=16)
def _pixel_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    xx, yy = np.meshgrid(np.arange(shape[1], dtype=np.float32),
                         np.arange(shape[0], dtype=np.float32))
    return xx, yy


def elastic_field(shape: tuple[int, int], rng: np.random.Generator, alpha: float,
                  sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Random displacements (dy, dx) in pixels, each (H, W) float32: uniform noise smoothed
    with σ and scaled by α, as in Simard et al. (2003), drawn on a coarse grid
    (``_coarse_grid``), smoothed there at σ/step and interpolated up linearly."""
    my, mx, map_x, map_y, gain = _upsampling(tuple(shape), float(sigma))
    noise = rng.uniform(-1, 1, (2, my, mx)).astype(np.float32)
    scale = gain * np.float32(alpha)
    # BORDER_REFLECT is scipy's "reflect" (…b a | a b…); the kernel radius is 4σ in both
    dy, dx = (cv2.remap(cv2.GaussianBlur(noise[i], (0, 0), sigma / ELASTIC_GRID_STEP,
                                         borderType=cv2.BORDER_REFLECT),
                        map_x, map_y, cv2.INTER_LINEAR) * scale for i in range(2))
    return dy, dx


def _per_channel_block(img: np.ndarray,
                       apply: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    # OpenCV warps at most 4 channels at once and drops a channel axis of 1
    parts = [apply(np.ascontiguousarray(img[..., c : c + 4])) for c in range(0, img.shape[-1], 4)]
    return np.concatenate([p.reshape(*img.shape[:2], -1) for p in parts], axis=-1)


def warp(img: np.ndarray, mask: np.ndarray, dy: np.ndarray,
         dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``img`` (H, W, C) bilinearly and ``mask`` (H, W) at the nearest pixel, at
    (y + dy, x + dx), reflecting at the border: what ``ndimage.map_coordinates`` with order 1
    and 0 and mode "reflect" gives, by ``cv2.remap`` (its sub-pixel position is quantised to
    1/32 px, which ``tests/test_augment.py`` bounds against scipy)."""
    xx, yy = _pixel_grid(mask.shape)
    map_x, map_y = xx + dx, yy + dy
    out = _per_channel_block(img, lambda a: cv2.remap(a, map_x, map_y, cv2.INTER_LINEAR,
                                                      borderMode=cv2.BORDER_REFLECT))
    nearest = cv2.remap(mask, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    return out, nearest


def _elastic(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, alpha: float,
             sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Simard et al. (2003) elastic deformation, as used for ISBI by the 2015 U-Net."""
    dy, dx = elastic_field(mask.shape, rng, alpha, sigma)
    return warp(np.ascontiguousarray(img), np.ascontiguousarray(mask), dy, dx)


def affine_warp(img: np.ndarray, mask: np.ndarray, matrix: np.ndarray,
                offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ndimage.affine_transform(·, matrix, offset, mode="grid-constant")`` of an image
    (H, W, C) (bilinear) and its mask (nearest), zero outside: output pixel o (row, col) reads
    input ``matrix @ o + offset``. By ``cv2.warpAffine``, whose matrix acts on (col, row),
    hence the swaps."""
    h, w = mask.shape
    m = np.array([[matrix[1, 1], matrix[1, 0], offset[1]],
                  [matrix[0, 1], matrix[0, 0], offset[0]]], np.float64)
    flags = cv2.WARP_INVERSE_MAP
    out = _per_channel_block(img, lambda a: cv2.warpAffine(
        a, m, (w, h), flags=flags | cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT))
    nearest = cv2.warpAffine(mask, m, (w, h), flags=flags | cv2.INTER_NEAREST,
                             borderMode=cv2.BORDER_CONSTANT)
    return out, nearest


def _affine(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, degrees: float,
            scale: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = mask.shape
    theta = np.deg2rad(rng.uniform(-degrees, degrees))
    s = 1.0 + rng.uniform(-scale, scale)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) / s
    centre = np.array([h / 2, w / 2])
    return affine_warp(np.ascontiguousarray(img), np.ascontiguousarray(mask), rot,
                       centre - rot @ centre)


def augment(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
            cfg: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Random flips, 90° rotations, elastic and small affine warps of one (image, mask) pair.

    ``cfg`` is ``train.<dataset>.augment``: every flag, and each enabled transform's settings
    (``segstudy.config`` checks both; nothing here has a default)."""
    if cfg["flip"]:
        if rng.random() < 0.5:
            img, mask = img[:, ::-1], mask[:, ::-1]
        if rng.random() < 0.5:
            img, mask = img[::-1], mask[::-1]
    if cfg["rot90"]:
        k = int(rng.integers(4))
        img, mask = np.rot90(img, k), np.rot90(mask, k)
    if cfg["affine"]:
        img, mask = _affine(img, mask, rng, cfg["affine_degrees"], cfg["affine_scale"])
    if cfg["elastic"]:
        img, mask = _elastic(img, mask, rng, cfg["elastic_alpha"], cfg["elastic_sigma"])
    return np.ascontiguousarray(img), np.ascontiguousarray(mask)
