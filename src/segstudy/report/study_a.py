"""Study A's part of the report: ISBI 2012, U-Net alone vs U-Net trained inside the GAN."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segstudy import layout
from segstudy.data.prepared import Prepared
from segstudy.report import figures
from segstudy.report.common import (
    MODEL_NAMES,
    curve_dirs,
    file_of,
    fmt,
    gan_selection_note,
    npz,
    paper_table,
    split_counts,
)
from segstudy.report.sweep import sweep_section
from segstudy.report.verdict import verdict


def section(params: Mapping[str, Any], paper: Mapping[str, Any], m: Mapping, info: Mapping,
            fig_dir: Path, gan_metric: str, fallback_note: str | None, sweep: list[str]) -> str:
    """Study A: Tables 1 and 2 beside the paper, region scores, verdicts, figures."""
    pa = paper["study_a"]
    power = params["gan"]["metric_power"][gan_metric]
    s: list[str] = []
    add = s.append
    add("## Study A — ISBI 2012 membranes: U-Net alone vs U-Net trained inside the GAN\n")
    add(f"Errors (`module`, `squaring`) are on the generator's [-1, 1] scale; `percent` and `iou` "
        f"after binarising at 0; foreground = cell interior. Split: contiguous blocks of the 30 "
        f"labelled slices, {split_counts(m['isbi2012', 'unet'])}.\n")
    add("### Table 1 — U-Net trained alone\n")
    add(paper_table(m["isbi2012", "unet"], pa["table1_unet"]) + "\n")
    add(f"### Table 2 — U-Net trained inside the GAN (discriminator target: "
        f"{gan_metric}{'^' + str(power) if power != 1 else ''})\n")
    if fallback_note:
        add(f"> {fallback_note}\n")
    target = pa["table2_target"]
    if (gan_metric, power) != (target["metric"], target["power"]):
        add(f"> The paper's Table 2 used {target['metric']}^{target['power']}; this table shows "
            f"the GAN with target `{gan_metric}`.\n")
    add(paper_table(m["isbi2012", "gan"], pa["table2_gan"]) + "\n")
    add("### Beyond the paper: the challenge's region scores (test split, lower is better)\n")
    add("| model | adapted Rand error | variation of information | Dice | train − test IoU |")
    add("|---|---|---|---|---|")
    for mod in ("unet", "gan"):
        r = m["isbi2012", mod]
        add(f"| {MODEL_NAMES[mod]} | {fmt(r['test']['rand_error'])} | {fmt(r['test']['vi'])} | "
            f"{fmt(r['test']['dice'])} | {r['train']['iou'] - r['test']['iou']:+.3f} |")
    add("")
    add(study_a_verdicts(m, info, file_of("gan", gan_metric)))
    add(gan_selection_note(info, m, "isbi2012"))
    add(sweep_section("isbi2012", m, info, sweep, params))
    add(isbi_figures(fig_dir, gan_metric, info))
    return "\n".join(s) + "\n"


def study_a_verdicts(m: Mapping, info: Mapping, gan_name: str) -> str:
    """The paper's claims, each judged by the paired interval (``segstudy.report.verdict``):
    over the published seed's test slices, and the train − test gap over seeds."""
    u, g = m["isbi2012", "unet"], m["isbi2012", "gan"]
    per = {k: pd.read_csv(layout.per_sample("isbi2012", name)) for k, name in
           (("unet", "unet"), ("gan", gan_name))}
    test = {k: t[t["split"] == "test"].sort_values("sample_id") for k, t in per.items()}
    slices = f"test slices of seed {info['isbi2012', 'unet']['seed']}"
    seeds = sorted(set(u["over_seeds"]["per_seed"]) & set(g["over_seeds"]["per_seed"]), key=int)
    gaps = {k: [m["isbi2012", k]["over_seeds"]["per_seed"][s]["gap_iou"] for s in seeds]
            for k in ("unet", "gan")}
    lines = ["### What agrees with study A and what does not\n",
             f"- *GAN-trained U-Net segments better on test*: test IoU {g['test']['iou']:.3f} vs "
             f"{u['test']['iou']:.3f}: "
             f"{verdict(test['gan']['iou'], test['unet']['iou'], slices)}; the per-target table "
             "below pairs the seeds.",
             f"- *GAN pushes outputs to binary, so its squared error is larger*: squaring "
             f"{g['test']['squaring']:.3f} vs {u['test']['squaring']:.3f}: "
             + verdict(test["gan"]["squaring"], test["unet"]["squaring"], slices,
                       words=("larger", "smaller")) + ".",
             "- *GAN overfits less (smaller train − test IoU gap)*: "
             + verdict(gaps["gan"], gaps["unet"], "seeds", higher_is_better=False)
             + ".",
             f"- *GAN costs more time*: {info['isbi2012', 'gan']['wall_seconds_this_run']:.0f} s "
             f"per seed on top of the U-Net's "
             f"{info['isbi2012', 'unet']['wall_seconds_this_run']:.0f} s (the GAN starts from "
             "the trained U-Net).",
             f"- The discriminator's final approximation error on validation was "
             f"{fmt(info['isbi2012', 'gan'].get('final_val_d_error'))} (quality units, 0..1): "
             "when it is not small against the IoU differences above, G may be optimising D's "
             "mistakes rather than the metric.\n"]
    return "\n".join(lines)


def isbi_figures(fig_dir: Path, gan_metric: str, info: Mapping) -> str:
    data = Prepared(layout.prepared("isbi2012"))
    images, masks = data.images, data.masks
    table = pd.read_csv(layout.prepared("isbi2012") / "split.csv")
    test_idx = int(np.flatnonzero(table["split"] == "test")[0])
    preds = {mod: npz("isbi2012", file_of(mod, gan_metric)) for mod in ("unet", "gan")}
    ex = figures.isbi_examples(
        images[test_idx, ..., 0], masks[test_idx],
        {MODEL_NAMES[k]: v["labelled"][test_idx] for k, v in preds.items()},
        fig_dir / "isbi_examples.png", f"ISBI test slice {table['sample_id'][test_idx]}")
    unl = np.load(layout.prepared("isbi2012") / "unlabelled.npy", mmap_mode="r")
    pick = [0, 15, 29]
    un = figures.isbi_unlabelled(unl[pick, ..., 0],
                                 {MODEL_NAMES[k]: v["unlabelled"][pick] for k, v in preds.items()},
                                 fig_dir / "isbi_unlabelled.png")
    cv = figures.curves(curve_dirs("isbi2012", gan_metric, info), fig_dir / "isbi_curves.png",
                        "ISBI 2012 learning curves, every seed of each model")
    return (f"![ISBI examples]({ex})\n\nPredictions on the unlabelled challenge test stack "
            f"(slices {pick}):\n\n![ISBI unlabelled]({un})\n\n![ISBI curves]({cv})\n")
