"""Streaming training batches, backend-agnostic (``keras.utils.PyDataset``).

Each batch is read from the memory-mapped arrays, augmented and normalised on the fly by worker
threads. Randomness is a pure function of ``(seed, epoch, batch index)``, so results do not
depend on thread timing and a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from segstudy import SegstudyError
from segstudy.data.augment import augment
from segstudy.data.prepared import Prepared, normalise, to_mask_scale
from segstudy.data.weights import to_weights


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
        weighted = self.data.weights is not None
        xs, ys, ws = [], [], []
        for idx in chosen:
            img, mask = self.data.images[idx], self.data.masks[idx]
            if weighted:  # an extra image channel: warped, flipped and cropped with the image
                img = np.concatenate([img, self.data.weights[idx][..., None]], axis=-1)
            if self.tile:
                h, w = mask.shape
                if self.tile > min(h, w):
                    raise SegstudyError(f"train tile {self.tile} exceeds image size {h}x{w}")
                y0, x0 = rng.integers(0, h - self.tile + 1), rng.integers(0, w - self.tile + 1)
                img = img[y0 : y0 + self.tile, x0 : x0 + self.tile]
                mask = mask[y0 : y0 + self.tile, x0 : x0 + self.tile]
            img, mask = augment(np.asarray(img), np.asarray(mask), rng, self.augment_cfg)
            if weighted:
                img, weight = img[..., :-1], img[..., -1]
                ws.append(weight)
            xs.append(img)
            ys.append(mask)
        x = normalise(np.stack(xs), self.data.norm)
        y = to_mask_scale(np.stack(ys), self.mask_range)
        if weighted:  # the loss reads channel 1 as the pixel weight (training.losses)
            # a pixel a warp brought in from outside (zero) gets weight 1, not 0
            weight = np.maximum(to_weights(np.stack(ws)), 1.0)
            y = np.concatenate([y, weight[..., None]], axis=-1)
        return x, y


def positive_sampled(indices: np.ndarray, positive: np.ndarray, share: float | None) -> np.ndarray:
    """``indices`` with the foreground ones (``positive[i]``) repeated a whole number of times,
    so they make up about ``share`` of an epoch (each background sample still appears once).
    ``None``: ``indices`` unchanged. Sparse foreground (LGG: 35 % of slices have tumour) then
    gets as many updates as the background, without weighting the loss."""
    indices = np.asarray(indices)
    if not share:
        return indices
    pos, neg = indices[positive[indices]], indices[~positive[indices]]
    if len(pos) == 0 or len(neg) == 0:
        return indices
    repeats = max(1, round(share * len(neg) / ((1 - share) * len(pos))))
    return np.concatenate([neg, np.repeat(pos, repeats)])
