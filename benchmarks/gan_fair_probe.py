"""Probe: one seed of study A's GAN under a GAN recipe (``paper`` or ``fair``), with optional
overrides, trained by the stage's own ``train_gan`` into a scratch folder; prints per epoch G's
val IoU and true quality (the target's own score, mapped to [0, 1]), D's error on G's outputs
against the spread of that quality, D's correlation with the truth, and the wall time. Nothing
under models/ is touched.

    PYTHONPATH=src python benchmarks/gan_fair_probe.py --metric iou --recipe fair \\
        --set d_steps=3 replay.fraction=0 --out /tmp/probe
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml


def override(cfg: dict, dotted: str) -> None:
    """``a.b=value`` (value parsed as YAML) set inside ``cfg``."""
    key, value = dotted.split("=", 1)
    *parents, leaf = key.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    node[leaf] = yaml.safe_load(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="isbi2012")
    ap.add_argument("--metric", default="iou")
    ap.add_argument("--recipe", default="fair", choices=["paper", "fair"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--set", nargs="*", default=[], help="gan settings, e.g. d_steps=3")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    from segstudy import layout
    from segstudy.io import read_live_series
    from segstudy.params import load_params, section, tumour_rule_floor
    from segstudy.recipes import gan_config
    from segstudy.training.gan import train_gan

    params = load_params()
    cfg = gan_config(params, args.dataset, args.metric, args.recipe)
    for dotted in args.set:
        override(cfg, dotted)
    train_cfg = dict(section(params, f"train.{args.dataset}"))
    train_cfg.pop("seeds")
    out = Path(args.out)
    t0 = time.time()
    summary = train_gan(args.dataset, layout.prepared(args.dataset),
                        section(params, f"model.{args.dataset}"), train_cfg, cfg, args.seed,
                        out_model=out / "gan.keras", live_dir=out / "live",
                        empty_iou=float(section(params, "evaluate.empty_iou")),
                        resume_root=out / "resume",
                        init_model=layout.seed_model(args.dataset, "unet", args.seed),
                        recall_floor=tumour_rule_floor(params, args.dataset))
    wall = time.time() - t0
    series = {k: read_live_series(out / "live", f"val_{k}")[1]
              for k in ("iou", "quality", "d_error", "quality_sd", "d_corr")}
    print(f"{args.recipe} {args.metric} {args.set}: {wall:.0f} s; best epoch "
          f"{summary['best_epoch']} val IoU {summary['best_val_iou']:.4f}")
    print("epoch  val_iou  quality  d_error  quality_sd  d_corr")
    for i, row in enumerate(zip(*series.values(), strict=True), 1):
        print(f"{i:5d}  " + "  ".join(f"{v:.4f}" for v in row))
    (out / "probe.json").write_text(json.dumps(
        {"args": vars(args), "wall_s": round(wall, 1), "series": series,
         "best_epoch": summary["best_epoch"], "best_val_iou": summary["best_val_iou"]}))


if __name__ == "__main__":
    main()
