"""Does an ingredient of the strong ISBI recipe pay off on validation cells? A probe, not a stage.

Trains ``train_unet`` with the ``strong`` recipe of ``params.yaml`` (``segstudy.recipes``),
``--epochs`` shortened, once per variant in a fresh process, on a copy of the recipe's
prepared folder (arrays linked, not copied; ``border`` adds the U-Net paper's weight map,
``segstudy.data.weights``). The export chooses the cell steps on the 4 val slices as the
stage does; each variant's line reports the val adapted Rand error after them, the best val
IoU and the wall time. Test slices are never read.

    python benchmarks/isbi_recipe_probe.py --epochs 14 --variants plain border --out probe.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {  # name: (prepare changes, train changes[, model changes])
    "plain": ({}, {}),
    "border": ({"border_weight": {"w0": 10.0, "sigma": 5.0}}, {}),
    "border_w0_5": ({"border_weight": {"w0": 5.0, "sigma": 5.0}}, {}),
    "w24": ({}, {}, {"base_filters": 24}),  # issue 35: interior IoU (train ≈ val: capacity?)
    "ctx1": ({"context": 1}, {}),  # the sections above and below as channels (data.context)
    # issue 35's interior IoU: Simard's MNIST field (α 34, σ 4: 1.4 px rms, 0.24 rms strain on
    # a 256² tile) kinks 3–5 px membranes; none, or a smooth field nearer the 2015 U-Net's
    # coarse 3×3 grid (α 1000, σ 40: 5.4 px rms, 0.08 rms strain)
    "no_elastic": ({}, {"augment": {"elastic": False}}),
    "elastic_smooth": ({}, {"augment": {"elastic_alpha": 1000.0, "elastic_sigma": 40.0}}),
    "bce": ({}, {"loss": "bce"}),  # the pixel score's own loss: no Dice term on the interior
}


def run_one(variant: str, epochs: int, seed: int) -> dict:
    import numpy as np

    from segstudy.config import merge
    from segstudy.data.prepared import Prepared
    from segstudy.data.weights import weight_maps
    from segstudy.io import read_live_series
    from segstudy.params import load_params, section
    from segstudy.precision import cpu_summary
    from segstudy.recipes import resolve
    from segstudy.training.fit import train_unet

    params = load_params()
    recipe = resolve(params, "isbi2012", "strong")
    prep_changes, train_changes, *model_changes = VARIANTS[variant]
    model_cfg = {**recipe.model, **(model_changes[0] if model_changes else {})}
    train_cfg = merge(recipe.train, {**train_changes, "epochs": epochs})  # as recipes merge
    train_cfg.pop("seeds", None)
    work = Path(tempfile.mkdtemp(prefix=f"isbi-probe-{variant}-"))
    folder = work / "prepared"
    folder.mkdir()
    for f in Path(recipe.prepared).iterdir():
        (folder / f.name).symlink_to(f.resolve())
    if "border_weight" in prep_changes:
        data = Prepared(folder)
        bw = prep_changes["border_weight"]
        train = (data.table["split"] == "train").to_numpy()
        np.save(folder / "weights.npy", weight_maps(np.asarray(data.masks), train, bw["w0"],
                                                    bw["sigma"]))
    if "context" in prep_changes:  # as prepare stores them (segstudy.data.prepare)
        from segstudy.data.context import with_context

        data = Prepared(folder)
        k = prep_changes["context"]
        images = with_context(np.asarray(data.images), data.table["case_id"].to_numpy(),
                              np.arange(len(data.table)), k)  # rows: the stack's order
        for name in ("images.npy", "norm.json"):  # links to the recipe's files: replaced
            (folder / name).unlink()
        np.save(folder / "images.npy", images)
        width = 2 * k + 1  # range normalisation: the same mean and std for every channel
        (folder / "norm.json").write_text(json.dumps({
            **data.norm, "mean": data.norm["mean"] * width, "std": data.norm["std"] * width,
            "context": k}))
    t0 = time.time()
    summary = train_unet("isbi2012", folder, model_cfg, train_cfg, seed,
                         out_model=work / "model.keras", live_dir=work / "live",
                         empty_iou=float(section(params, "evaluate.empty_iou")),
                         resume_root=work / "resume", postprocess="choose", name="probe")
    post = json.loads((work / "model.json").read_text())["postprocess"]
    return {"variant": variant, "seed": seed, "epochs": epochs, "cpu": cpu_summary(),
            "val_iou_by_epoch": [round(v, 4) for v in read_live_series(work / "live",
                                                                       "val_iou")[1]],
            "best_val_iou": summary.get("best_val_iou"), "best_epoch": summary.get("best_epoch"),
            "val_rand_error": post["val_rand_error"],
            "chosen": {k: post[k] for k in ("tta_dihedral", "threshold", "min_cell",
                                            "watershed_h")},
            "tried": post["tried"], "wall_s": round(time.time() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", nargs="+", default=["plain", "border"], choices=list(VARIANTS))
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        with open(a.out, "a") as fh:
            fh.write(json.dumps(run_one(a.one, a.epochs, a.seed)) + "\n")
        return
    for v in a.variants:  # one at a time: each variant's wall time is its own
        subprocess.run([sys.executable, __file__, "--epochs", str(a.epochs), "--seed",
                        str(a.seed), "--out", a.out, "--one", v], env=os.environ, check=True)


if __name__ == "__main__":
    main()
