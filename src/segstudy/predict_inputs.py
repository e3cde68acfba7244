"""``predict``'s inputs: what a path given to ``python -m segstudy predict`` holds (single
images, multi-page stacks, kaggle_3m case folders), found, read and named as ``Item`` s, in a
natural order. Reading only: ``segstudy.predict`` checks and orchestrates, ``predict_write``
computes and writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segstudy import SegstudyError
from segstudy.data.validate import LGG_SLICE_RE, read_tiff

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")


@dataclass
class Item:
    """One input unit: a single image or a stack, and the name its outputs take under --out."""

    source: Path
    name: str  # relative path without suffix, e.g. "TCGA_CS_4941_19960909/TCGA_CS_4941_19960909_1"
    pixels: np.ndarray  # (N, H, W, C) uint8
    stack: bool


def read_image(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".png":
        from skimage.io import imread

        try:
            return np.asarray(imread(path))
        except Exception as exc:
            raise SegstudyError(f"{path}: not a readable PNG ({type(exc).__name__})") from None
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
    if min(arr.shape[1:3]) < 8:
        raise SegstudyError(f"{path}: {arr.shape[1]}×{arr.shape[2]} pixels; too small to segment")
    return arr, stack


def _is_image(name: str) -> bool:
    stem, suffix = os.path.splitext(name)
    return suffix.lower() in IMAGE_SUFFIXES and not stem.endswith(("_mask", "_overlay",
                                                                    "_montage"))


def _walk(folder: Path) -> list[Path]:
    """Image files under ``folder``, following symlinked folders; a folder reached twice (a link
    loop or two links to one folder) is refused rather than read twice."""
    seen: set[str] = set()
    found = []
    def unreadable(err: OSError) -> None:
        raise SegstudyError(f"{err.filename}: cannot be read ({err.strerror}); fix its "
                            "permissions or leave it out of the inputs")

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True, onerror=unreadable):
        real = os.path.realpath(dirpath)
        if real in seen:
            raise SegstudyError(f"{dirpath}: reached twice through symlinks (a loop, or two links "
                                "to one folder); remove the extra link")
        seen.add(real)
        dirnames.sort()
        found += [Path(dirpath) / f for f in filenames if _is_image(f)]
    return found


def find_inputs(given: list[Path]) -> list[tuple[Path, str]]:
    """``(file, output name)`` for every image; names are paths relative to the inputs' common
    folder, so equal file names in different folders stay apart."""
    files: list[Path] = []
    roots = []
    for path in given:
        if path.is_dir():
            found = _walk(path)
            if not found:
                raise SegstudyError(f"{path}: folder holds no .tif/.tiff/.png images")
            files += found
            roots.append(os.path.abspath(path))
        elif path.is_file():
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise SegstudyError(f"{path}: not a .tif/.tiff/.png image")
            files.append(path)
            roots.append(os.path.abspath(path.parent))
        else:
            raise SegstudyError(f"{path}: no such file or folder")
    base = os.path.commonpath(roots)
    named: dict[str, Path] = {}
    real: dict[str, Path] = {}
    for f in sorted(files, key=_natural_key):
        name = Path(os.path.relpath(os.path.abspath(f), base)).with_suffix("").as_posix()
        same_file = real.get(os.path.realpath(f))
        if same_file is not None:
            raise SegstudyError(f"{f}: the same file as {same_file}; give each input once")
        if name in named:
            raise SegstudyError(f"{f} and {named[name]}: cannot be told apart (both would write "
                                f"{name}_mask); rename one or predict them separately")
        named[name], real[os.path.realpath(f)] = f, f
    return [(f, name) for name, f in named.items()]


def _natural_key(p: Path) -> tuple:
    m = LGG_SLICE_RE.match(p.name)
    return (str(p.parent), m["case"], int(m["slice"])) if m else (str(p.parent), p.name, 0)
