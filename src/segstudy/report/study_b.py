"""Study B's part of the report: LGG segmentation and the Tumour / No-tumour classification."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segstudy import layout
from segstudy.data.split import SPLITS
from segstudy.report import figures
from segstudy.report.common import (
    MODEL_NAMES,
    curve_dirs,
    file_of,
    fmt,
    gan_selection_note,
    npz,
    split_counts,
)
from segstudy.report.sweep import sweep_section


def section(params: Mapping[str, Any], paper: Mapping[str, Any], m: Mapping, info: Mapping,
            fig_dir: Path, gan_metric: str, sweep: list[str]) -> str:
    """Study B: mean IoU three ways, the confusion matrix beside the paper, verdicts."""
    pb = paper["study_b"]
    s: list[str] = []
    add = s.append
    add("## Study B — LGG brain MRI: segmentation and Tumour / No-tumour classification\n")
    counts = split_counts(m["lgg", "unet"])
    by = params["prepare"]["lgg"]["split"]["by"]
    add(f"Split by {by} (seed {params['seed']}): {counts}; the paper: "
        f"{pb['split']['train']}/{pb['split']['val']}/{pb['split']['test']} of "
        f"{sum(pb['split'].values())} slices "
        f"(on a subset, such as the data mirror, the counts are scaled). IoU of a slice where both "
        f"masks are empty = {params['evaluate']['empty_iou']}.\n")
    add("### Mean IoU on the test split\n")
    add("| model | all slices | tumour slices only | per patient (volumetric) | Dice, all "
        "| paper (all slices?) |")
    add("|---|---|---|---|---|---|")
    for mod in ("unet", "gan"):
        t = m["lgg", mod]["test"]
        add(f"| {MODEL_NAMES[mod]} | {fmt(t['iou'])} | {fmt(t['iou_tumour_slices'])} | "
            f"{fmt(t['iou_per_patient'])} | {fmt(t['dice'])} | {pb['mean_iou']} |")
    add("")
    nothing = predict_nothing_iou("lgg", params["evaluate"]["empty_iou"])
    add(f"A model that predicts no tumour anywhere would score {nothing:.3f} over all test slices "
        f"under this empty-mask rule (the paper's test mix: {paper_empty_floor(pb):.3f}).\n")
    add("### Tumour / No-tumour classification (test split)\n")
    for mod in ("unet", "gan"):
        d = m["lgg", mod]["detection"]
        ch, te = d["chosen_on_val"], d["test"]
        add(f"**{MODEL_NAMES[mod]}** — a slice is *Tumour* when its predicted mask has ≥ "
            f"{ch['min_area']} pixels (chosen on the validation split: best F1 with Tumour recall "
            f"≥ {ch['recall_floor']}; floor {'met' if ch['floor_met'] else 'NOT met'}, "
            f"val recall {ch['val_recall']:.3f}, val F1 {ch['val_f1']:.3f}).\n")
        add("| | ours | paper |\n|---|---|---|")
        for k in ("tp", "tn", "fn", "fp"):
            add(f"| {k.upper()} | {te[k]} | {pb['confusion'][k]} |")
        add(f"| accuracy | {te['accuracy']:.3f} | {pb['accuracy']} |\n")
        add("| class | recall (ours / paper) | precision (ours / paper) | F1 (ours / paper) "
            "| support (ours / paper) |\n|---|---|---|---|---|")
        for cls in ("Tumour", "No tumour"):
            o, p = te["per_class"][cls], pb["per_class"][cls]
            add(f"| {cls} | {o['recall']:.3f} / {p['recall']} | {o['precision']:.3f} / "
                f"{p['precision']} | {o['f1-score']:.3f} / {p['f1-score']} | "
                f"{int(o['support'])} / {p['support']} |")
        fig = figures.confusion(te, fig_dir / f"lgg_confusion_{mod}.png",
                                f"LGG test, {MODEL_NAMES[mod]}")
        add(f"\n![confusion matrix]({fig})\n")
    add(study_b_verdicts(m, pb, nothing))
    add(gan_selection_note(info, m, "lgg"))
    add(sweep_section("lgg", m, info, sweep, params))
    add(lgg_figures(fig_dir, gan_metric, info))
    return "\n".join(s) + "\n"


def paper_empty_floor(pb: Mapping[str, Any]) -> float:
    """What predicting no tumour anywhere scores on the paper's test mix (empty/empty = 1)."""
    c = pb["confusion"]
    return (c["tn"] + c["fp"]) / (c["tp"] + c["fn"] + c["fp"] + c["tn"])


def predict_nothing_iou(ds: str, empty: float) -> float:
    t = pd.read_csv(layout.per_sample(ds, "unet"))
    t = t[t["split"] == "test"]
    return float(np.mean(np.where(t["target_area"] > 0, 0.0, empty)))


def study_b_verdicts(m: Mapping, pb: Mapping, nothing: float) -> str:
    t = m["lgg", "unet"]["test"]
    te = m["lgg", "unet"]["detection"]["test"]
    rec = te["per_class"]["Tumour"]["recall"]
    paper_floor = paper_empty_floor(pb)
    lines = ["### What agrees with study B and what does not\n",
             f"- *Mean IoU {pb['mean_iou']} on test*: ours {t['iou']:.3f} over all slices and "
             f"{t['iou_tumour_slices']:.3f} over tumour slices only; the paper does not say how "
             "empty slices count, and the two numbers bracket its possible meanings. The "
             f"all-slices mean is not comparable across test mixes: predicting nothing scores "
             f"{nothing:.3f} on ours and {paper_floor:.3f} on the paper's, so the paper's "
             f"{pb['mean_iou']} is {pb['mean_iou'] - paper_floor:+.3f} above its floor and ours "
             f"{t['iou'] - nothing:+.3f} above ours.",
             f"- *False negatives are the weakness*: our Tumour recall {rec:.3f} vs the paper's "
             f"{pb['per_class']['Tumour']['recall']} with a threshold chosen on validation for "
             f"recall ≥ {m['lgg', 'unet']['detection']['chosen_on_val']['recall_floor']}.",
             f"- Test split size: ours {t['n']} slices ({t['n_tumour']} with tumour), the "
             f"paper's {sum(pb['per_class'][c]['support'] for c in pb['per_class'])}: counts "
             "in the confusion matrix are not comparable one-to-one; rates are.\n"]
    return "\n".join(lines)


def lgg_figures(fig_dir: Path, gan_metric: str, info: Mapping) -> str:
    images = np.load(layout.prepared("lgg") / "images.npy", mmap_mode="r")
    masks = np.load(layout.prepared("lgg") / "masks.npy", mmap_mode="r")
    table = pd.read_csv(layout.per_sample("lgg", "unet"))
    test = table[table["split"] == "test"]
    tumour = test[test["target_area"] > 0].sort_values("target_area", ascending=False)
    empty = test[test["target_area"] == 0]
    pick = list(tumour.index[:3]) + list(empty.index[:2])
    preds = {mod: npz("lgg", file_of(mod, gan_metric))["labelled"] for mod in ("unet", "gan")}
    titles = [f"{table['sample_id'][i]}\n{'Tumour' if table['target_area'][i] else 'No tumour'}"
              for i in pick]
    ex = figures.lgg_examples(images[pick], masks[pick],
                              {MODEL_NAMES[k]: v[pick] for k, v in preds.items()}, titles,
                              fig_dir / "lgg_examples.png")
    full = pd.read_csv(layout.prepared("lgg") / "split.csv")
    area = masks.reshape(len(full), -1).sum(axis=1)
    dist = {s: {"Tumour": int(((full["split"] == s) & (area > 0)).sum()),
                "No tumour": int(((full["split"] == s) & (area == 0)).sum())}
            for s in SPLITS}
    cd = figures.class_distribution(dist, fig_dir / "lgg_class_distribution.png")
    cv = figures.curves(curve_dirs("lgg", gan_metric, info), fig_dir / "lgg_curves.png",
                        "LGG training curves (the paper's loss figure)")
    return (f"![LGG examples]({ex})\n\n![LGG class distribution]({cd})\n\n"
            f"![LGG curves]({cv})\n")
