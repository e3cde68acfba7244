"""Run a trained model on new scans: single images, multi-page stacks, kaggle_3m folders.

Everything about the model comes from its sidecar (``segstudy.inference``): normalisation,
mask scale, training size and the Tumour rule, so the result does not depend on the working
directory. Each input keeps its path relative to the inputs' common folder under ``--out``:
``<rel>_mask.png`` (or a multi-page ``<rel>_mask.tif`` for a stack), one overlay montage per
case folder or stack (``<case>_montage.png``; per-slice ``<rel>_overlay.png`` on request),
``predictions.csv`` with per-slice area and, where the model has a rule, the Tumour / No-tumour
decision, and ``cases.csv`` with per-case slice counts and tumour volume in pixels.
``segstudy.outdir`` decides where writing is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from segstudy import SegstudyError
from segstudy.inference import read_sidecar
from segstudy.outdir import check_out_dir, output_folder
from segstudy.predict_inputs import Item, as_batch, find_inputs, read_image

LONGEST_SUFFIX = "_overlay.png"  # of every output a name gets (_mask.png/.tif, _montage.png)


def check_names(out_dir: Path, names: list[str]) -> None:
    """Refuse, before any work, an input whose output file name the file system cannot hold."""
    try:
        limit = os.pathconf(out_dir if out_dir.is_dir() else out_dir.absolute().parent,
                            "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for name in names:
        longest = os.fsencode(Path(name).name + LONGEST_SUFFIX)
        if len(longest) > limit:
            raise SegstudyError(f"{name}: the name is too long for its outputs ({len(longest)} "
                                f"bytes with {LONGEST_SUFFIX}, the limit is {limit}); rename it")


def check_not_inside_inputs(out_dir: Path, sources: list[Path]) -> None:
    """Refuse an ``--out`` inside any folder that images were found in by walking an input
    folder, symlinks followed (a case folder reached through a link included)."""
    target = out_dir.resolve()
    for folder in {os.path.realpath(s.parent) for s in sources}:
        if target == Path(folder) or Path(folder) in target.parents:
            raise SegstudyError(f"--out {out_dir}: lies inside the input folder {folder}; "
                                "outputs would mix with the scans, name a folder outside it")


def check_options(min_area: Any, batch_size: Any) -> None:
    if min_area is not None and (not isinstance(min_area, int) or min_area < 1):
        raise SegstudyError(f"--min-area: expected a positive number of pixels, got {min_area!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise SegstudyError(f"--batch-size: expected a positive integer, got {batch_size!r}")


def predict_paths(model_path: str | Path, inputs: list[str | Path], out_dir: str | Path,
                  min_area: int | None = None, batch_size: int = 8,
                  progress: bool = True, slice_overlays: bool = False) -> Path:
    """Predict every input; return the CSV path. Outputs appear only when all succeeded."""
    check_options(min_area, batch_size)
    model_path, out_dir = Path(model_path), Path(out_dir)
    info = read_sidecar(model_path)  # before TensorFlow starts: bad input fails in a second
    given = [Path(p) for p in inputs]
    check_out_dir(out_dir, given, model_path)
    channels = int(info["in_channels"])
    items = []
    for source, name in find_inputs(given):  # read everything first: fail before writing
        arr, stack = as_batch(read_image(source), source, channels)
        items.append(Item(source, name, arr, stack))
    check_names(out_dir, [item.name for item in items])
    # every folder a walk of an input folder read from (a single file's folder is not an input)
    check_not_inside_inputs(out_dir, [i.source for i in items if i.source not in given])
    if min_area is None and info["decision"] is not None:
        min_area = info["decision"]["min_area"]

    from segstudy.inference import load_model
    from segstudy.predict_write import Montages, case_of, case_table, segment, write_item

    model, info = load_model(model_path)
    rows = []
    with output_folder(out_dir) as tmp:
        roots = [os.path.abspath(p if p.is_dir() else p.parent) for p in given]
        root_name = Path(os.path.commonpath(roots)).name or "inputs"
        montages = Montages(tmp)
        for item, mask in segment(model, info, items, batch_size, progress):
            case = case_of(item, root_name)
            rows += write_item(tmp, item, case, mask, info["input_size"], min_area, slice_overlays)
            montages.add(item, case, mask)
        montages.write()
        import pandas as pd

        # file names the OS holds but UTF-8 cannot (surrogate-escaped) go out as their bytes
        pd.DataFrame(rows).to_csv(tmp / "predictions.csv", index=False,
                                  errors="surrogateescape")
        case_table(rows).to_csv(tmp / "cases.csv", index=False, errors="surrogateescape")
    return out_dir / "predictions.csv"
