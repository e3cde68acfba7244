"""A trained model as ``predict`` and ``evaluate`` use it: the ``.keras`` file and its sidecar.

The sidecar (``<model>.json``, written by training) is the model's whole contract with the
outside world, so a model folder copied anywhere predicts the same masks and decisions:

- ``dataset``, ``in_channels``: what kind of image it takes;
- ``norm``: the normalisation of its training data (``{"mean": [...], "std": [...]}``, or
  ``{"mode": "per_image"}``: each image by its own statistics, ``data.prepared.normalise``;
  ``"mode": "per_volume"`` with ``mean``/``std``: ``predict`` first puts each volume on one
  scale, ``data.prepared.standardise_volumes``);
- ``mask_range``: the output scale; a pixel is foreground above its midpoint (``binarise``);
- ``input_size``: the square size every image is resized to, or ``null`` for a fully
  convolutional model applied at the image's own resolution (ISBI, trained on tiles);
- ``decision``: the Tumour / No-tumour rule chosen on validation (``{"min_area": pixels at
  input_size, "recall_floor": ..., ...}``), or ``null`` where slices are not classified;
- ``postprocess`` (optional; none when absent): flip averaging and component clean-up chosen
  on validation, the volume steps a recipe fixes (``segstudy.postprocess``), applied before
  the rule.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from segstudy import SegstudyError, config, layout
from segstudy.data.prepared import normalise

PIXELS_PER_BATCH = 32 * 128 * 128  # predict_masks: small images batch up to this many pixels
PREDICT_CHUNK = 16  # batches normalised and padded at a time (memory bound)
MAX_INPUT_SIZE = 4096  # pixels per side; a larger square is a corrupt sidecar, not a model
SIDECAR_KEYS = ("dataset", "in_channels", "norm", "mask_range", "input_size", "decision")


def read_sidecar(model_path: str | Path) -> dict[str, Any]:
    """The sidecar of ``model_path``, checked; one-line ``SegstudyError`` when it is unusable."""
    model_path = Path(model_path)
    path = layout.sidecar(model_path)
    if not model_path.is_file():
        raise SegstudyError(f"{model_path}: no such model; train it first (dvc repro)")
    if not path.is_file():
        raise SegstudyError(f"{path}: the model's sidecar is missing; copy it beside "
                            f"{model_path.name} or retrain")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SegstudyError(f"{path}: not valid JSON ({exc}); restore it or retrain") from None
    if not isinstance(info, dict):
        raise SegstudyError(f"{path}: expected a JSON object; restore it or retrain")
    missing = [k for k in SIDECAR_KEYS if k not in info]
    if missing:
        raise SegstudyError(f"{path}: missing {', '.join(missing)}; the model was trained by an "
                            "older version, retrain it (dvc repro)")
    _check_fields(info, path)
    return info


def _check_fields(info: dict[str, Any], path: Path) -> None:
    def bad(key: str, expected: str) -> SegstudyError:
        return SegstudyError(f"{path}: {key}: expected {expected}, got {info[key]!r}; restore "
                             "the sidecar or retrain")

    channels = info["in_channels"]
    if not isinstance(channels, int) or isinstance(channels, bool) or channels not in (1, 3):
        raise bad("in_channels", "1 or 3")
    norm = info["norm"]
    if norm != {"mode": "per_image"} and not (
            isinstance(norm, dict) and all(_numbers(norm.get(k)) for k in ("mean", "std"))
            and all(s > 0 for s in norm["std"])
            and len(norm["mean"]) == len(norm["std"]) == channels):
        raise bad("norm", f"{{'mode': 'per_image'}} or {{'mean': [{channels} finite numbers], "
                  f"'std': [{channels} positive finite numbers]}} (one per channel)")
    rng = info["mask_range"]
    if not (_numbers(rng) and len(rng) == 2 and rng[0] < rng[1]):
        raise bad("mask_range", "[low, high] with low < high")
    size = info["input_size"]
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)
                             or not 8 <= size <= MAX_INPUT_SIZE):
        raise bad("input_size", f"an integer in [8, {MAX_INPUT_SIZE}] or null")
    post = info.get("postprocess")
    if post is not None and not _postprocess_ok(post):
        raise bad("postprocess", "{'tta_flip'/'tta_dihedral'/'largest_3d': bool, "
                  "'min_component'/'min_cell': int ≥ 0, 'threshold': in (0, 1), "
                  "'watershed_h': ≥ 0, 'hysteresis': in [0, 0.5)} or null")
    rule = info["decision"]
    if rule is not None and not (isinstance(rule, dict) and _numbers([rule.get("min_area")])
                                 and rule["min_area"] >= 1):
        raise bad("decision", "{'min_area': a positive number, ...} or null")


def _postprocess_ok(post: Any) -> bool:
    if not isinstance(post, dict):
        return False

    def count(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    flags = all(isinstance(post.get(k, False), bool)
                for k in ("tta_flip", "tta_dihedral", "largest_3d", "thin"))
    sizes = all(count(post.get(k, 0)) for k in ("min_component", "min_cell"))
    numbers = _numbers([post.get("threshold", 0.5), post.get("watershed_h", 0.0)])
    return (flags and sizes and numbers and 0 < post.get("threshold", 0.5) < 1
            and post.get("watershed_h", 0.0) >= 0
            and config.hysteresis_ok(post.get("hysteresis", 0.0)))


def _numbers(values: Any) -> bool:
    return (isinstance(values, list) and len(values) > 0
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in values))


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """A trained model (safe mode: no code from the file runs) and its checked sidecar."""
    info = read_sidecar(path)
    import keras

    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SegstudyError(f"{path}: cannot load this model ({type(exc).__name__}: {first}); "
                            "restore it or retrain") from None
    if int(model.input_shape[-1]) != int(info["in_channels"]):
        raise SegstudyError(f"{path}: takes {model.input_shape[-1]} channels but its sidecar says "
                            f"{info['in_channels']}; the two files do not belong together")
    fixed = tuple(model.input_shape[1:3])
    size = info["input_size"]
    if any(d is not None for d in fixed) and (size is None or fixed != (size, size)):
        raise SegstudyError(f"{path}: takes {fixed[0]}×{fixed[1]} images but its sidecar says "
                            f"input_size {size}; the two files do not belong together")
    return model, info


def pad_to_multiple(x: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad (N, H, W, C) so H and W divide by ``multiple``; return the original size."""
    h, w = x.shape[1:3]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="reflect")
    return x, (h, w)


def size_multiple(model: Any) -> int:
    """What the model's input height and width must divide by: 2 ** its 2× poolings (a U-Net of
    depth d: 2**d), read from the model itself, so a depth-5 model pads to 32, not 16; for a
    model of models (an ensemble) the largest of its members'."""
    import keras

    layers = getattr(model, "layers", ())
    pools = [layer for layer in layers if isinstance(layer, keras.layers.MaxPooling2D)]
    own = int(np.prod([layer.pool_size[0] for layer in pools])) if pools else 1
    return max([own, *(size_multiple(m) for m in layers if isinstance(m, keras.Model))])


def predict_masks(model: Any, images: np.ndarray, norm: Mapping[str, Any],
                  batch_size: int = 8, multiple: int | None = None) -> np.ndarray:
    """Model output (N, H, W) float32 on the mask scale for uint8 images (N, H, W, C); the one
    inference path (training's validation, evaluate, predict). Images are reflect-padded to
    ``multiple`` (default: :func:`size_multiple` of the model) and the output cropped back.

    Runs Keras' compiled ``predict`` in batches of ``batch_size`` images, or more where the
    images are small (up to ``PIXELS_PER_BATCH`` pixels): at 128² that is 1.8× the throughput
    of eager calls of 8 with the same output (``docs/benchmarks.md``)."""
    multiple = multiple or size_multiple(model)
    if not len(images):
        return np.zeros((0, *images.shape[1:3]), np.float32)
    batch = max(int(batch_size), PIXELS_PER_BATCH // int(np.prod(images.shape[1:3])))
    out = []
    for start in range(0, len(images), batch * PREDICT_CHUNK):  # bounds the float copy
        x, (h, w) = pad_to_multiple(
            normalise(np.asarray(images[start : start + batch * PREDICT_CHUNK]), norm), multiple)
        y = np.asarray(model.predict(x, batch_size=batch, verbose=0))
        out.append(y[:, :h, :w, 0].astype(np.float32))
    return np.concatenate(out)
