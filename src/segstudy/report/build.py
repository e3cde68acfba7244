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
from segstudy.config import METRIC_NAMES
from segstudy.data.split import SPLITS
from segstudy.io import atomic_path
from segstudy.params import choice
from segstudy.report import figures

PAPER = Path(__file__).with_name("paper_numbers.yaml")
COLS = ("module", "squaring", "percent", "iou")
MODEL_NAMES = {"unet": "U-Net alone", "gan": "U-Net in the GAN",
               "control": "U-Net + soft-IoU fine-tune (control)"}
DATASETS_SHOWN = ("isbi2012", "lgg")


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


def table2_metric(gan: Mapping[str, Any]) -> tuple[str, str | None]:
    """The discriminator target Table 2 shows: ``gan.metric`` when it was trained, else the first
    of ``gan.metrics`` (with a note saying so). A name that is no metric fails here."""
    trained = [choice(m, METRIC_NAMES, "gan.metrics") for m in gan.get("metrics") or [gan["metric"]]]
    metric = choice(gan["metric"], METRIC_NAMES, "gan.metric")
    if metric in trained:
        return metric, None
    return trained[0], (f"`gan.metric={metric}` was not trained (`gan.metrics={trained}`): "
                        f"Table 2 shows `{trained[0]}`.")


def file_of(mod: str, gan_metric: str) -> str:
    """Stage-output name of a report row: ``gan`` is Table 2's GAN, ``gan-<m>`` a sweep row."""
    return f"gan-{gan_metric}" if mod == "gan" else mod


def _render(params: Mapping[str, Any], paper: Mapping[str, Any], fig_dir: Path) -> str:
    gan_metric, fallback_note = table2_metric(params["gan"])
    sweep = [f"gan-{x}" for x in params["gan"].get("metrics") or [gan_metric]]
    rows = ("unet", "gan", "control", *sweep)
    m = {(ds, mod): _load(Path(f"metrics/{ds}/{file_of(mod, gan_metric)}.json"))
         for ds in DATASETS_SHOWN for mod in rows}
    info = {(ds, mod): _load(Path(f"models/{ds}/{file_of(mod, gan_metric)}.json"))
            for ds in DATASETS_SHOWN for mod in rows}
    pa, pb = paper["study_a"], paper["study_b"]
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
    if fallback_note:
        add(f"> {fallback_note}\n")
    if gan_metric != "iou" or power != 2:
        add(f"> The paper's Table 2 used IoU²; this table shows the GAN with target "
            f"`{gan_metric}`.\n")
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
    add(_gan_selection_note(info, m, "isbi2012"))
    add(sweep_section("isbi2012", m, info, sweep, params))
    add(_isbi_figures(fig_dir, gan_metric, info))

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
    add(_gan_selection_note(info, m, "lgg"))
    add(sweep_section("lgg", m, info, sweep, params))
    add(_lgg_figures(fig_dir, gan_metric, info))

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
        add(f"| GAN: first epoch eligible for selection | {a.get('first_selectable_epoch')} | "
            f"{b.get('first_selectable_epoch')} |")
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
             f"{u['test']['iou']:.3f} (Δ {d_iou:+.3f}) — {_verdict(d_iou > 0, d_iou)} for this seed; the per-target table "
             "below gives the mean ± std over seeds and the verdict against seed noise.",
             f"- *GAN pushes outputs to binary, so its squared error is larger*: squaring "
             f"{g['test']['squaring']:.3f} vs {u['test']['squaring']:.3f} — "
             f"{_verdict(d_sq > 0, d_sq)}.",
             f"- *GAN overfits less (smaller train/test gap)*: IoU gap {gap_g:+.3f} vs "
             f"{gap_u:+.3f} — {_verdict(gap_g < gap_u, gap_g - gap_u)}.",
             f"- *GAN costs more time*: {info['isbi2012', 'gan']['wall_seconds_this_run']:.0f} s "
             f"per seed on top of the U-Net's "
             f"{info['isbi2012', 'unet']['wall_seconds_this_run']:.0f} s (the GAN starts from "
             "the trained U-Net).",
             f"- The discriminator's final approximation error on validation was "
             f"{fmt(info['isbi2012', 'gan'].get('final_val_d_error'))} (quality units, 0..1): "
             "when it is not small against the IoU differences above, G may be optimising D's "
             "mistakes rather than the metric.\n"]
    return "\n".join(lines)


def _gan_selection_note(info: Mapping, m: Mapping, ds: str) -> str:
    """Where the kept generator came from, and how it compares with its own start."""
    gan, unet = info[ds, "gan"], info[ds, "unet"]
    first = gan.get("first_selectable_epoch", 1)
    d_val = gan["best_val_iou"] - unet["best_val_iou"]
    return (f"{ds}: Table 2's generator (seed {gan.get('seed')}) is the best on validation IoU "
            f"among GAN epochs {first}–{gan['epochs']} (those after D's warm-up, in which G was "
            f"updated): epoch {gan['best_epoch']}, val IoU {gan['best_val_iou']:.4f} against "
            f"{unet['best_val_iou']:.4f} for the U-Net it started from (Δ {d_val:+.4f}).\n")


SWEEP_COLS = {
    "isbi2012": (("module", "module ↓"), ("squaring", "squaring ↓"), ("percent", "percent ↑"),
                 ("iou", "IoU ↑"), ("dice", "Dice ↑"), ("rand_error", "adapted Rand error ↓"),
                 ("vi", "VI ↓")),
    "lgg": (("module", "module ↓"), ("squaring", "squaring ↓"), ("percent", "percent ↑"),
            ("iou", "IoU ↑"), ("dice", "Dice ↑"), ("iou_tumour_slices", "IoU, tumour slices ↑"),
            ("iou_per_patient", "IoU per patient ↑")),
}


def mean_std(mean: float | None, std: float | None, nd: int = 3) -> str:
    if mean is None:
        return "–"
    return f"{mean:.{nd}f}" + (f" ± {std:.{nd}f}" if std is not None else "")


def seed_verdict(a_mean: float, a_std: float | None, b_mean: float, b_std: float | None,
                 n: int) -> str:
    """Compare means against the seed spread: a difference no larger than the larger standard
    deviation of the two is *no difference*; with one seed there is no spread to compare."""
    delta = a_mean - b_mean
    if n < 2 or a_std is None or b_std is None:
        return f"Δ {delta:+.3f}, one seed: no spread measured, so **no verdict**"
    spread = max(a_std, b_std)
    if abs(delta) <= spread:
        return f"Δ {delta:+.3f} within the spread (±{spread:.3f}): **no difference**"
    return (f"Δ {delta:+.3f} beyond the spread (±{spread:.3f}): "
            f"**{'better' if delta > 0 else 'worse'}**")


def _info_over_seeds(info: Mapping, key: str) -> tuple[float | None, float | None]:
    values = [s.get(key) for s in info.get("seeds", [info])]
    values = [float(v) for v in values if v is not None]
    if not values:
        return None, None
    return float(np.mean(values)), (float(np.std(values, ddof=1)) if len(values) > 1 else None)


def sweep_section(ds: str, m: Mapping, info: Mapping, sweep: list[str],
                  params: Mapping[str, Any]) -> str:
    """Every discriminator target beside the U-Net and the control, mean ± std over seeds."""
    rows = ["unet", "control", *sweep]
    n = m[ds, "unet"]["over_seeds"]["n"]
    cols = SWEEP_COLS[ds]
    head = ["model", *(c[1] for c in cols), "train − test IoU", "D error (val, final)",
            "wall time per seed (s)"]
    out = [f"### Every discriminator target, {n} seed{'s' if n != 1 else ''} "
           f"({', '.join(str(x) for x in m[ds, 'unet']['over_seeds']['seeds'])}), test split\n",
           "Mean ± sample standard deviation over seeds. The control starts from the same U-Net "
           "and trains with the generator's schedule (epochs, steps, batch, learning rate, "
           "warm-up hold, selection), on the soft IoU itself instead of D's estimate of the "
           "quality. D error = mean |D − true quality| on validation at the GAN's last epoch "
           "(quality units 0..1).\n",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mod in rows:
        o = m[ds, mod]["over_seeds"]
        label = MODEL_NAMES.get(mod) or f"GAN, target {mod.removeprefix('gan-')}" + (
            f"^{params['gan']['metric_power'][mod.removeprefix('gan-')]}"
            if params["gan"]["metric_power"].get(mod.removeprefix("gan-"), 1) != 1 else "")
        cells = [mean_std(o["mean"]["test"].get(c), o["std"]["test"].get(c),
                          1 if c == "percent" else 3) for c, _ in cols]
        cells.append(mean_std(o["mean"]["gap_iou"], o["std"]["gap_iou"]))
        cells.append(mean_std(*_info_over_seeds(info[ds, mod], "final_val_d_error"))
                     if mod.startswith("gan-") else "–")
        cells.append(mean_std(*_info_over_seeds(info[ds, mod], "wall_seconds_this_run"), nd=0))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"**Verdicts ({ds}, test IoU over seeds):**\n")
    ref = {k: m[ds, k]["over_seeds"] for k in ("unet", "control")}
    ctrl = seed_verdict(ref["control"]["mean"]["test"]["iou"], ref["control"]["std"]["test"]["iou"],
                        ref["unet"]["mean"]["test"]["iou"], ref["unet"]["std"]["test"]["iou"], n)
    out.append(f"- control vs U-Net alone: {ctrl}.")
    for mod in sweep:
        o = m[ds, mod]["over_seeds"]
        parts = [f"vs {name}: " + seed_verdict(
                     o["mean"]["test"]["iou"], o["std"]["test"]["iou"],
                     ref[k]["mean"]["test"]["iou"], ref[k]["std"]["test"]["iou"], n)
                 for k, name in (("unet", "U-Net alone"), ("control", "control"))]
        out.append(f"- GAN, target {mod.removeprefix('gan-')}: " + "; ".join(parts) + ".")
    out.append("")
    return "\n".join(out) + "\n"


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


def _npz(ds: str, name: str) -> dict[str, np.ndarray]:
    with np.load(f"predictions/{ds}/{name}.npz") as z:
        return {k: z[k] for k in z.files}


def _curve_dirs(ds: str, gan_metric: str, info: Mapping) -> dict[str, Path]:
    """dvclive folders of the published seed of the U-Net and of Table 2's GAN."""
    return {"U-Net": Path(f"plots/{ds}/unet/seed{info[ds, 'unet']['seed']}"),
            "GAN": Path(f"plots/{ds}/gan-{gan_metric}/seed{info[ds, 'gan']['seed']}")}


def _isbi_figures(fig_dir: Path, gan_metric: str, info: Mapping) -> str:
    images = np.load("data/prepared/isbi2012/images.npy", mmap_mode="r")
    masks = np.load("data/prepared/isbi2012/masks.npy", mmap_mode="r")
    table = pd.read_csv("data/prepared/isbi2012/split.csv")
    test_idx = int(np.flatnonzero(table["split"] == "test")[0])
    preds = {mod: _npz("isbi2012", file_of(mod, gan_metric)) for mod in ("unet", "gan")}
    ex = figures.isbi_examples(
        images[test_idx, ..., 0], masks[test_idx],
        {MODEL_NAMES[k]: v["labelled"][test_idx] for k, v in preds.items()},
        fig_dir / "isbi_examples.png", f"ISBI test slice {table['sample_id'][test_idx]}")
    unl = np.load("data/prepared/isbi2012/unlabelled.npy", mmap_mode="r")
    pick = [0, 15, 29]
    un = figures.isbi_unlabelled(unl[pick, ..., 0],
                                 {MODEL_NAMES[k]: v["unlabelled"][pick] for k, v in preds.items()},
                                 fig_dir / "isbi_unlabelled.png")
    cv = figures.curves(_curve_dirs("isbi2012", gan_metric, info), fig_dir / "isbi_curves.png",
                        "ISBI 2012 training curves (published seed)")
    return (f"![ISBI examples]({ex})\n\nPredictions on the unlabelled challenge test stack "
            f"(slices {pick}):\n\n![ISBI unlabelled]({un})\n\n![ISBI curves]({cv})\n")


def _lgg_figures(fig_dir: Path, gan_metric: str, info: Mapping) -> str:
    images = np.load("data/prepared/lgg/images.npy", mmap_mode="r")
    masks = np.load("data/prepared/lgg/masks.npy", mmap_mode="r")
    table = pd.read_csv("metrics/lgg/unet_per_sample.csv")
    test = table[table["split"] == "test"]
    tumour = test[test["target_area"] > 0].sort_values("target_area", ascending=False)
    empty = test[test["target_area"] == 0]
    pick = list(tumour.index[:3]) + list(empty.index[:2])
    preds = {mod: _npz("lgg", file_of(mod, gan_metric))["labelled"] for mod in ("unet", "gan")}
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
    cv = figures.curves(_curve_dirs("lgg", gan_metric, info), fig_dir / "lgg_curves.png",
                        "LGG training curves (the paper's loss figure)")
    return (f"![LGG examples]({ex})\n\n![LGG class distribution]({cd})\n\n"
            f"![LGG curves]({cv})\n")
