"""The report's section on recipes beyond the paper's (``params.yaml`` ``recipes``): each LGG
recipe's model on its own split, per patient first, beside the paper recipe and the anchors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segstudy import layout, recipes
from segstudy.detection import classify
from segstudy.patients import per_patient
from segstudy.report import figures
from segstudy.report.common import fmt, load_json, npz


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
         "| model | split | patients | slices (empty %) | Dice per patient | IoU tumour slices "
         "| IoU all slices | IoU if nothing predicted |", "|---|---|---|---|---|---|---|---|"]
    paper_test = load_json(layout.metrics("lgg", "unet"))["test"]
    rows = [("paper recipe (slice split)", "test", paper_test)]
    for name in names:
        m = load_json(layout.metrics("lgg", name))
        rows += [(f"`{name}` recipe (patient split)", split, m[split]) for split in ("val", "test")]
    for label, split, t in rows:
        s.append(f"| {label} | {split} | {t['n_patients']} | {t['n']} "
                 f"({100 * t['empty_share']:.0f} %) | **{fmt(t['dice_per_patient'])}** | "
                 f"**{fmt(t['iou_tumour_slices'])}** | {fmt(t['iou'])} | "
                 f"{fmt(t['iou_if_nothing_predicted'])} |")
    s.append(f"| Buda et al. 2019 (anchor: 110 patients, patient cross-validation) | – | 110 | "
             f"– | {anchor} | – | – | – |\n")
    scores: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        info = load_json(layout.sidecar(layout.model("lgg", name)))
        table = pd.read_csv(layout.per_sample("lgg", name))
        s.append(_rule_and_post(name, info, table))
        pat = per_patient(table, empty)
        scores[f"`{name}`"] = {sp: pat.loc[pat["split"] == sp, "dice"].to_numpy()
                               for sp in ("val", "test")}
        s.append(_worst(name, table, pat, fig_dir))
    paper_pat = per_patient(pd.read_csv(layout.per_sample("lgg", "unet")), empty)
    scores["paper recipe"] = {sp: paper_pat.loc[paper_pat["split"] == sp, "dice"].to_numpy()
                              for sp in ("val", "test")}
    fig = figures.per_patient_dice(scores, anchor, fig_dir / "lgg_recipes_per_patient_dice.png")
    s.append(f"![LGG per-patient Dice by recipe]({fig})\n")
    return "\n".join(s) + "\n"


def _rule_and_post(name: str, info: Mapping[str, Any], table: pd.DataFrame) -> str:
    rule = info["decision"]
    post = info.get("postprocess") or {}
    kept = [k for k in ("tta_flip", "min_component", "largest_3d") if post.get(k)]
    lines = [f"**`{name}`**: post-processing kept on validation: "
             f"{', '.join(f'{k}={post[k]}' for k in kept) or 'none'} (val Dice per patient "
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


def _worst(name: str, table: pd.DataFrame, pat: pd.DataFrame, fig_dir: Path) -> str:
    """The five test patients with the lowest Dice, each by the slice showing most error."""
    test = table[table["split"] == "test"]
    worst = pat[pat["split"] == "test"].nsmallest(5, "dice")
    if worst.empty:
        return ""
    seen = test["target_area"] + test["pred_area"]
    pick = [int(seen[test["case_id"] == c].idxmax()) for c in worst["case_id"]]
    folder = layout.prepared("lgg", name)
    images = np.load(folder / "images.npy", mmap_mode="r")
    masks = np.load(folder / "masks.npy", mmap_mode="r")
    pred = npz("lgg", name)["labelled"]
    titles = [f"{c}\nDice {d:.2f}" for c, d in zip(worst["case_id"], worst["dice"], strict=True)]
    fig = figures.lgg_examples(images[pick], masks[pick], {f"`{name}`": pred[pick]}, titles,
                               fig_dir / f"lgg_{name}_worst_patients.png")
    return f"![`{name}`: worst test patients]({fig})\n"
