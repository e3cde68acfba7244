"""``python -m segstudy submit``: the ISBI 2012 challenge's submission file from a model.

The challenge scores a multi-page 32-bit float TIFF of the test volume with one page per
slice, each pixel the probability of *membrane* (0 = interior, 1 = membrane). This writes
1 − the model's interior probability, on every slice at its own size, with the sidecar's
test-time averaging (``segstudy.postprocess``; the cell steps are not applied: the
organisers threshold the map themselves). Never replaces an existing file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segstudy import SegstudyError
from segstudy.data.validate import read_tiff
from segstudy.inference import read_sidecar
from segstudy.io import atomic_path


def membrane_probability(model_path: str | Path, volume: str | Path, out: str | Path,
                         batch_size: int = 4) -> Path:
    """Write the submission TIFF of ``volume`` (N pages, grayscale uint8) to ``out``."""
    model_path, volume, out = Path(model_path), Path(volume), Path(out)
    if out.exists() or out.is_symlink():
        raise SegstudyError(f"--out {out}: exists; name a new file (it is never replaced)")
    info = read_sidecar(model_path)
    if int(info["in_channels"]) != 1:
        raise SegstudyError(f"{model_path}: takes {info['in_channels']} channels; the ISBI "
                            "submission needs a grayscale (ISBI 2012) model")
    stack = read_tiff(volume)
    if stack.dtype != np.uint8 or stack.ndim not in (2, 3):
        raise SegstudyError(f"{volume}: expected a grayscale uint8 stack (pages, H, W), got "
                            f"{stack.dtype} {stack.shape}")
    stack = stack[None] if stack.ndim == 2 else stack

    import tifffile

    from segstudy import postprocess
    from segstudy.inference import load_model

    model, info = load_model(model_path)
    post = postprocess.settings(info)
    lo, hi = info["mask_range"]
    prob = postprocess.probability(model, stack[..., None], info["norm"], batch_size,
                                   bool(post["tta_flip"]), bool(post["tta_dihedral"]))
    membrane = np.clip(1.0 - (prob - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    try:
        with atomic_path(out) as tmp:
            tifffile.imwrite(tmp, membrane, photometric="minisblack")
    except OSError as exc:
        raise SegstudyError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    return out
