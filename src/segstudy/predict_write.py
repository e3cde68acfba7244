"""``predict``'s compute and writing: resize to the model's size, one model call per batch of
slices across files, masks back at each input's size, then masks, overlays and CSV rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from segstudy.predict import Item


def _resize_all(images: np.ndarray, size: tuple[int, int], order: int) -> np.ndarray:
    from skimage.transform import resize

    return np.stack([resize(im, size, order=order, preserve_range=True,
                            anti_aliasing=order > 0) for im in images])


def segment(model: Any, info: dict[str, Any], items: list[Item], batch_size: int,
            progress: bool) -> Iterator[tuple[Item, np.ndarray]]:
    """Yield ``(item, mask)`` with ``mask`` (N, H, W) uint8 in {0, 1} at the item's own size."""
    from tqdm import tqdm

    from segstudy.inference import predict_masks
    from segstudy.metrics import binarise

    size = info["input_size"]
    rng = tuple(info["mask_range"])
    model_inputs = []
    for item in items:
        x = item.pixels
        if size and x.shape[1:3] != (size, size):
            x = _resize_all(x, (size, size), 1).round().clip(0, 255).astype(np.uint8)
        model_inputs.append(x)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)  # same shape: one array
    for i, x in enumerate(model_inputs):
        groups[x.shape[1:]].append(i)
    bar = tqdm(total=len(items), desc="predict", unit="file", disable=not progress)
    for members in groups.values():
        stacked = np.concatenate([model_inputs[i] for i in members])
        prob = predict_masks(model, stacked, info["norm"], batch_size)
        start = 0
        for i in members:
            item, n = items[i], len(model_inputs[i])
            p, start = prob[start : start + n], start + n
            h, w = item.pixels.shape[1:3]
            if p.shape[1:] != (h, w):
                p = _resize_all(p, (h, w), 1)
            bar.update(1)
            yield item, binarise(p, rng).astype(np.uint8)
    bar.close()


def write_item(folder: Path, item: Item, mask: np.ndarray, size: int | None,
               min_area: int | None) -> list[dict[str, Any]]:
    """Write ``item``'s mask and overlay under ``folder``; return its CSV rows."""
    from skimage.io import imsave

    base = folder / item.name
    base.parent.mkdir(parents=True, exist_ok=True)
    if item.stack:
        mask_file = base.with_name(base.name + "_mask.tif")
        tifffile.imwrite(mask_file, mask * 255, compression="deflate")
    else:
        mask_file = base.with_name(base.name + "_mask.png")
        imsave(mask_file, mask[0] * 255, check_contrast=False)
    _overlay(base.with_name(base.name + "_overlay.png"), item.pixels[0], mask[0])
    h, w = mask.shape[1:3]
    # min_area was chosen at the model's input size: scale it to this image's pixels
    scale = (h * w) / (size * size) if size else 1.0
    rows = []
    for i, m in enumerate(mask):
        area = int(m.sum())
        row = {"input": str(item.source), "mask": str(mask_file.relative_to(folder)),
               "slice": i, "height": h, "width": w, "mask_area_px": area}
        if min_area is not None:
            row["decision"] = "Tumour" if area >= min_area * scale else "No tumour"
        rows.append(row)
    return rows


def _overlay(path: Path, image: np.ndarray, mask: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = image[..., 1] if image.shape[-1] == 3 else image[..., 0]  # FLAIR for LGG
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.imshow(shown, cmap="gray")
    if mask.any() and not mask.all():
        ax.contour(mask, levels=[0.5], colors="red", linewidths=0.8)
    ax.axis("off")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
