"""What every part of the report shares: the papers' numbers, loading stage outputs, number
formatting, the paper-beside-ours table, provenance, and the names of the report's rows."""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from segstudy import SegstudyError, layout
from segstudy.config import GAN_TARGETS
from segstudy.data.split import SPLITS
from segstudy.params import choice

PAPER = Path(__file__).with_name("paper_numbers.yaml")
COLS = ("module", "squaring", "percent", "iou")
MODEL_NAMES = {"unet": "U-Net alone", "gan": "U-Net in the GAN",
               "control": "U-Net + soft-IoU fine-tune (control)"}
DATASETS_SHOWN = ("isbi2012", "lgg")


def paper_numbers() -> dict[str, Any]:
    return yaml.safe_load(PAPER.read_text())


def load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SegstudyError(f"{path}: missing; run the evaluate stage first")
    return json.loads(path.read_text())


def fmt(v: Any, nd: int = 3) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) >= 100:
        nd = 0
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def paper_table(ours: Mapping[str, Any], paper: Mapping[str, Any]) -> str:
    """Rows = the paper's four columns; train and test, ours beside the paper's (Δ = ours −
    paper)."""
    lines = ["| metric | train: ours | train: paper | Δ | test: ours | test: paper | Δ |",
             "|---|---|---|---|---|---|---|"]
    for c in COLS:
        cells = []
        for split in ("train", "test"):
            o, p = ours[split][c], paper[split][c]
            nd = 1 if c == "percent" else 3
            cells += [fmt(o, nd), fmt(p, nd), f"{o - p:+.{nd}f}"]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        # dvc.lock is rewritten by the very run that writes this report: not a code change.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":!dvc.lock"], capture_output=True, text=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def versions() -> str:
    names = ["tensorflow-cpu", "keras", "numpy", "scikit-image", "scikit-learn", "dvc", "dvclive"]
    found = []
    for n in names:
        try:
            found.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            continue
    return f"Python {platform.python_version()}; " + ", ".join(found)


def table2_metric(gan: Mapping[str, Any]) -> tuple[str, str | None]:
    """The discriminator target Table 2 shows: ``gan.metric`` when it was trained, else the first
    of ``gan.metrics`` (with a note saying so). A name that is no metric fails here."""
    trained = [choice(m, GAN_TARGETS, "gan.metrics")
               for m in gan.get("metrics") or [gan["metric"]]]
    metric = choice(gan["metric"], GAN_TARGETS, "gan.metric")
    if metric in trained:
        return metric, None
    return trained[0], (f"`gan.metric={metric}` was not trained (`gan.metrics={trained}`): "
                        f"Table 2 shows `{trained[0]}`.")


def file_of(mod: str, gan_metric: str) -> str:
    """Stage-output name of a report row: ``gan`` is Table 2's GAN, ``gan-<m>`` a sweep row."""
    return f"gan-{gan_metric}" if mod == "gan" else mod


def cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def split_counts(result: Mapping[str, Any]) -> str:
    """``train/val/test`` sample counts, as ``evaluate`` wrote them into a metrics file."""
    return "/".join(str(int(result[k]["n"])) for k in SPLITS)


def gan_selection_note(info: Mapping, m: Mapping, ds: str) -> str:
    """Where the kept generator came from, and how it compares with its own start."""
    gan, unet = info[ds, "gan"], info[ds, "unet"]
    first = gan.get("first_selectable_epoch", 1)
    d_val = gan["best_val_iou"] - unet["best_val_iou"]
    return (f"{ds}: Table 2's generator (seed {gan.get('seed')}) is the best on validation IoU "
            f"among GAN epochs {first}–{gan['epochs']} (those after D's warm-up, in which G was "
            f"updated): epoch {gan['best_epoch']}, val IoU {gan['best_val_iou']:.4f} against "
            f"{unet['best_val_iou']:.4f} for the U-Net it started from (Δ {d_val:+.4f}).\n")


def npz(ds: str, name: str) -> dict[str, np.ndarray]:
    with np.load(layout.predictions(ds, name)) as z:
        return {k: z[k] for k in z.files}


def curve_dirs(ds: str, gan_metric: str, info: Mapping) -> dict[str, dict[int, Path]]:
    """dvclive folders of every seed of the U-Net, its control and Table 2's GAN."""
    return {MODEL_NAMES[mod]: {int(s["seed"]): layout.curves(ds, file_of(mod, gan_metric),
                                                             int(s["seed"]))
                               for s in info[ds, mod].get("seeds") or [info[ds, mod]]}
            for mod in ("unet", "control", "gan")}
