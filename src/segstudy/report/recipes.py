"""The report's sections on recipes beyond the paper's (``params.yaml`` ``recipes``): each LGG
recipe's model on its own split, per patient first, and each ISBI recipe's cells, beside the
paper recipe and the anchors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segstudy import layout, recipes
from segstudy.data.prepared import Prepared
from segstudy.detection import classify
from segstudy.patients import per_patient
from segstudy.report import figures
from segstudy.report.common import fmt, load_json, npz
from segstudy.report.verdict import mean_interval, ratio_interval


def lgg_section(params: Mapping[str, Any], paper: Mapping[str, Any], fig_dir: Path) -> str:
    """One table per split kind, the Tumour rule on val and test, the post-processing kept,
    and two figures (per-patient Dice of both recipes; the strong model's worst patients)."""
    names = [n for n in recipes.names(params, "lgg")[1:] if layout.metrics("lgg", n).is_file()]
    if not names:
        return ""
    empty = float(params["evaluate"]["empty_iou"])
    anchor = float(paper["earlier"]["buda2019_mean_dice_per_volume"])
    s = ["## Beyond study B: LGG recipes that hold up on unseen patients\n",
         "The paper recipe splits random *slices*, so a test patient's neighbouring slices are "
         "in training. A recipe below splits whole *patients* (none in two splits), so its "
         "validation and test scores are for patients the model never saw. Headline: Dice per "
         "patient volume and IoU over tumour slices; the all-slice mean second, with the share "
         "of empty slices and what predicting nothing would score.\n",
         "A few patients carry each split, so both headline scores come with their 95 % "
         "interval over those patients (the IoU over tumour slices with each patient's slices "
         "as one cluster): where a target or the anchor lies inside it, that split cannot tell "
         "whether the recipe reaches it.\n",
         "| model | split | patients | slices (empty %) | Dice per patient [95 % interval] "
         "| IoU tumour slices [95 % interval] | IoU all slices | IoU if nothing predicted |",
         "|---|---|---|---|---|---|---|---|"]
    tables = {n: pd.read_csv(layout.per_sample("lgg", n)) for n in ("unet", *names)}
    pats = {n: per_patient(table, empty) for n, table in tables.items()}
    rows = [("paper recipe (slice split)", "test", "unet")]
    rows += [(f"`{n}` recipe (patient split)", split, n)
             for n in names for split in ("val", "test")]
    for label, split, name in rows:
        t, table = load_json(layout.metrics("lgg", name))[split], tables[name]
        s.append(f"| {label} | {split} | {t['n_patients']} | {t['n']} "
                 f"({100 * t['empty_share']:.0f} %) | **{fmt(t['dice_per_patient'])}**"
                 f"{_interval(pats[name], split)} | **{fmt(t['iou_tumour_slices'])}**"
                 f"{_slice_interval(table, split)} | "
                 f"{fmt(t['iou'])} | {fmt(t['iou_if_nothing_predicted'])} |")
    s.append(f"| Buda et al. 2019 (anchor: 110 patients, patient cross-validation) | – | 110 | "
             f"– | {anchor} | – | – | – |\n")
    scores: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        info = load_json(layout.sidecar(layout.model("lgg", name)))
        table = tables[name]
        s.append(_rule_and_post(name, info, table))
        s.append(_members(name, info, load_json(layout.metrics("lgg", name))))
        pat = pats[name]
        scores[f"`{name}`"] = {sp: pat.loc[pat["split"] == sp, "dice"].to_numpy()
                               for sp in ("val", "test")}
        s.append(_worst(name, table, pat, fig_dir))
    paper_pat = pats["unet"]
    scores["paper recipe"] = {sp: paper_pat.loc[paper_pat["split"] == sp, "dice"].to_numpy()
                              for sp in ("val", "test")}
    fig = figures.per_patient_dice(scores, anchor, fig_dir / "lgg_recipes_per_patient_dice.png")
    s.append(f"![LGG per-patient Dice by recipe]({fig})\n")
    return "\n".join(s) + "\n"


def _interval(pat: pd.DataFrame, split: str) -> str:
    """`` [low, high]``: the 95 % t-interval of the mean Dice over ``split``'s patients
    (``patients.per_patient`` rows; nothing with fewer than two patients)."""
    dice = pat.loc[pat["split"] == split, "dice"].to_numpy()
    if len(dice) < 2:
        return ""
    _, low, high = mean_interval(dice)
    return f" [{fmt(low)}, {fmt(high)}]"


def _slice_interval(table: pd.DataFrame, split: str) -> str:
    """`` [low, high]``: the 95 % interval of the mean IoU over tumour slices, the patients as
    clusters (``verdict.ratio_interval``: a patient's slices are not independent)."""
    rows = table[(table["split"] == split) & (table["target_area"] > 0)]
    by = rows.groupby("case_id")["iou"].agg(["sum", "size"])
    if len(by) < 2:
        return ""
    _, low, high = ratio_interval(by["sum"].to_numpy(), by["size"].to_numpy())
    return f" [{fmt(low)}, {fmt(high)}]"


def _rule_and_post(name: str, info: Mapping[str, Any], table: pd.DataFrame) -> str:
    rule = info["decision"]
    post = info.get("postprocess") or {}
    fixed = post.get("fixed") or []
    kept = [k for k in ("tta_flip", "min_component") if post.get(k)]
    kept += [k for k in ("largest_3d", "hysteresis") if post.get(k) and k not in fixed]
    fixed_txt = (f"; fixed by the recipe: {', '.join(f'{k}={post[k]}' for k in fixed)}"
                 if fixed else "")
    lines = [f"**`{name}`**: post-processing kept on validation: "
             f"{', '.join(f'{k}={post[k]}' for k in kept) or 'none'}{fixed_txt} "
             f"(val Dice per patient "
             f"{fmt(post.get('val_dice_per_patient'))}; tried: "
             f"{', '.join(f'{k} → {v}' for k, v in (post.get('tried') or {}).items())}). "
             f"Tumour rule: ≥ {rule['min_area']} predicted pixels, chosen on validation for "
             f"Tumour recall ≥ {rule['recall_floor']} (floor "
             f"{'met' if rule['floor_met'] else 'NOT met'}).\n",
             "| split | TP | TN | FN | FP | Tumour recall | Tumour precision |",
             "|---|---|---|---|---|---|---|"]
    for split in ("val", "test"):
        rows = table[table["split"] == split]
        d = classify(rows["pred_area"].to_numpy(), (rows["target_area"] > 0).to_numpy(),
                     rule["min_area"])
        c = d["per_class"]["Tumour"]
        lines.append(f"| {split} | {d['tp']} | {d['tn']} | {d['fn']} | {d['fp']} | "
                     f"{c['recall']:.3f} | {c['precision']:.3f} |")
    return "\n".join(lines) + "\n"


def _members(name: str, info: Mapping[str, Any], m: Mapping[str, Any]) -> str:
    """For a published average of seeds (``train.ensemble``): each seed alone beside it."""
    if not info.get("ensemble_of"):
        return ""
    alone = ", ".join(f"seed {seed} {fmt(row['val']['dice_per_patient'])} / "
                      f"{fmt(row['test']['dice_per_patient'])}"
                      for seed, row in m["over_seeds"]["per_seed"].items())
    return (f"`{name}` is the average of {len(info['ensemble_of'])} seeds' outputs "
            f"({', '.join(info['ensemble_of'])}): Dice per patient val / test "
            f"{fmt(m['val']['dice_per_patient'])} / {fmt(m['test']['dice_per_patient'])}; "
            f"each seed alone: {alone}.\n")


def _worst(name: str, table: pd.DataFrame, pat: pd.DataFrame, fig_dir: Path) -> str:
    """The five test patients with the lowest Dice, each by the slice showing most error."""
    test = table[table["split"] == "test"]
    worst = pat[pat["split"] == "test"].nsmallest(5, "dice")
    if worst.empty:
        return ""
    seen = test["target_area"] + test["pred_area"]
    pick = [int(seen[test["case_id"] == c].idxmax()) for c in worst["case_id"]]
    folder = layout.prepared("lgg", name)
    data = Prepared(folder)
    images, masks = data.images, data.masks
    pred = npz("lgg", name)["labelled"]
    titles = [f"{c}\nDice {d:.2f}" for c, d in zip(worst["case_id"], worst["dice"], strict=True)]
    fig = figures.lgg_examples(images[pick], masks[pick], {f"`{name}`": pred[pick]}, titles,
                               fig_dir / f"lgg_{name}_worst_patients.png")
    return f"![`{name}`: worst test patients]({fig})\n"


def isbi_section(params: Mapping[str, Any], paper: Mapping[str, Any], fig_dir: Path) -> str:
    """Cells first (adapted Rand error, VI) on the held-out slices, pixel IoU beside, for the
    paper recipe and each ISBI recipe; the cells of the first test slice as a figure."""
    names = [n for n in recipes.names(params, "isbi2012")[1:]
             if layout.metrics("isbi2012", n).is_file()]
    if not names:
        return ""
    s = ["## Beyond study A: ISBI cells, not pixels\n",
         "The challenge ranks cells: 4-connected components of the predicted interior, scored "
         "by the adapted Rand error and the variation of information (split + merge) against "
         "the true cells; both scores leave out the true membrane (label 0), and predicted "
         "membrane inside a true cell counts as one segment (`segstudy.metrics."
         "region_scores`). IoU (interior) is the pixel map's, before the cell steps. Means "
         "over the held-out slices of the contiguous split (the same slices for every model); "
         "no k-fold over the 30 labelled slices was run.\n",
         "| model | split | slices | adapted Rand error | VI | IoU (interior) |",
         "|---|---|---|---|---|---|"]
    models = ["unet", *names]
    for name in models:
        m = load_json(layout.metrics("isbi2012", name))
        label = "paper recipe" if name == "unet" else f"`{name}` recipe"
        for split in ("val", "test"):
            t = m[split]
            s.append(f"| {label} | {split} | {t['n']} | **{fmt(t['rand_error'])}** | "
                     f"{fmt(t['vi'])} | {fmt(t['iou'])} |")
    s.append(f"| Ronneberger et al. 2015 (challenge test set, organisers) | test | 30 | "
             f"{paper['earlier']['unet2015_rand_error']} | – | – |\n")
    for name in names:
        post = load_json(layout.sidecar(layout.model("isbi2012", name))).get("postprocess") or {}
        steps = [f"{k}={post[k]}" for k in ("tta_dihedral", "thin", "threshold", "min_cell",
                                            "watershed_h") if k in post]
        s.append(f"**`{name}`** cell steps chosen on validation: {', '.join(steps)} (val adapted "
                 f"Rand error {fmt(post.get('val_rand_error'))}; {len(post.get('tried') or {})} "
                 "settings tried).\n")
    folder = layout.prepared("isbi2012")
    table = pd.read_csv(folder / "split.csv")
    i = int(np.flatnonzero(table["split"].to_numpy() == "test")[0])
    image = np.load(folder / "images.npy", mmap_mode="r")[i, ..., 0]
    label = np.load(folder / "masks.npy", mmap_mode="r")[i]
    preds = {("paper" if n == "unet" else n): npz("isbi2012", n)["labelled"][i] > 127
             for n in models}
    fig = figures.isbi_cells(image, label, preds, f"held-out slice {table['sample_id'][i]}",
                             fig_dir / "isbi_cells.png")
    s.append(f"![ISBI cells]({fig})\n")
    return "\n".join(s) + "\n"
