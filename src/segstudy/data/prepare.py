"""``prepare``: raw files → compact uint8 arrays, a split, and the normalisation to apply.

Output folder ``data/prepared/<dataset>/``:

- ``images.npy`` (N, H, W, C) uint8 and ``masks.npy`` (N, H, W) uint8 in {0, 1}: kept as
  uint8 so training can memory-map them and normalise on the fly;
- ``split.csv`` with ``sample_id,case_id,split``, one row per array row, in array order;
- ``norm.json``: per-channel ``mean`` and ``std`` (``x_norm = (x - mean) / std``), computed on
  the training split for ``per_channel``, fixed at 127.5/127.5 for ``range`` (→ [-1, 1]);
  ``{"mode": "per_image"}`` alone for ``per_image`` (each image by its own tissue statistics);
  for ``per_volume`` the stored images are first put on one scale per patient volume
  (``data.prepared.standardise_volumes``), then ``mean``/``std`` come from training as for
  ``per_channel``;
- ``weights.npy`` where ``border_weight`` is set: the U-Net paper's pixel weights (uint8,
  ``segstudy.data.weights``), which training applies to the loss;
- ISBI only: ``unlabelled.npy``, the challenge's test stack without labels, for figures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segstudy import SegstudyError
from segstudy.data.split import split_by_patient, split_by_slice, split_contiguous
from segstudy.data.prepared import resize_images, standardise_volumes
from segstudy.data.validate import list_lgg_slices, read_isbi_stack, read_lgg_slice
from segstudy.data.weights import weight_maps
from segstudy.io import atomic_path, write_json
from segstudy.params import choice

log = logging.getLogger(__name__)


def normalisation(images: np.ndarray, train: np.ndarray, mode: str) -> dict[str, list[float]]:
    mode = choice(mode, ("per_channel", "range", "per_image", "per_volume"),
                  "prepare.<dataset>.normalise")
    channels = images.shape[-1]
    if mode == "per_image":  # statistics of each image at use (data.prepared.normalise)
        return {"mode": mode}
    if mode == "range":
        return {"mode": mode, "mean": [127.5] * channels, "std": [127.5] * channels}
    # Chunked float64 sums: one pass, no float copy of the whole training set in memory.
    total = np.zeros(channels)
    total_sq = np.zeros(channels)
    count = 0
    idx = np.flatnonzero(train)
    for start in range(0, len(idx), 64):
        chunk = images[idx[start : start + 64]].astype(np.float64)
        total += chunk.sum(axis=(0, 1, 2))
        total_sq += (chunk**2).sum(axis=(0, 1, 2))
        count += chunk.shape[0] * chunk.shape[1] * chunk.shape[2]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 1e-12))
    return {"mode": mode, "mean": mean.round(6).tolist(), "std": std.round(6).tolist()}


def _resize(img: np.ndarray, mask: np.ndarray, size: int | None) -> tuple[np.ndarray, np.ndarray]:
    if not size or img.shape[0] == size:
        return img, mask
    from skimage.transform import resize

    mask = resize(mask, (size, size), order=0, preserve_range=True, anti_aliasing=False)
    return resize_images(img[None], size)[0], mask.astype(np.uint8)


def prepare_lgg(raw: Path, cfg: Mapping[str, Any], seed: int) -> dict[str, Any]:
    slices = list_lgg_slices(raw / "kaggle_3m")
    size = cfg.get("resize_to")
    first, _ = _resize(*read_lgg_slice(slices[0]), size)
    images = np.empty((len(slices), *first.shape), np.uint8)
    masks = np.empty((len(slices), *first.shape[:2]), np.uint8)
    for i, s in enumerate(slices):
        img, mask = _resize(*read_lgg_slice(s), size)
        if img.shape != first.shape:
            raise SegstudyError(f"{s.image}: size {img.shape} differs from {first.shape}; set a size")
        images[i] = img
        masks[i] = mask > 0
    case_ids = [s.case_id for s in slices]
    split_cfg = cfg["split"]
    by = choice(split_cfg["by"], ("slice", "patient"), "prepare.lgg.split.by")
    if by == "slice":
        split = split_by_slice(len(slices), split_cfg["counts"], seed)
    else:
        split = split_by_patient(case_ids, split_cfg["counts"], seed)
    table = pd.DataFrame(
        {"sample_id": [s.sample_id for s in slices], "case_id": case_ids, "split": split}
    )
    return {"images": images, "masks": masks, "table": table, "extra": {}}


def prepare_isbi(raw: Path, cfg: Mapping[str, Any], seed: int) -> dict[str, Any]:
    images = read_isbi_stack(raw / "train-volume.tif")[..., None]
    masks = (read_isbi_stack(raw / "train-labels.tif", labels=True) > 0).astype(np.uint8)
    unlabelled = read_isbi_stack(raw / "test-volume.tif")[..., None]
    split_cfg = cfg["split"]
    choice(split_cfg["rule"], ("contiguous",), "prepare.isbi2012.split.rule")
    split = split_contiguous(len(images), split_cfg["counts"])
    table = pd.DataFrame(
        {
            "sample_id": [f"train-volume_{i:02d}" for i in range(len(images))],
            "case_id": "isbi2012",
            "split": split,
        }
    )
    return {"images": images, "masks": masks, "table": table, "extra": {"unlabelled": unlabelled}}


def prepare(dataset: str, raw: str | Path, out: str | Path, cfg: Mapping[str, Any], seed: int) -> None:
    raw = Path(raw)
    if not raw.is_dir():
        raise SegstudyError(f"{raw}: missing; run the download stage first (dvc repro download)")
    builder = prepare_isbi if dataset == "isbi2012" else prepare_lgg
    result = builder(raw, cfg, seed)
    table: pd.DataFrame = result["table"]
    train = (table["split"] == "train").to_numpy()
    if cfg["normalise"] == "per_volume":
        result["images"] = standardise_volumes(result["images"], table["case_id"])
    norm = normalisation(result["images"], train, cfg["normalise"])
    with atomic_path(out, is_dir=True) as tmp:
        np.save(tmp / "images.npy", result["images"])
        np.save(tmp / "masks.npy", result["masks"])
        for name, arr in result["extra"].items():
            np.save(tmp / f"{name}.npy", arr)
        table.to_csv(tmp / "split.csv", index=False)
        write_json(tmp / "norm.json", norm)
        if cfg.get("border_weight"):  # the U-Net paper's weight map, once per label slice
            bw = cfg["border_weight"]
            np.save(tmp / "weights.npy", weight_maps(result["masks"], train, bw["w0"], bw["sigma"]))
    counts = table["split"].value_counts().reindex(["train", "val", "test"]).tolist()
    log.info("%s: %d samples, train/val/test = %s", dataset, len(table), counts)
