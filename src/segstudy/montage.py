"""Overlay pictures for ``predict``: the predicted mask's outline in red on the scan.

Drawn with OpenCV on arrays (no figure per slice): a montage of a whole case or stack costs
about as much as writing one PNG, where a matplotlib figure per slice cost more than the
model itself (issue 24's measurement).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

RED = (255, 0, 0)


def overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3): the scan in grey (FLAIR, the middle channel, for 3-channel LGG
    slices), the outline of ``mask`` (H, W, values {0, 1}) in red, two pixels wide."""
    import cv2

    grey = image[..., 1] if image.shape[-1] == 3 else image[..., 0]
    rgb = np.repeat(grey[..., None], 3, axis=-1).astype(np.uint8)
    m = mask.astype(np.uint8)
    if m.any() and not m.all():
        # dilation minus erosion: one pixel each side of the mask's border
        edge = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        rgb[edge] = RED
    return rgb


def montage(images: np.ndarray, masks: np.ndarray, labels: list[str], tile: int = 160,
            columns: int = 8) -> np.ndarray:
    """One RGB picture of every slice's overlay, ``columns`` per row, each scaled so its longer
    side is ``tile`` pixels and labelled in its corner."""
    import cv2

    n = len(images)
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    h, w = images.shape[1:3]
    scale = tile / max(h, w)
    th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    sheet = np.zeros((rows * th, cols * tw, 3), np.uint8)
    for i in range(n):
        pic = cv2.resize(overlay(images[i], masks[i]), (tw, th), interpolation=cv2.INTER_AREA)
        cv2.putText(pic, labels[i], (3, 12), cv2.FONT_HERSHEY_PLAIN, 0.8, (255, 255, 0), 1,
                    cv2.LINE_AA)
        r, c = divmod(i, cols)
        sheet[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = pic
    return sheet


def write_png(path: Path, pixels: np.ndarray) -> None:
    """A grey (H, W) or RGB (H, W, 3) uint8 PNG (OpenCV: ~10x faster here than skimage.io)."""
    import cv2

    bgr = pixels[..., ::-1] if pixels.ndim == 3 else pixels  # OpenCV writes BGR
    ok, png = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise OSError(f"{path}: could not encode the PNG")
    # Python's open, not cv2.imwrite: any name the OS holds (not valid UTF-8 included) works
    with open(path, "wb") as fh:
        fh.write(png.tobytes())
