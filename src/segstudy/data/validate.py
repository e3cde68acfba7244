"""Readers that refuse bad data: each problem names the file and what is wrong.

The same readers serve the ``download`` stage (which validates before anything lands in
``data/raw``) and the ``prepare`` stage (which reads the validated files into arrays).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from segstudy import SegstudyError

ISBI_FILES = ("train-volume.tif", "train-labels.tif", "test-volume.tif")
ISBI_SHAPE = (30, 512, 512)
LGG_SLICE_RE = re.compile(r"^(?P<case>.+)_(?P<slice>\d+)\.tif$")


def read_tiff(path: str | Path) -> np.ndarray:
    """Read a (multi-page) TIFF, uncompressed or deflate-compressed, or fail naming the file."""
    path = Path(path)
    if not path.is_file():
        raise SegstudyError(f"{path}: file not found")
    quiet = logging.getLogger("tifffile")
    was_disabled, quiet.disabled = quiet.disabled, True  # its log line would precede ours
    try:
        with tifffile.TiffFile(path) as tif:
            if len(tif.pages) == 0:
                raise ValueError("no image pages")
            # a stack written page by page is several series: read every page of every one
            pages = ([page.asarray() for page in tif.pages] if len(tif.series) > 1
                     else [tif.asarray()])
    except Exception as exc:  # tifffile raises many types for corrupt input
        raise SegstudyError(f"{path}: not a readable TIFF ({type(exc).__name__}: {exc})") from None
    finally:
        quiet.disabled = was_disabled
    if len(pages) > 1:
        shapes = sorted({f"{x.shape} {x.dtype}" for x in pages})
        if len(shapes) > 1:
            raise SegstudyError(f"{path}: its {len(pages)} pages differ in size or type "
                                f"({', '.join(shapes[:3])}); save one stack of equal pages")
        pages = [np.stack(pages)]
    arr = pages[0]
    if arr is None or arr.size == 0:
        raise SegstudyError(f"{path}: not a readable TIFF (no pixel data)")
    return arr


def _check_binary(arr: np.ndarray, path: Path, allowed: tuple[int, ...] = (0, 255)) -> None:
    values = np.unique(arr)
    extra = sorted(set(values.tolist()) - set(allowed))
    if extra:
        raise SegstudyError(
            f"{path}: mask is not binary; values {extra[:5]} found besides {list(allowed)}"
        )


def read_isbi_stack(path: str | Path, *, labels: bool = False) -> np.ndarray:
    """One ISBI 2012 stack as (30, 512, 512) uint8; label stacks must hold only 0 and 255."""
    path = Path(path)
    arr = read_tiff(path)
    if arr.dtype != np.uint8:
        raise SegstudyError(f"{path}: dtype {arr.dtype}, expected uint8")
    if arr.shape != ISBI_SHAPE:
        raise SegstudyError(f"{path}: shape {arr.shape}, expected {ISBI_SHAPE}")
    if labels:
        _check_binary(arr, path)
    return arr


def validate_isbi(root: str | Path) -> None:
    root = Path(root)
    for name in ISBI_FILES:
        read_isbi_stack(root / name, labels=name == "train-labels.tif")


@dataclass(frozen=True)
class LggSlice:
    case_id: str  # patient folder, e.g. TCGA_CS_4941_19960909
    index: int  # slice number as written in the file name (1-based, not zero-padded)
    image: Path
    mask: Path

    @property
    def sample_id(self) -> str:
        return f"{self.case_id}_{self.index}"

    @property
    def patient_id(self) -> str:
        """The ``data.csv`` key: the first three parts of the folder name (TCGA_CS_4941)."""
        return "_".join(self.case_id.split("_")[:3])


def list_lgg_slices(root: str | Path) -> list[LggSlice]:
    """All slices of a ``kaggle_3m`` folder, cases sorted by name, slices sorted numerically."""
    root = Path(root)
    if not root.is_dir():
        raise SegstudyError(f"{root}: not a folder; expected the kaggle_3m folder")
    cases = sorted(p for p in root.iterdir() if p.is_dir())
    if not cases:
        raise SegstudyError(f"{root}: no case folders (TCGA_*) found")
    slices: list[LggSlice] = []
    for case in cases:
        images, masks = {}, set()
        for f in case.iterdir():
            if f.name.endswith("_mask.tif"):
                masks.add(f.name)
                continue
            m = LGG_SLICE_RE.match(f.name)
            if not m:
                continue
            if m["case"] != case.name:
                raise SegstudyError(f"{f}: file name does not match its case folder {case.name}")
            images[int(m["slice"])] = f
        if not images:
            raise SegstudyError(f"{case}: case folder holds no images")
        for idx in sorted(images):
            img = images[idx]
            mask = img.with_name(img.stem + "_mask.tif")
            if mask.name not in masks:
                raise SegstudyError(f"{img}: its mask {mask.name} is missing")
            masks.discard(mask.name)
            slices.append(LggSlice(case.name, idx, img, mask))
        if masks:
            raise SegstudyError(f"{case / sorted(masks)[0]}: mask without an image")
    return slices


def read_lgg_slice(s: LggSlice) -> tuple[np.ndarray, np.ndarray]:
    """Image (H, W, 3) uint8 and mask (H, W) uint8 in {0, 255}, checked against each other."""
    img = read_tiff(s.image)
    mask = read_tiff(s.mask)
    if img.dtype != np.uint8:
        raise SegstudyError(f"{s.image}: dtype {img.dtype}, expected uint8")
    if img.ndim != 3 or img.shape[-1] != 3:
        raise SegstudyError(f"{s.image}: shape {img.shape}, expected (H, W, 3)")
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise SegstudyError(f"{s.mask}: shape {mask.shape} {mask.dtype}, expected (H, W) uint8")
    if mask.shape != img.shape[:2]:
        raise SegstudyError(
            f"{s.mask}: size {mask.shape} differs from its image's {img.shape[:2]}"
        )
    _check_binary(mask, s.mask)
    return img, mask


def validate_lgg(root: str | Path) -> int:
    """Read and check every slice; return how many there are."""
    slices = list_lgg_slices(root)
    for s in slices:
        read_lgg_slice(s)
    return len(slices)
