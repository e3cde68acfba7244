"""``predict``'s compute and writing: resize to the model's size, one model call per batch of
slices across files, masks back at each input's size, then masks, one overlay montage per case
(per-slice overlays on request), and the per-slice and per-case CSV rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from segstudy.data.prepared import resize_images, standardise_volumes
from segstudy.detection import CLASSES, is_tumour
from segstudy.predict_inputs import Item


def segment(model: Any, info: dict[str, Any], items: list[Item], batch_size: int,
            progress: bool) -> Iterator[tuple[Item, np.ndarray]]:
    """Yield ``(item, mask)`` with ``mask`` (N, H, W) uint8 in {0, 1} at the item's own size."""
    import cv2

    from segstudy import postprocess
    from segstudy.metrics import binarise
    from segstudy.progress import Progress

    size = info["input_size"]
    rng = tuple(info["mask_range"])
    post = postprocess.settings(info)  # chosen on validation at export, as evaluate applies it
    model_inputs = []
    for item in items:
        x = item.pixels
        if size and x.shape[1:3] != (size, size):
            x = resize_images(x, size)  # as prepare resized the training scans
        model_inputs.append(x)
    if info["norm"].get("mode") == "per_volume":  # as prepare stored the training scans
        volumes: dict[str, list[int]] = defaultdict(list)
        for i, item in enumerate(items):
            volumes[volume_of(item)].append(i)
        for members in volumes.values():  # a volume's slices share the model's input size
            flat = np.concatenate([model_inputs[i] for i in members])
            flat = standardise_volumes(flat, np.zeros(len(flat)))
            bounds = np.cumsum([len(model_inputs[i]) for i in members])[:-1]
            for i, part in zip(members, np.split(flat, bounds), strict=True):
                model_inputs[i] = part
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)  # same shape: one array
    for i, x in enumerate(model_inputs):
        groups[x.shape[1:]].append(i)
    bar = Progress(sum(len(x) for x in model_inputs), "predict", "slice", enabled=progress)
    for members in groups.values():
        stacked = np.concatenate([model_inputs[i] for i in members])
        # one volume per case folder (kaggle_3m: a slice per file) or per stack
        cases = np.concatenate([np.full(len(model_inputs[i]), volume_of(items[i]))
                                for i in members])
        prob = postprocess.apply(model, stacked, info["norm"], batch_size, cases, rng, post)
        start = 0
        for i in members:
            item, n = items[i], len(model_inputs[i])
            p, start = prob[start : start + n], start + n
            h, w = item.pixels.shape[1:3]
            if p.shape[1:] != (h, w):  # bilinear, as prepare's resize; OpenCV is ~2x faster
                p = np.stack([cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR) for s in p])
            bar.update(n)
            yield item, binarise(p, rng).astype(np.uint8)
    bar.close()


def volume_of(item: Item) -> str:
    """One patient volume per stack or per folder of single slices (a kaggle_3m case folder):
    what ``largest_3d`` and ``per_volume`` normalisation treat as one volume."""
    return str(item.source if item.stack else item.source.parent)


def write_item(folder: Path, item: Item, case: str, mask: np.ndarray, size: int | None,
               min_area: int | None, slice_overlays: bool) -> list[dict[str, Any]]:
    """Write ``item``'s mask (and, with ``slice_overlays``, its own overlay) under ``folder``;
    return its CSV rows, each naming ``case`` (:func:`case_of`)."""
    from segstudy.montage import overlay, write_png

    base = folder / item.name
    base.parent.mkdir(parents=True, exist_ok=True)
    if item.stack:
        mask_file = base.with_name(base.name + "_mask.tif")
        tifffile.imwrite(mask_file, mask * 255, compression="deflate")
    else:
        mask_file = base.with_name(base.name + "_mask.png")
        write_png(mask_file, mask[0] * 255)
    if slice_overlays and not item.stack:
        write_png(base.with_name(base.name + "_overlay.png"), overlay(item.pixels[0], mask[0]))
    h, w = mask.shape[1:3]
    # min_area was chosen at the model's input size: scale it to this image's pixels
    scale = (h * w) / (size * size) if size else 1.0
    rows = []
    for i, m in enumerate(mask):
        area = int(m.sum())
        row = {"case": case, "input": str(item.source),
               "mask": str(mask_file.relative_to(folder)), "slice": i, "height": h, "width": w,
               "mask_area_px": area}
        if min_area is not None:
            row["decision"] = CLASSES[0] if is_tumour(area, min_area * scale) else CLASSES[1]
        rows.append(row)
    return rows


def case_of(item: Item, root_name: str) -> str:
    """The case an input belongs to, which names its rows in both CSVs and its montage: a stack
    is its own case; single images belong to their folder (a kaggle_3m case folder), and those
    in the inputs' common folder itself to ``root_name``, that folder's name (so predicting one
    case folder names the case after it)."""
    if item.stack:
        return item.name
    folder = Path(item.name).parent.as_posix()
    return root_name if folder == "." else folder


class Montages:
    """Collects each case's slices as they are segmented and writes one overlay montage per
    case (:func:`case_of`), ``<case>_montage.png``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.open: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = defaultdict(list)

    def add(self, item: Item, case: str, mask: np.ndarray) -> None:
        for i in range(len(mask)):
            label = str(i) if item.stack else Path(item.name).name.rsplit("_", 1)[-1]
            self.open[case].append((label, item.pixels[i], mask[i]))

    def write(self) -> None:
        from segstudy.montage import montage, write_png

        for name, slices in self.open.items():
            by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
            for k, (_, image, _) in enumerate(slices):
                by_shape[image.shape].append(k)
            for j, members in enumerate(by_shape.values()):  # a montage needs one tile size
                suffix = "_montage.png" if j == 0 else f"_montage{j + 1}.png"
                path = self.folder / (name + suffix)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_png(path, montage(np.stack([slices[k][1] for k in members]),
                                        np.stack([slices[k][2] for k in members]),
                                        [slices[k][0] for k in members]))


def case_table(rows: list[dict[str, Any]]) -> Any:
    """One row per case: slices, tumour area in pixels over all slices (its volume in pixels),
    and, where the model has a Tumour rule, how many slices it calls Tumour."""
    import pandas as pd

    table = pd.DataFrame(rows)
    agg = {"slices": ("slice", "size"), "mask_area_px": ("mask_area_px", "sum")}
    if "decision" in table:
        table["tumour"] = table["decision"] == "Tumour"
        agg["tumour_slices"] = ("tumour", "sum")
    return table.groupby("case", sort=False).agg(**agg).reset_index()
