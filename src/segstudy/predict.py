"""Run a trained model on new scans: single images, multi-page stacks, kaggle_3m folders.

The model's sidecar JSON (``<model>.json``, written by training) holds the normalisation and
mask scale, so nothing is re-guessed. Images are resized to the training resolution when the
model was trained on resized data (``prepare.<dataset>.resize_to``), and masks back to the
input's size. Writes, per input, a mask (``<name>_mask.png``, or a multi-page TIFF for a
stack), an overlay PNG, and one ``predictions.csv`` with per-slice area and the Tumour /
No-tumour decision at the validated ``min_area`` (from ``metrics/<dataset>/<model>.json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tifffile

from segstudy import SegstudyError
from segstudy.data.validate import LGG_SLICE_RE, read_tiff
from segstudy.io import atomic_path

IMAGE_SUFFIXES = {".tif", ".tiff", ".png"}


@dataclass
class Item:
    """One input unit: a single image or a stack, with where its outputs go."""

    source: Path
    pixels: np.ndarray  # (N, H, W, C) uint8
    stack: bool


def read_image(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".png":
        from skimage.io import imread

        try:
            return np.asarray(imread(path))
        except Exception as exc:
            raise SegstudyError(f"{path}: not a readable PNG ({exc})") from None
    return read_tiff(path)


def as_batch(arr: np.ndarray, path: Path, channels: int) -> tuple[np.ndarray, bool]:
    """Interpret a decoded file as (N, H, W, C) uint8 for a model of ``channels`` channels."""
    if arr.dtype != np.uint8:
        raise SegstudyError(f"{path}: dtype {arr.dtype}; expected 8-bit images (uint8)")
    if arr.ndim == 2:
        arr, stack = arr[None, ..., None], False
    elif arr.ndim == 3 and arr.shape[-1] in (3, 4) and channels == 3:
        arr, stack = arr[None, ..., :3], False
    elif arr.ndim == 3 and channels == 1:
        arr, stack = arr[..., None], True  # a multi-page grayscale stack
    elif arr.ndim == 4:
        arr, stack = arr, True
    else:
        raise SegstudyError(f"{path}: shape {arr.shape} does not fit a {channels}-channel model")
    if arr.shape[-1] != channels:
        raise SegstudyError(
            f"{path}: {arr.shape[-1]} channel(s), but the model expects {channels}; "
            "use the model trained on this kind of image"
        )
    return arr, stack


def iter_inputs(paths: list[Path], channels: int) -> Iterator[Item]:
    for path in paths:
        if path.is_dir():
            files = sorted(
                (f for f in path.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES
                 and not f.stem.endswith("_mask")),
                key=_natural_key,
            )
            if not files:
                raise SegstudyError(f"{path}: folder holds no .tif/.tiff/.png images")
            for f in files:
                arr, stack = as_batch(read_image(f), f, channels)
                yield Item(f, arr, stack)
        elif path.is_file():
            arr, stack = as_batch(read_image(path), path, channels)
            yield Item(path, arr, stack)
        else:
            raise SegstudyError(f"{path}: no such file or folder")


def _natural_key(p: Path) -> tuple:
    m = LGG_SLICE_RE.match(p.name)
    return (str(p.parent), m["case"], int(m["slice"])) if m else (str(p.parent), p.name, 0)


def training_size(info: dict[str, Any], params_path: Path = Path("params.yaml")) -> int | None:
    """The square size the model was trained at, if its data were resized."""
    if info.get("input_size"):
        return int(info["input_size"])
    if params_path.is_file():
        import yaml

        cfg = yaml.safe_load(params_path.read_text()).get("prepare", {}).get(info["dataset"], {})
        return cfg.get("resize_to")
    return None


def predict_paths(model_path: str | Path, inputs: list[str | Path], out_dir: str | Path,
                  min_area: int | None = None, batch_size: int = 8,
                  progress: bool = True) -> Path:
    """Predict every input; return the CSV path. Outputs appear only when all succeeded."""
    from skimage.transform import resize
    from tqdm import tqdm

    from segstudy.data.pipeline import predict_masks
    from segstudy.evaluate import load_model
    from segstudy.metrics import binarise

    model_path = Path(model_path)
    model, info = load_model(model_path)
    channels, rng = int(info["in_channels"]), tuple(info["mask_range"])
    size = training_size(info)
    if min_area is None:
        metrics = Path("metrics") / info["dataset"] / f"{model_path.stem}.json"
        if metrics.is_file():
            det = json.loads(metrics.read_text()).get("detection")
            min_area = det["chosen_on_val"]["min_area"] if det else None
    items = list(iter_inputs([Path(p) for p in inputs], channels))  # read all first: fail early
    rows = []
    with atomic_path(out_dir, is_dir=True) as tmp:
        for item in tqdm(items, desc="predict", unit="file", disable=not progress):
            h, w = item.pixels.shape[1:3]
            x = item.pixels
            if size and (h, w) != (size, size):
                x = np.stack([resize(im, (size, size), order=1, preserve_range=True,
                                     anti_aliasing=True).round().astype(np.uint8) for im in x])
            prob = predict_masks(model, x, info["norm"], batch_size)
            if prob.shape[1:] != (h, w):
                prob = np.stack([resize(p, (h, w), order=1, preserve_range=True) for p in prob])
            mask = binarise(prob, rng).astype(np.uint8)
            _write_outputs(tmp, item, mask)
            scale = (h * w) / (size * size) if size else 1.0
            for i, m in enumerate(mask):
                area = int(m.sum())
                row = {"input": str(item.source), "slice": i, "height": h, "width": w,
                       "mask_area_px": area}
                if min_area is not None:
                    # min_area was validated at the training resolution; scale it to this size
                    row["decision"] = "Tumour" if area >= min_area * scale else "No tumour"
                rows.append(row)
        pd.DataFrame(rows).to_csv(tmp / "predictions.csv", index=False)
    return Path(out_dir) / "predictions.csv"


def _write_outputs(folder: Path, item: Item, mask: np.ndarray) -> None:
    from skimage.io import imsave

    stem = item.source.stem
    if item.stack:
        tifffile.imwrite(folder / f"{stem}_mask.tif", mask * 255, compression="deflate")
    else:
        imsave(folder / f"{stem}_mask.png", mask[0] * 255, check_contrast=False)
    _overlay(folder / f"{stem}_overlay.png", item.pixels[0], mask[0])


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
