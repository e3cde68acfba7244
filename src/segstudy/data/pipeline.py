"""Streaming batches for training and inference, backend-agnostic (``keras.utils.PyDataset``).

Arrays stay uint8 on disk (memory-mapped); each batch is normalised and augmented on the fly by
worker threads. Randomness is a pure function of ``(seed, epoch, batch index)``, so results do
not depend on thread timing and a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import keras
import numpy as np
import pandas as pd
from scipy import ndimage

from segstudy import SegstudyError

# Batches are built by the PyDataset's worker threads next to the model's own threads on few
# cores: OpenCV's thread pool on top would oversubscribe them.
cv2.setNumThreads(1)


class Prepared:
    """A prepared data set: memory-mapped arrays, the split table and the normalisation."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        if not (folder / "split.csv").is_file():
            raise SegstudyError(f"{folder}: no split.csv; run the prepare stage first")
        self.folder = folder
        self.images = np.load(folder / "images.npy", mmap_mode="r")
        self.masks = np.load(folder / "masks.npy", mmap_mode="r")
        self.table = pd.read_csv(folder / "split.csv")
        self.norm = json.loads((folder / "norm.json").read_text())
        if len(self.table) != len(self.images) or self.images.shape[:3] != self.masks.shape:
            raise SegstudyError(f"{folder}: arrays and split.csv disagree; rerun prepare")

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.table["split"].to_numpy() == split)

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])


def normalise(images: np.ndarray, norm: Mapping[str, Any]) -> np.ndarray:
    """uint8 (..., C) → float32 ``(x - mean) / std`` per channel; the one normalisation.

    A uint8 pixel has 256 values, so the formula is evaluated once per value and channel and
    the images are mapped through that table (``cv2.LUT``): the same float32 numbers, 8× faster
    than numpy's broadcast over a last axis of 3, which was half of paper B's input cost
    (README, benchmark: optimisations).
    """
    mean = np.asarray(norm["mean"], np.float32)
    std = np.asarray(norm["std"], np.float32)
    images = np.asarray(images)
    channels = images.shape[-1] if images.ndim else 0
    if images.dtype != np.uint8 or images.size == 0 or images.ndim < 3 or channels > 4:
        return (images.astype(np.float32) - mean) / std
    # broadcast_to: a norm with one mean/std for every channel stays valid, as in the formula.
    table = np.broadcast_to((np.arange(256, dtype=np.float32)[:, None] - mean) / std,
                            (256, channels))
    rows = np.ascontiguousarray(images).reshape(-1, images.shape[-2], channels)
    mapped = cv2.LUT(rows, np.ascontiguousarray(table.reshape(1, 256, channels)))
    return mapped.reshape(images.shape)


def to_mask_scale(masks: np.ndarray, mask_range: tuple[float, float]) -> np.ndarray:
    """{0, 1} masks (N, H, W) → (N, H, W, 1) float32 on the model's scale (lo, hi)."""
    lo, hi = mask_range
    return (lo + (hi - lo) * masks.astype(np.float32))[..., None]


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
    """Random flips, 90° rotations, elastic and small affine warps of one (image, mask) pair."""
    if cfg.get("flip"):
        if rng.random() < 0.5:
            img, mask = img[:, ::-1], mask[:, ::-1]
        if rng.random() < 0.5:
            img, mask = img[::-1], mask[::-1]
    if cfg.get("rot90"):
        k = int(rng.integers(4))
        img, mask = np.rot90(img, k), np.rot90(mask, k)
    if cfg.get("affine"):
        img, mask = _affine(img, mask, rng, cfg.get("affine_degrees", 10.0),
                            cfg.get("affine_scale", 0.05))
    if cfg.get("elastic"):
        img, mask = _elastic(img, mask, rng, cfg.get("elastic_alpha", 34.0),
                             cfg.get("elastic_sigma", 4.0))
    return np.ascontiguousarray(img), np.ascontiguousarray(mask)


class TrainBatches(keras.utils.PyDataset):
    """Shuffled, augmented training batches; whole images, or random square tiles of ``tile``.

    ``first_epoch`` lets a resumed run continue the exact stream of an uninterrupted one.
    """

    def __init__(self, data: Prepared, indices: np.ndarray, mask_range: tuple[float, float],
                 batch_size: int, augment_cfg: Mapping[str, Any], seed: int,
                 steps: int | None = None, tile: int | None = None, first_epoch: int = 0,
                 workers: int = 2):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=4)
        if len(indices) == 0:
            raise SegstudyError(f"{data.folder}: the training split is empty")
        self.data, self.indices = data, np.asarray(indices)
        self.mask_range, self.batch_size = mask_range, int(batch_size)
        self.augment_cfg, self.seed, self.tile = dict(augment_cfg), int(seed), tile
        self.steps = int(steps) if steps else math.ceil(len(indices) / self.batch_size)
        self._draws = np.full(self.steps, first_epoch, dtype=np.int64)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.steps

    def _epoch_of(self, i: int) -> int:
        # Each index is requested once per epoch, so its request count *is* the epoch number,
        # whatever order the worker threads run in.
        with self._lock:
            epoch = int(self._draws[i])
            self._draws[i] += 1
        return epoch

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        epoch = self._epoch_of(i)
        rng = np.random.default_rng([self.seed, epoch, i])
        if self.tile:
            chosen = rng.choice(self.indices, self.batch_size)
        else:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.indices)
            chosen = order[(i * self.batch_size) % len(order):][: self.batch_size]
        xs, ys = [], []
        for idx in chosen:
            img, mask = self.data.images[idx], self.data.masks[idx]
            if self.tile:
                h, w = mask.shape
                if self.tile > min(h, w):
                    raise SegstudyError(f"train tile {self.tile} exceeds image size {h}x{w}")
                y0, x0 = rng.integers(0, h - self.tile + 1), rng.integers(0, w - self.tile + 1)
                img = img[y0 : y0 + self.tile, x0 : x0 + self.tile]
                mask = mask[y0 : y0 + self.tile, x0 : x0 + self.tile]
            img, mask = augment(np.asarray(img), np.asarray(mask), rng, self.augment_cfg)
            xs.append(img)
            ys.append(mask)
        x = normalise(np.stack(xs), self.data.norm)
        y = to_mask_scale(np.stack(ys), self.mask_range)
        return x, y


def pad_to_multiple(x: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad (N, H, W, C) so H and W divide by ``multiple``; return the original size."""
    h, w = x.shape[1:3]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="reflect")
    return x, (h, w)


def predict_masks(model: keras.Model, images: np.ndarray, norm: Mapping[str, Any],
                  batch_size: int = 8, multiple: int = 16) -> np.ndarray:
    """Model output (N, H, W) float32 on the mask scale for uint8 images (N, H, W, C)."""
    out = []
    for start in range(0, len(images), batch_size):
        x, (h, w) = pad_to_multiple(normalise(np.asarray(images[start : start + batch_size]), norm),
                                    multiple)
        y = keras.ops.convert_to_numpy(model(x, training=False))
        out.append(y[:, :h, :w, 0].astype(np.float32))
    return np.concatenate(out) if out else np.zeros((0, *images.shape[1:3]), np.float32)
