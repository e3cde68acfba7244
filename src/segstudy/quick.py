"""``make quick``: the whole pipeline on tiny settings, as a DVC experiment.

``python -m segstudy.quick [key=value ...] [stage ...]``: extra overrides, and optionally only
the named stages (with what they depend on).

The overrides below are passed to ``dvc exp run -S``; ``params.yaml`` is restored byte for byte
afterwards, so the paper settings are never touched (``dvc status`` then says, honestly, that
the workspace outputs come from other params). Minutes on 2 cores, with the data mirror.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

QUICK_OVERRIDES = {
    "prepare.lgg.resize_to": 64,
    "model.isbi2012.base_filters": 4,
    "model.lgg.base_filters": 4,
    "train.isbi2012.seeds": "[42,43]",  # two seeds: the mean ± std path runs
    "train.lgg.seeds": "[42]",
    "gan.metrics": "[percent,iou]",  # two targets exercise the matrix at half the cost
    "gan.fair_metrics": "[iou,vrand]",  # both fair targets, the default's and the queued one
    "train.isbi2012.epochs": 2,
    "train.isbi2012.steps_per_epoch": 2,
    "train.isbi2012.batch_size": 4,
    "train.isbi2012.tile": 128,
    "train.lgg.epochs": 2,
    "train.lgg.steps_per_epoch": 3,
    "train.lgg.batch_size": 8,
    "gan.discriminator.base_filters": 4,
    "gan.d_warmup_steps": 1,
    "gan.isbi2012.epochs": 1,
    "gan.isbi2012.steps_per_epoch": 2,
    "gan.isbi2012.batch_size": 4,
    "gan.lgg.epochs": 1,
    "gan.lgg.steps_per_epoch": 2,
    "gan.lgg.batch_size": 8,
    "gan.fair.isbi2012.epochs": 1,  # the fair recipe sets its own epochs: a tiny one here
    # the recipes inherit the above but set their own schedules: tiny ones here
    "recipes.strong.lgg.prepare.resize_to": 64,  # the recipe sets its own size
    "recipes.strong.lgg.train.epochs": 2,
    "recipes.strong.lgg.train.finetune.epochs": 1,  # the Lovász phase runs too
    "recipes.strong.lgg.train.steps_per_epoch": 3,
    "recipes.strong.isbi2012.train.epochs": 2,
    "recipes.strong.isbi2012.train.steps_per_epoch": 2,
}


def exp_run_args(extra: dict[str, object] | None = None,
                 targets: list[str] | None = None) -> list[str]:
    overrides = {**QUICK_OVERRIDES, **(extra or {})}
    args = ["dvc", "exp", "run", *(targets or [])]
    for key, value in overrides.items():
        args += ["-S", f"{key}={value}"]
    return args


def main(argv: list[str] | None = None) -> int:
    params = Path("params.yaml")
    backup = params.read_bytes()
    args = argv if argv is not None else sys.argv[1:]
    # key=value: one more override; anything else: a stage to run (default: the whole DAG)
    extra = dict(a.split("=", 1) for a in args if "=" in a)
    cmd = exp_run_args(extra, [a for a in args if "=" not in a])
    print("+", " ".join(cmd), flush=True)
    dvc = shutil.which("dvc")
    if dvc is None:
        print("error: dvc not found; run `make quick` (it installs .venv)", file=sys.stderr)
        return 2
    try:
        return subprocess.call(cmd)
    finally:
        params.write_bytes(backup)


if __name__ == "__main__":
    sys.exit(main())
