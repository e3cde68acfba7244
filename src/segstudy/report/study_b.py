"""Study B's part of the report: LGG segmentation and the Tumour / No-tumour classification."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from segstudy import drawing, layout
from segstudy.data.prepared import Prepared
from segstudy.data.split import SPLITS
from segstudy.patients import per_patient
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
    tr = params["train"]["lgg"]
    per_epoch = ("the whole train split" if tr["steps_per_epoch"] is None
                 else f"{tr['steps_per_epoch']} batches")
    add(f"Paper B does not give its epochs. Ours are chosen by budget: {tr['epochs']} epochs of "
        f"{per_epoch} (batch {tr['batch_size']}; `train.lgg`), so that the whole study fits one "
        "90-minute sitting on 2 CPU cores.\n")
    add("### Segmentation on the test split\n")
    add("Per patient first: most LGG slices are empty, and an empty slice predicted empty scores "
        f"{params['evaluate']['empty_iou']}, so the mean over all slices is carried by them. Dice "
        "and IoU *per patient* score each patient's slices of the split as one volume; *tumour "
        "slices* averages only slices whose ground truth has tumour.\n")
    add("| model | Dice per patient | IoU tumour slices | IoU per patient | IoU all slices "
        "| Dice all slices |")
    add("|---|---|---|---|---|---|")
    for mod in ("unet", "gan"):
        t = m["lgg", mod]["test"]
        add(f"| {MODEL_NAMES[mod]} | {fmt(t['dice_per_patient'])} | "
            f"{fmt(t['iou_tumour_slices'])} | {fmt(t['iou_per_patient'])} | {fmt(t['iou'])} | "
            f"{fmt(t['dice'])} |")
    add(f"| paper B (test, 90 slices) | – | – | – | {pb['mean_iou']} (how empty slices count "
        "is not said) | – |")
    add(f"| Buda et al. 2019 (anchor: 5-fold patient cross-validation, 110 patients) | "
        f"{paper['earlier']['buda2019_mean_dice_per_volume']} | – | – | – | – |")
    add("")
    t = m["lgg", "unet"]["test"]
    nothing = t["iou_if_nothing_predicted"]
    add(f"Our test split: {t['n']} slices of {t['n_patients']} patients, "
        f"{100 * t['empty_share']:.0f} % of slices empty. A model that predicts no tumour "
        f"anywhere would score {nothing:.3f} over all test slices under this empty-mask rule "
        f"(the paper's test mix: {paper_empty_floor(pb):.3f}) and 0 per patient.\n")
    add(per_patient_figures(fig_dir, gan_metric, float(params["evaluate"]["empty_iou"]),
                            float(paper["earlier"]["buda2019_mean_dice_per_volume"])))
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
        fig = drawing.confusion(te, fig_dir / f"lgg_confusion_{mod}.png",
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


def study_b_verdicts(m: Mapping, pb: Mapping, nothing: float) -> str:
    t = m["lgg", "unet"]["test"]
    te = m["lgg", "unet"]["detection"]["test"]
    rec = te["per_class"]["Tumour"]["recall"]
    paper_floor = paper_empty_floor(pb)
    lines = ["### What agrees with study B and what does not\n",
             f"- *Mean IoU {pb['mean_iou']} on test*: ours {t['iou']:.3f} over all slices and "
             f"{t['iou_tumour_slices']:.3f} over tumour slices only (Dice per patient "
             f"{t['dice_per_patient']:.3f}); the paper does not say how "
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


def per_patient_figures(fig_dir: Path, gan_metric: str, empty: float, anchor: float) -> str:
    """Per-patient Dice of every split (U-Net and GAN), then the five test patients with the
    lowest Dice (each by its slice with the most tumour, found or true) and the five test
    tumour slices with the lowest IoU."""
    data = Prepared(layout.prepared("lgg"))
    images, masks = data.images, data.masks
    tables = {mod: pd.read_csv(layout.per_sample("lgg", file_of(mod, gan_metric)))
              for mod in ("unet", "gan")}
    patients = {mod: per_patient(t, empty) for mod, t in tables.items()}
    scores = {MODEL_NAMES[mod]: {s: p.loc[p["split"] == s, "dice"].to_numpy() for s in SPLITS}
              for mod, p in patients.items()}
    dist = figures.per_patient_dice(scores, anchor, fig_dir / "lgg_per_patient_dice.png")
    table, pat = tables["unet"], patients["unet"]
    test = table[table["split"] == "test"]
    worst = pat[pat["split"] == "test"].nsmallest(5, "dice")
    seen = test["target_area"] + test["pred_area"]  # the slice showing most of the error
    pick_patients = [int(seen[test["case_id"] == c].idxmax()) for c in worst["case_id"]]
    tumour = test[test["target_area"] > 0].nsmallest(5, "iou")
    preds = {MODEL_NAMES[mod]: npz("lgg", file_of(mod, gan_metric))["labelled"]
             for mod in ("unet", "gan")}
    out = [f"![LGG per-patient Dice]({dist})\n"]
    for name, pick, titles in (
            ("lgg_worst_patients.png", pick_patients,
             [f"{c}\nU-Net Dice {d:.2f}" for c, d in zip(worst["case_id"], worst["dice"],
                                                      strict=True)]),
            ("lgg_worst_slices.png", list(tumour.index),
             [f"{table['sample_id'][i]}\nU-Net IoU {table['iou'][i]:.2f}" for i in tumour.index])):
        if pick:
            fig = figures.lgg_examples(images[pick], masks[pick],
                                       {k: v[pick] for k, v in preds.items()}, titles,
                                       fig_dir / name)
            out.append(f"![{name.removesuffix('.png').replace('_', ' ')}]({fig})\n")
    return "\n".join(out)


def lgg_figures(fig_dir: Path, gan_metric: str, info: Mapping) -> str:
    data = Prepared(layout.prepared("lgg"))
    images, masks = data.images, data.masks
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
                        "LGG learning curves, every seed of each model (the paper's loss figure)")
    return (f"![LGG examples]({ex})\n\n![LGG class distribution]({cd})\n\n"
            f"![LGG curves]({cv})\n")
