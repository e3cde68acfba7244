"""Assemble ``report/REPORT.md``: the papers' tables beside ours, figures, protocol, verdicts.

Reads only stage outputs (metrics JSON, per-sample CSVs, predictions, model sidecars, dvclive
curves, prepared data) and ``paper_numbers.yaml``; every number printed comes from them.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from segstudy import SegstudyError
from segstudy.data.split import SPLITS
from segstudy.io import atomic_path
from segstudy.report import figures

PAPER = Path(__file__).with_name("paper_numbers.yaml")
COLS = ("module", "squaring", "percent", "iou")
MODEL_NAMES = {"unet": "U-Net alone", "gan": "U-Net in the GAN"}


def paper_numbers() -> dict[str, Any]:
    return yaml.safe_load(PAPER.read_text())


def _load(path: Path) -> dict[str, Any]:
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
    """Rows = the paper's four columns; train and test, ours beside the paper's, Δ = ours − paper."""
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


def build_report(params: Mapping[str, Any], out: str | Path = "report") -> Path:
    out = Path(out)
    paper = paper_numbers()
    with atomic_path(out, is_dir=True) as tmp:
        text = _render(params, paper, tmp)
        (tmp / "REPORT.md").write_text(text)
    return out / "REPORT.md"


def _render(params: Mapping[str, Any], paper: Mapping[str, Any], fig_dir: Path) -> str:
    m = {(ds, mod): _load(Path(f"metrics/{ds}/{mod}.json"))
         for ds in ("isbi2012", "lgg") for mod in ("unet", "gan")}
    info = {(ds, mod): _load(Path(f"models/{ds}/{mod}.json"))
            for ds in ("isbi2012", "lgg") for mod in ("unet", "gan")}
    pa, pb = paper["study_a"], paper["study_b"]
    gan_metric = params["gan"]["metric"]
    power = params["gan"]["metric_power"][gan_metric]
    s: list[str] = []
    add = s.append
    add("# segstudy report\n")
    add(f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `dvc repro` (stage `report`) "
        f"at git {git_revision()}; {platform.machine()} CPU, {_cores()} cores; {versions()}.\n")
    add("Every number below is read from this run's stage outputs; the papers' numbers come from "
        "`src/segstudy/report/paper_numbers.yaml`. Δ = ours − paper.\n")

    # ---- Study A
    add("## Study A — ISBI 2012 membranes: U-Net alone vs U-Net trained inside the GAN\n")
    add(f"Errors (`module`, `squaring`) are on the generator's [-1, 1] scale; `percent` and `iou` "
        f"after binarising at 0; foreground = cell interior. Split: contiguous blocks of the 30 "
        f"labelled slices, {_split_counts('isbi2012')}.\n")
    add("### Table 1 — U-Net trained alone\n")
    add(paper_table(m["isbi2012", "unet"], pa["table1_unet"]) + "\n")
    add(f"### Table 2 — U-Net trained inside the GAN (discriminator target: "
        f"{gan_metric}{'^' + str(power) if power != 1 else ''})\n")
    if gan_metric != "iou" or power != 2:
        add(f"> The paper's Table 2 used IoU²; this run used `gan.metric={gan_metric}`.\n")
    add(paper_table(m["isbi2012", "gan"], pa["table2_gan"]) + "\n")
    add("### Beyond the paper: the challenge's region scores (test split, lower is better)\n")
    add("| model | adapted Rand error | variation of information | Dice | train − test IoU |")
    add("|---|---|---|---|---|")
    for mod in ("unet", "gan"):
        r = m["isbi2012", mod]
        add(f"| {MODEL_NAMES[mod]} | {fmt(r['test']['rand_error'])} | {fmt(r['test']['vi'])} | "
            f"{fmt(r['test']['dice'])} | {r['train']['iou'] - r['test']['iou']:+.3f} |")
    add("")
    add(_study_a_verdicts(m, info))
    add(_gan_selection_note(info, params, "isbi2012"))
    add(_isbi_figures(fig_dir))

    # ---- Study B
    add("## Study B — LGG brain MRI: segmentation and Tumour / No-tumour classification\n")
    counts = _split_counts("lgg")
    by = params["prepare"]["lgg"]["split"]["by"]
    add(f"Split by {by} (seed {params['seed']}): {counts}; the paper: "
        f"{pb['split']['train']}/{pb['split']['val']}/{pb['split']['test']} of 3929 slices "
        f"(this data may be the 1350-slice mirror: counts scaled). IoU of a slice where both "
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
    nothing = _predict_nothing_iou("lgg", params["evaluate"]["empty_iou"])
    add(f"A model that predicts no tumour anywhere would score {nothing:.3f} over all test slices "
        f"under this empty-mask rule (the paper's test mix: 58/90 = 0.644).\n")
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
    add(_study_b_verdicts(m, pb, nothing))
    add(_gan_selection_note(info, params, "lgg"))
    add(_lgg_figures(fig_dir))

    # ---- Protocol
    add("## Protocol\n")
    add("| | ISBI 2012 | LGG |\n|---|---|---|")
    add(f"| split (train/val/test) | {_split_counts('isbi2012')} | {counts} |")
    add(f"| split rule | contiguous blocks, counts {params['prepare']['isbi2012']['split']['counts']}"
        f" | by {by}, seed {params['seed']} |")
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
        add(f"| GAN: discriminator parameters | {a['discriminator_params']} | "
            f"{b['discriminator_params']} |")
        add(f"| GAN: final D approximation error (val) | {fmt(a.get('final_val_d_error'))} | "
            f"{fmt(b.get('final_val_d_error'))} |")
    add(f"| normalisation | {params['prepare']['isbi2012']['normalise']} | "
        f"{params['prepare']['lgg']['normalise']}, resize {params['prepare']['lgg']['resize_to']} |")
    add("\nAll parameters: `params.yaml` at the revision above.\n")
    return "\n".join(s) + "\n"


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _split_counts(ds: str) -> str:
    table = pd.read_csv(f"data/prepared/{ds}/split.csv")
    c = table["split"].value_counts()
    return "/".join(str(int(c.get(k, 0))) for k in SPLITS)


def _predict_nothing_iou(ds: str, empty: float) -> float:
    t = pd.read_csv(f"metrics/{ds}/unet_per_sample.csv")
    t = t[t["split"] == "test"]
    return float(np.mean(np.where(t["target_area"] > 0, 0.0, empty)))


def _verdict(ok: bool, difference: float | None = None, noise: float = 0.005) -> str:
    if difference is not None and abs(difference) < noise:
        return f"**no difference** (|Δ| < {noise})"
    return "**agrees**" if ok else "**does not agree**"


def _study_a_verdicts(m: Mapping, info: Mapping) -> str:
    u, g = m["isbi2012", "unet"], m["isbi2012", "gan"]
    d_iou = g["test"]["iou"] - u["test"]["iou"]
    d_sq = g["test"]["squaring"] - u["test"]["squaring"]
    gap_u = u["train"]["iou"] - u["test"]["iou"]
    gap_g = g["train"]["iou"] - g["test"]["iou"]
    lines = ["### What agrees with study A and what does not\n",
             f"- *GAN-trained U-Net segments better on test*: test IoU {g['test']['iou']:.3f} vs "
             f"{u['test']['iou']:.3f} (Δ {d_iou:+.3f}) — {_verdict(d_iou > 0, d_iou)}. "
             "One seed each; run-to-run spread was not measured in this run, so a difference of a "
             "few thousandths is not evidence either way.",
             f"- *GAN pushes outputs to binary, so its squared error is larger*: squaring "
             f"{g['test']['squaring']:.3f} vs {u['test']['squaring']:.3f} — "
             f"{_verdict(d_sq > 0, d_sq)}.",
             f"- *GAN overfits less (smaller train/test gap)*: IoU gap {gap_g:+.3f} vs "
             f"{gap_u:+.3f} — {_verdict(gap_g < gap_u, gap_g - gap_u)}.",
             f"- *GAN costs more time*: {info['isbi2012', 'gan']['wall_seconds_this_run']:.0f} s "
             f"on top of the U-Net's {info['isbi2012', 'unet']['wall_seconds_this_run']:.0f} s "
             "(the GAN starts from the trained U-Net).",
             f"- The discriminator's final approximation error on validation was "
             f"{fmt(info['isbi2012', 'gan'].get('final_val_d_error'))} (quality units, 0..1): "
             "when it is not small against the IoU differences above, G may be optimising D's "
             "mistakes rather than the metric.\n"]
    return "\n".join(lines)


def _gan_selection_note(info: Mapping, params: Mapping, ds: str) -> str:
    """Say plainly when the kept GAN generator is the U-Net it started from."""
    gan = info[ds, "gan"]
    steps = params["gan"][ds].get("steps_per_epoch") or 1
    frozen_epochs = int(params["gan"].get("d_warmup_steps", 0)) // int(steps)
    bn = (" (only its batch-norm statistics were re-estimated on training batches)"
          if params["model"][ds].get("batchnorm") else "")
    if gan.get("init") == "unet" and gan["best_epoch"] <= frozen_epochs:
        return (f"> **{ds}: the GAN never beat its starting point on validation.** Its best "
                f"validation IoU came at epoch {gan['best_epoch']} of {gan['epochs']}, while G was "
                f"still frozen for D's warm-up ({params['gan']['d_warmup_steps']} steps cover "
                f"{frozen_epochs} whole epoch{'s' if frozen_epochs != 1 else ''}), so the kept generator *is* the trained U-Net{bn} and "
                "the GAN rows restate the U-Net rows. No later epoch scored higher: see the "
                "validation-IoU curve and D's approximation error below.\n")
    return (f"The GAN's kept generator is from epoch {gan['best_epoch']} of {gan['epochs']} "
            f"(best validation IoU {gan['best_val_iou']:.4f}).\n")


def _study_b_verdicts(m: Mapping, pb: Mapping, nothing: float) -> str:
    t = m["lgg", "unet"]["test"]
    te = m["lgg", "unet"]["detection"]["test"]
    rec = te["per_class"]["Tumour"]["recall"]
    lines = ["### What agrees with study B and what does not\n",
             f"- *Mean IoU 0.812 on test*: ours {t['iou']:.3f} over all slices and "
             f"{t['iou_tumour_slices']:.3f} over tumour slices only; the paper does not say how "
             "empty slices count, and the two numbers bracket its possible meanings. The "
             f"all-slices mean is not comparable across test mixes: predicting nothing scores "
             f"{nothing:.3f} on ours and 0.644 on the paper's, so the paper's 0.812 is "
             f"{0.812 - 0.644:+.3f} above its floor and ours {t['iou'] - nothing:+.3f} above ours.",
             f"- *False negatives are the weakness*: our Tumour recall {rec:.3f} vs the paper's "
             f"{pb['per_class']['Tumour']['recall']} with a threshold chosen on validation for "
             f"recall ≥ {m['lgg', 'unet']['detection']['chosen_on_val']['recall_floor']}.",
             f"- Test split size: ours {t['n']} slices ({t['n_tumour']} with tumour), the "
             f"paper's {sum(pb['per_class'][c]['support'] for c in pb['per_class'])}: counts "
             "in the confusion matrix are not comparable one-to-one; rates are.\n"]
    return "\n".join(lines)


def _npz(ds: str, mod: str) -> dict[str, np.ndarray]:
    with np.load(f"predictions/{ds}/{mod}.npz") as z:
        return {k: z[k] for k in z.files}


def _isbi_figures(fig_dir: Path) -> str:
    images = np.load("data/prepared/isbi2012/images.npy", mmap_mode="r")
    masks = np.load("data/prepared/isbi2012/masks.npy", mmap_mode="r")
    table = pd.read_csv("data/prepared/isbi2012/split.csv")
    test_idx = int(np.flatnonzero(table["split"] == "test")[0])
    preds = {mod: _npz("isbi2012", mod) for mod in ("unet", "gan")}
    ex = figures.isbi_examples(
        images[test_idx, ..., 0], masks[test_idx],
        {MODEL_NAMES[k]: v["labelled"][test_idx] for k, v in preds.items()},
        fig_dir / "isbi_examples.png", f"ISBI test slice {table['sample_id'][test_idx]}")
    unl = np.load("data/prepared/isbi2012/unlabelled.npy", mmap_mode="r")
    pick = [0, 15, 29]
    un = figures.isbi_unlabelled(unl[pick, ..., 0],
                                 {MODEL_NAMES[k]: v["unlabelled"][pick] for k, v in preds.items()},
                                 fig_dir / "isbi_unlabelled.png")
    cv = figures.curves({"U-Net": Path("plots/isbi2012/unet"), "GAN": Path("plots/isbi2012/gan")},
                        fig_dir / "isbi_curves.png", "ISBI 2012 training curves")
    return (f"![ISBI examples]({ex})\n\nPredictions on the unlabelled challenge test stack "
            f"(slices {pick}):\n\n![ISBI unlabelled]({un})\n\n![ISBI curves]({cv})\n")


def _lgg_figures(fig_dir: Path) -> str:
    images = np.load("data/prepared/lgg/images.npy", mmap_mode="r")
    masks = np.load("data/prepared/lgg/masks.npy", mmap_mode="r")
    table = pd.read_csv("metrics/lgg/unet_per_sample.csv")
    test = table[table["split"] == "test"]
    tumour = test[test["target_area"] > 0].sort_values("target_area", ascending=False)
    empty = test[test["target_area"] == 0]
    pick = list(tumour.index[:3]) + list(empty.index[:2])
    preds = {mod: _npz("lgg", mod)["labelled"] for mod in ("unet", "gan")}
    titles = [f"{table['sample_id'][i]}\n{'Tumour' if table['target_area'][i] else 'No tumour'}"
              for i in pick]
    ex = figures.lgg_examples(images[pick], masks[pick],
                              {MODEL_NAMES[k]: v[pick] for k, v in preds.items()}, titles,
                              fig_dir / "lgg_examples.png")
    full = pd.read_csv("data/prepared/lgg/split.csv")
    area = masks.reshape(len(full), -1).sum(axis=1)
    dist = {s: {"Tumour": int(((full["split"] == s) & (area > 0)).sum()),
                "No tumour": int(((full["split"] == s) & (area == 0)).sum())}
            for s in SPLITS}
    cd = figures.class_distribution(dist, fig_dir / "lgg_class_distribution.png")
    cv = figures.curves({"U-Net": Path("plots/lgg/unet"), "GAN": Path("plots/lgg/gan")},
                        fig_dir / "lgg_curves.png", "LGG training curves (the paper's loss figure)")
    return (f"![LGG examples]({ex})\n\n![LGG class distribution]({cd})\n\n"
            f"![LGG curves]({cv})\n")
