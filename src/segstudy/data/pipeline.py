"""Streaming batches for training and inference, backend-agnostic (``keras.utils.PyDataset``).

Arrays stay uint8 on disk (memory-mapped); each batch is normalised and augmented on the fly by
worker threads. Randomness is a pure function of ``(seed, epoch, batch index)``, so results do
not depend on thread timing and a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
from scipy import ndimage

from segstudy import SegstudyError


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
    """uint8 (..., C) → float32 ``(x - mean) / std`` per channel; the one normalisation."""
    mean = np.asarray(norm["mean"], np.float32)
    std = np.asarray(norm["std"], np.float32)
    return (images.astype(np.float32) - mean) / std


def to_mask_scale(masks: np.ndarray, mask_range: tuple[float, float]) -> np.ndarray:
    """{0, 1} masks (N, H, W) → (N, H, W, 1) float32 on the model's scale (lo, hi)."""
    lo, hi = mask_range
    return (lo + (hi - lo) * masks.astype(np.float32))[..., None]


def _elastic(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, alpha: float,
             sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Simard et al. (2003) elastic deformation, as used for ISBI by the 2015 U-Net."""
    h, w = mask.shape
    dx = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma) * alpha
    dy = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma) * alpha
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    coords = np.array([yy + dy, xx + dx])
    img = np.stack(
        [ndimage.map_coordinates(img[..., c], coords, order=1, mode="reflect")
         for c in range(img.shape[-1])], axis=-1)
    mask = ndimage.map_coordinates(mask, coords, order=0, mode="reflect")
    return img, mask


def _affine(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, degrees: float,
            scale: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = mask.shape
    theta = np.deg2rad(rng.uniform(-degrees, degrees))
    s = 1.0 + rng.uniform(-scale, scale)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) / s
    centre = np.array([h / 2, w / 2])
    offset = centre - rot @ centre
    img = np.stack(
        [ndimage.affine_transform(img[..., c], rot, offset, order=1, mode="constant")
         for c in range(img.shape[-1])], axis=-1)
    mask = ndimage.affine_transform(mask, rot, offset, order=0, mode="constant")
    return img, mask


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
