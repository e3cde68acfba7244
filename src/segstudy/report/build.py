"""Assemble ``report/REPORT.md``: the papers' tables beside ours, figures, protocol, verdicts.

Reads only stage outputs (metrics JSON, per-sample CSVs, predictions, model sidecars, dvclive
curves, prepared data) and ``paper_numbers.yaml``; every number printed comes from them. The
studies' sections are ``study_a`` and ``study_b``; the per-target table is ``sweep``.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from segstudy import layout
from segstudy.io import atomic_path
from segstudy.report import fair_gan, study_a, study_b
from segstudy.report import recipes as recipe_report
from segstudy.report.common import (
    DATASETS_SHOWN,
    MODEL_NAMES,
    cores,
    file_of,
    fmt,
    git_revision,
    load_json,
    paper_numbers,
    split_counts,
    table2_metric,
    versions,
)
from segstudy.report.dashboard import write_dashboard


def build_report(params: Mapping[str, Any], out: str | Path = layout.REPORT) -> Path:
    out = Path(out)
    paper = paper_numbers()
    with atomic_path(out, is_dir=True) as tmp:
        text = render(params, paper, tmp)
        (tmp / "REPORT.md").write_text(text)
        write_dashboard(tmp, table2_metric(params["gan"])[0])
    return out / "REPORT.md"


def render(params: Mapping[str, Any], paper: Mapping[str, Any], fig_dir: Path) -> str:
    gan_metric, fallback_note = table2_metric(params["gan"])
    sweep = [f"gan-{x}" for x in params["gan"].get("metrics") or [gan_metric]]
    rows = ("unet", "gan", "control", *sweep)
    m = {(ds, mod): load_json(layout.metrics(ds, file_of(mod, gan_metric)))
         for ds in DATASETS_SHOWN for mod in rows}
    info = {(ds, mod): load_json(layout.sidecar(layout.model(ds, file_of(mod, gan_metric))))
            for ds in DATASETS_SHOWN for mod in rows}
    s: list[str] = []
    add = s.append
    add("# segstudy report\n")
    add(f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `dvc repro` (stage `report`) "
        f"at git {git_revision()}; {platform.machine()} CPU, {cores()} cores; {versions()}.\n")
    add("Every number below is read from this run's stage outputs; the papers' numbers come from "
        "`src/segstudy/report/paper_numbers.yaml`. Δ = ours − paper.\n")

    add(study_a.section(params, paper, m, info, fig_dir, gan_metric, fallback_note, sweep))
    add(fair_gan.fair_section(params, fig_dir))
    add(study_b.section(params, paper, m, info, fig_dir, gan_metric, sweep))
    add(recipe_report.lgg_section(params, paper, fig_dir))
    add(recipe_report.isbi_section(params, paper, fig_dir))
    # ---- Protocol
    add("## Protocol\n")
    add("| | ISBI 2012 | LGG |\n|---|---|---|")
    add(f"| split (train/val/test) | {split_counts(m['isbi2012', 'unet'])} | "
        f"{split_counts(m['lgg', 'unet'])} |")
    isbi_counts = params["prepare"]["isbi2012"]["split"]["counts"]
    add(f"| split rule | contiguous blocks, counts {isbi_counts} | "
        f"by {params['prepare']['lgg']['split']['by']}, seed {params['seed']} |")
    for mod in ("unet", "gan"):
        for key, label in (("params", "parameters"), ("epochs", "epochs"),
                           ("best_epoch", "best epoch (val IoU)"),
                           ("best_val_iou", "best val IoU"),
                           ("train_images_per_second", "training images/s"),
                           ("wall_seconds_this_run", "wall time (s)")):
            a, b = info["isbi2012", mod].get(key), info["lgg", mod].get(key)
            add(f"| {MODEL_NAMES[mod]}: {label} | {fmt(a)} | {fmt(b)} |")
    for mod in ("gan",):
        a, b = info["isbi2012", mod], info["lgg", mod]
        add(f"| GAN: first epoch eligible for selection | {a.get('first_selectable_epoch')} | "
            f"{b.get('first_selectable_epoch')} |")
        add(f"| GAN: discriminator parameters | {a['discriminator_params']} | "
            f"{b['discriminator_params']} |")
        add(f"| GAN: final D approximation error (val) | {fmt(a.get('final_val_d_error'))} | "
            f"{fmt(b.get('final_val_d_error'))} |")
    lgg = params["prepare"]["lgg"]
    add(f"| normalisation | {params['prepare']['isbi2012']['normalise']} | "
        f"{lgg['normalise']}, resize {lgg['resize_to']} |")
    add("\nAll parameters: `params.yaml` at the revision above.\n")
    return "\n".join(s) + "\n"
