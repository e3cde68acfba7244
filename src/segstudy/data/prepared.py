"""A prepared data set as stored by ``prepare``, and the one normalisation.

Arrays stay uint8 on disk (memory-mapped, ``images.npy`` / ``masks.npy``) beside ``split.csv``
and ``norm.json``; images are normalised on the fly, in training and inference alike. Needs no
deep-learning framework, so a stage can open its data before TensorFlow starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

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
        weights = folder / "weights.npy"  # the loss's pixel weights, where prepare made them
        self.weights = np.load(weights, mmap_mode="r") if weights.is_file() else None
        if len(self.table) != len(self.images) or self.images.shape[:3] != self.masks.shape:
            raise SegstudyError(f"{folder}: arrays and split.csv disagree; rerun prepare")

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.table["split"].to_numpy() == split)

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])


PER_IMAGE_MIN_SHARE = 0.01  # below this share of non-zero pixels, per_image uses the whole image
PER_IMAGE_MIN_STD = 1.0     # grey levels: a near-constant image is not blown up


def normalise(images: np.ndarray, norm: Mapping[str, Any]) -> np.ndarray:
    """uint8 (..., H, W, C) → float32; the one normalisation, chosen by ``norm["mode"]``.

    - ``per_channel`` / ``range``: ``(x - mean) / std`` with the stored ``mean`` and ``std``;
    - ``per_volume``: as ``per_channel``, on images that :func:`standardise_volumes` has
      already put on one scale per patient volume (``prepare`` and ``predict`` call it);
    - ``per_image``: each image by its own statistics, ``(x - m) / max(s, 1)`` per channel,
      where m and s are the mean and standard deviation over the image's *tissue* (pixels
      where any channel is non-zero; the whole image when tissue is under 1 % of it). MRI
      intensities differ from scanner to scanner and patient to patient; statistics of the
      image itself carry over to a patient nobody trained on, a training-set mean does not.

    With stored statistics, a uint8 pixel has 256 values, so the formula is evaluated once per value and channel and
    the images are mapped through that table (``cv2.LUT``): the same float32 numbers, 8× faster
    than numpy's broadcast over a last axis of 3, which was half of paper B's input cost
    (README, benchmark: optimisations).
    """
    if norm.get("mode") == "per_image":
        return _per_image(np.asarray(images))
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


def _per_image(images: np.ndarray) -> np.ndarray:
    if images.ndim < 3:
        raise SegstudyError(f"per_image normalisation needs (..., H, W, C) images, got "
                            f"shape {images.shape}")
    x = images.astype(np.float32)
    tissue = (images != 0).any(axis=-1, keepdims=True)
    share = tissue.mean(axis=(-3, -2, -1), keepdims=True, dtype=np.float32)
    weight = np.where(share >= PER_IMAGE_MIN_SHARE, tissue, True).astype(np.float32)
    count = weight.sum(axis=(-3, -2), keepdims=True)
    mean = (x * weight).sum(axis=(-3, -2), keepdims=True) / count
    var = (np.square(x - mean) * weight).sum(axis=(-3, -2), keepdims=True) / count
    return (x - mean) / np.maximum(np.sqrt(var), np.float32(PER_IMAGE_MIN_STD))


VOLUME_CENTRE, VOLUME_SCALE = 128.0, 32.0  # uint8 level of the tissue mean; levels per std


def standardise_volumes(images: np.ndarray, cases: Any) -> np.ndarray:
    """uint8 (N, H, W, C) → uint8: each volume (the rows of one ``cases`` value) per channel
    by the mean and standard deviation of its *tissue* (pixels where any channel is non-zero;
    the whole volume when tissue is under 1 % of it; std floor 1 grey level), stored as
    ``clip(128 + 32 z, 1, 255)`` on tissue and 0 off it (±4 standard deviations).

    Statistics of a patient's whole volume, as Buda et al. (2019) normalise: like
    ``per_image`` they carry over to a scanner nobody trained on, but a large tumour, which
    can cover a third of a slice's tissue and so pull that slice's own mean and spread
    towards itself, is a small share of the volume.
    """
    images = np.asarray(images)
    cases = np.asarray(cases)
    if images.ndim != 4 or images.dtype != np.uint8 or len(cases) != len(images):
        raise SegstudyError(f"standardise_volumes needs uint8 (N, H, W, C) images and one case "
                            f"per image, got {images.dtype} {images.shape} and {len(cases)}")
    out = np.zeros_like(images)
    for case in dict.fromkeys(cases.tolist()):
        rows = np.flatnonzero(cases == case)
        vol = images[rows]
        tissue = (vol != 0).any(axis=-1)
        if tissue.mean() < PER_IMAGE_MIN_SHARE:
            tissue = np.ones_like(tissue)
        px = vol[tissue].astype(np.float64)  # (pixels, C)
        mean, std = px.mean(axis=0), np.maximum(px.std(axis=0), PER_IMAGE_MIN_STD)
        z = (vol.astype(np.float32) - mean.astype(np.float32)) / std.astype(np.float32)
        level = np.clip(np.rint(VOLUME_CENTRE + VOLUME_SCALE * z), 1, 255)
        out[rows] = np.where(tissue[..., None], level, 0).astype(np.uint8)
    return out


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W, C) → uint8 (N, size, size, C): the one resize of scans to a model's
    input, for ``prepare`` and ``predict`` alike (bilinear with anti-aliasing, rounded)."""
    from skimage.transform import resize

    return np.stack([resize(im, (size, size), order=1, preserve_range=True, anti_aliasing=True)
                     for im in images]).round().clip(0, 255).astype(np.uint8)


def to_mask_scale(masks: np.ndarray, mask_range: tuple[float, float]) -> np.ndarray:
    """{0, 1} masks (N, H, W) → (N, H, W, 1) float32 on the model's scale (lo, hi)."""
    lo, hi = mask_range
    return (lo + (hi - lo) * masks.astype(np.float32))[..., None]
