"""``lgg_cv.py score``: the out-of-fold maps of every fold pooled and scored as the evaluation
scores a recipe's val split (``segstudy.patients``, ``segstudy.postprocess.clean``,
``segstudy.detection``), with 95 % intervals over the patients (``segstudy.report.verdict``).

Printed: per fold and pooled, Dice per patient and IoU over tumour slices for the raw and the
flip-averaged maps under each component clean-up; the Tumour rule chosen on all the pooled
patients (recall ≥ 0.95, ``detection.choose_min_area``) and the published model's rule applied
to them; the recall / precision frontier (with and without the largest 3-D component); the
patients with the lowest Dice; what keeping only each patient's largest 3-D component changes
(paired over the patients).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

MIN_COMPONENTS = (0, 25, 50, 100)  # pixels at the input size, as postprocess.MIN_COMPONENTS
AREAS = (1, 10, 25, 55, 80, 120, 160)
LEVELS = (0.5, 0.4, 0.3, 0.2, 0.1)
GROW_TO = (0.45, 0.4, 0.3, 0.2, 0.1)  # postprocess's hysteresis levels tried


def fold_names(folder: str) -> tuple[str, ...]:
    """The folds a run folder holds: its saved maps' file names, in order."""
    return tuple(sorted(f.name for f in Path(folder).glob("fold*.npz")))


def fold_parts(folders: list[str]) -> tuple[list[Path], list[dict]]:
    """Each fold's saved maps; with several folders (the same folds trained with other seeds)
    their maps averaged, fold by fold: the out-of-fold output of the seeds' ensemble (each
    seed's own flip-averaged map kept under ``seed_tta``, its four-flip one, where every run
    saved it, under ``seed_tta4``)."""
    names = fold_names(folders[0])
    if not names:
        raise SystemExit(f"{folders[0]}: no fold*.npz; run `lgg_cv.py run` first")
    for d in folders[1:]:
        missing = [n for n in names if n not in fold_names(d)]
        if missing:
            raise SystemExit(f"{d}: no {missing[0]}, which {folders[0]} has; same folds only")
    files = [Path(folders[0]) / n for n in names]
    parts = []
    for f in files:
        runs = [dict(np.load(Path(d) / f.name, allow_pickle=True)) for d in folders]
        if any(list(r["sample_id"]) != list(runs[0]["sample_id"]) for r in runs):
            raise SystemExit(f"{f.name}: the folders hold other patients; same --folds only")
        parts.append({"sample_id": runs[0]["sample_id"],
                      **{k: np.mean([r[k].astype(np.float32) for r in runs], axis=0)
                         for k in ("prob", "tta")},
                      **{f"seed_{k}": [r[k] for r in runs] for k in ("tta", "tta4")
                         if all(k in r for r in runs)}})
    return files, parts


def load(prepared: str, folders: list[str], reference: str | None):
    """(table, maps, truth, scale): the out-of-fold rows of every fold, each case's slices in
    prepared order, at ``reference``'s size when given. ``maps``: "plain" and "tta" (0..1,
    the seeds' average), with several folders also "seeds", each seed's "tta"; where every
    fold saved it, "seeds_tta4", each seed's four-flip average. ``scale``:
    pixels of the scoring grid per pixel of the model's input (component sizes and the
    Tumour rule count input pixels)."""
    from segstudy.data.prepared import Prepared

    files, parts = fold_parts(folders)
    ids = np.concatenate([p["sample_id"] for p in parts])
    fold = np.concatenate([np.full(len(p["sample_id"]), int(f.stem[4:]))
                           for p, f in zip(parts, files, strict=True)])
    src = Prepared(reference or prepared)
    row_of = dict(zip(src.table["sample_id"], range(len(src.table)), strict=True))
    rows = np.array([row_of[s] for s in ids])
    order = np.argsort(rows, kind="stable")  # prepared order: each case's slices in sequence
    table = src.table.iloc[rows[order]].reset_index(drop=True).assign(fold=fold[order])
    truth = np.asarray(src.masks)[rows[order]] > 0
    if truth.ndim == 4:
        truth = truth[..., 0]

    def grid(arrays: list[np.ndarray]) -> np.ndarray:
        m = np.concatenate(arrays)[order].astype(np.float32) / 255
        if m.ndim == 4:
            m = m[..., 0]
        if m.shape[1:] != truth.shape[1:]:
            import cv2

            h, w = truth.shape[1:]
            m = np.stack([cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR) for x in m])
        return m

    maps = {"plain": grid([p["prob"] for p in parts]), "tta": grid([p["tta"] for p in parts])}
    if len(folders) > 1:
        maps["seeds"] = [grid([p["seed_tta"][i] for p in parts]) for i in range(len(folders))]
    if all("seed_tta4" in p for p in parts):  # four flips (runs since 2026-12-07)
        maps["seeds_tta4"] = [grid([p["seed_tta4"][i] for p in parts])
                              for i in range(len(folders))]
    return table, maps, truth, truth[0].size / parts[0]["tta"][0].size


def pixel_scores(table: pd.DataFrame, found: np.ndarray, truth: np.ndarray) -> dict:
    from segstudy.patients import per_patient
    from segstudy.report.verdict import mean_interval, ratio_interval

    n = len(found)
    t = table.assign(split="cv", target_area=truth.reshape(n, -1).sum(1),
                     pred_area=found.reshape(n, -1).sum(1),
                     intersection=(found & truth).reshape(n, -1).sum(1))
    pat = per_patient(t, 1.0)
    tumour = t[t["target_area"] > 0]
    iou = tumour["intersection"] / (tumour["target_area"] + tumour["pred_area"]
                                    - tumour["intersection"])
    by_case = iou.groupby(tumour["case_id"]).agg(["sum", "size"])
    return {"dice": mean_interval(pat["dice"]), "iou_t": ratio_interval(by_case["sum"],
                                                                        by_case["size"]),
            "patients": pat.set_index("case_id")["dice"], "areas": t["pred_area"].to_numpy(),
            "iou_by_case": by_case}


def rule(areas: np.ndarray, has: np.ndarray, min_area: float) -> str:
    """"recall/precision" of the Tumour rule at ``min_area`` (``detection.classify``)."""
    from segstudy.detection import classify

    tumour = classify(areas, has, min_area)["per_class"]["Tumour"]
    return f"{tumour['recall']:.3f}/{tumour['precision']:.3f}"


def fmt(v: tuple[float, float, float]) -> str:
    return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"


def score(prepared: str, folders: list[str], reference: str | None) -> None:
    from segstudy.report.verdict import mean_interval

    table, maps, truth, scale = load(prepared, folders, reference)
    has = truth.reshape(len(truth), -1).any(1)
    print(f"{table['case_id'].nunique()} patients, {len(table)} slices "
          f"({int(has.sum())} with tumour), {truth.shape[1]}² grid, folds "
          f"{sorted(table['fold'].unique())}")
    best = cleanups(table, maps, truth, scale)
    biggest = largest_component(table, maps, truth, scale, best)
    tumour_rules(has, scale, {"tta+min50": best, "tta+min50+largest 3-D": biggest})
    frontier(table, maps, has, scale)
    split_of = table.groupby("case_id")["split"].first()  # the recipe's own split
    for name in ("val", "train"):
        d = best["patients"][split_of[best["patients"].index] == name]
        if len(d) > 1:
            print(f"out-of-fold Dice per patient of the recipe's {name} patients ({len(d)}): "
                  f"{fmt(mean_interval(d))}")
    for folder in folders:
        curves(folder)
    low = best["patients"].sort_values().head(8)
    print("lowest Dice per patient:", ", ".join(f"{c} {d:.3f}" for c, d in low.items()))
    base, big = (seeds(table, maps["seeds"], truth, scale, folders, best) if len(folders) > 1
                 else ([best], [biggest]))
    hysteresis(table, maps.get("seeds", [maps["tta"]]), truth, scale, base, big)


def cleanups(table: pd.DataFrame, maps: dict, truth: np.ndarray, scale: float) -> dict:
    """Pooled and per-fold scores of the raw and flip-averaged maps under each component
    clean-up; returns the published model's (flip averaging, components ≥ 50 px)."""
    from segstudy.postprocess import clean

    cases = table["case_id"].to_numpy()
    results = {}
    for name in ("plain", "tta"):
        prob = maps[name]
        for mc in MIN_COMPONENTS:
            found = clean(prob, cases, (0.0, 1.0), round(mc * scale), False) > 0.5
            got = pixel_scores(table, found, truth)
            results[(name, mc)] = got
            folds = []
            for k in sorted(table["fold"].unique()):
                sel = (table["fold"] == k).to_numpy()
                d = pixel_scores(table[sel].reset_index(drop=True), found[sel], truth[sel])
                folds.append(f"{d['dice'][0]:.3f}")
            print(f"{name:5s} min_component {mc:3d}: Dice/patient {fmt(got['dice'])}, IoU "
                  f"tumour slices {fmt(got['iou_t'])}; Dice per fold {' '.join(folds)}")
    return results[("tta", 50)]  # the published model's post-processing (its sidecar)


def largest_component(table: pd.DataFrame, maps: dict, truth: np.ndarray, scale: float,
                      best: dict) -> dict:
    """The published post-processing plus each patient's largest 3-D component, paired
    against it over the patients."""
    from segstudy.postprocess import clean
    from segstudy.report.verdict import paired_interval

    found = clean(maps["tta"], table["case_id"].to_numpy(), (0.0, 1.0), round(50 * scale),
                  True) > 0.5
    biggest = pixel_scores(table, found, truth)
    d = paired_interval(biggest["patients"].to_numpy(), best["patients"].to_numpy())
    print(f"tta min_component 50 + largest 3-D component: Dice/patient {fmt(biggest['dice'])}, "
          f"IoU tumour slices {fmt(biggest['iou_t'])}; paired Δ Dice/patient {fmt(d)}")
    return biggest


def tumour_rules(has: np.ndarray, scale: float, posts: dict[str, dict]) -> None:
    """Under each post-processing: the Tumour rule chosen on all the pooled patients (recall
    floor 0.95) and the published model's rule (its sidecar's ``decision``), where this
    checkout has the published model (``dvc pull`` or ``dvc repro`` brings it)."""
    from segstudy import SegstudyError, layout
    from segstudy.detection import choose_min_area, classify
    from segstudy.inference import read_sidecar

    try:  # a clone without models/ still scores the rest
        published = read_sidecar(layout.model("lgg", "strong"))["decision"]["min_area"]
        rules = [(f"published min_area={published}", published)]
    except SegstudyError as err:
        print(f"published Tumour rule left out: {err}")
        rules = []
    for post, got in posts.items():
        areas = got["areas"] / scale  # the Tumour rule counts pixels at the input size
        chosen = choose_min_area(areas, has, 0.95)
        for label, a in (("chosen on the pooled patients", chosen["min_area"]), *rules):
            c = classify(areas, has, a)
            pc = c["per_class"]["Tumour"]
            print(f"{post}: Tumour rule {label} (≥ {a} px): TP {c['tp']} FN {c['fn']} "
                  f"FP {c['fp']} TN {c['tn']}, recall {pc['recall']:.3f}, "
                  f"precision {pc['precision']:.3f}")


def frontier(table: pd.DataFrame, maps: dict, has: np.ndarray, scale: float) -> None:
    """Slice recall / precision of "area ≥ a at probability > level", after the published
    clean-up done at that level, with and without the largest 3-D component."""
    from segstudy.postprocess import clean

    cases = table["case_id"].to_numpy()
    for largest in (False, True):  # components found at each level (clean's cut is mid-range)
        for level in LEVELS:
            prob = clean(maps["tta"], cases, (0.0, 2 * level), round(50 * scale), largest)
            area = (prob > level).reshape(len(prob), -1).sum(1) / scale  # as binarise
            cells = [f"≥{a}: {rule(area, has, a)}" for a in AREAS]
            print(f"level {level}{' largest 3-D' if largest else ''} recall/precision",
                  "  ".join(cells))


def finals(folder: str | Path) -> list[dict]:
    """A run folder's ``final`` records (one per fold done) from its ``cv.jsonl``; none
    where the file is missing."""
    path = Path(folder) / "cv.jsonl"
    if not path.is_file():
        return []
    return [r for r in map(json.loads, path.open()) if r["kind"] == "final"]


def curves(folder: str | Path) -> None:
    """Each fold's val Dice per patient by epoch (raw maps), and what choosing the best epoch
    on the held-out patients would have added to the last epoch's score: the optimism of a
    val score that also chose the epoch."""
    gains = []
    for r in sorted(finals(folder), key=lambda r: r["split"]):
        dice = [h["dice_per_patient"] for h in r["history"]]
        gains.append(max(dice) - dice[-1])
        print(f"{r['split']}: Dice/patient by epoch {' '.join(f'{d:.3f}' for d in dice)} "
              f"({r['wall_s']:.0f} s)")
    if gains:
        print(f"best epoch − last epoch, mean over {len(gains)} folds: {np.mean(gains):+.3f}")


def seeds(table: pd.DataFrame, each: list[np.ndarray], truth: np.ndarray, scale: float,
          folders: list[str], together: dict) -> tuple[list[dict], list[dict]]:
    """Each seed's flip-averaged map (``each``, one per folder) alone against the average of
    all, paired over the patients, under the published post-processing (components ≥ 50 px);
    and what the largest 3-D component adds, averaged over the seeds per patient. Returns each
    seed's scores under both (for :func:`hysteresis`)."""
    from segstudy.postprocess import clean
    from segstudy.report.verdict import paired_interval

    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    alone, bigs, gains = [], [], []
    for folder, tta in zip(folders, each, strict=True):
        got = pixel_scores(table, clean(tta, cases, (0.0, 1.0), size, False) > 0.5, truth)
        big = pixel_scores(table, clean(tta, cases, (0.0, 1.0), size, True) > 0.5, truth)
        alone.append(got)
        bigs.append(big)
        gains.append((big["patients"] - got["patients"]).to_numpy())
        d = paired_interval(together["patients"].to_numpy(), got["patients"].to_numpy())
        print(f"{folder} alone: Dice/patient {fmt(got['dice'])}, IoU tumour slices "
              f"{fmt(got['iou_t'])}; average of all − it: Δ Dice/patient {fmt(d)}")
    d = paired_interval(alone[1]["patients"].to_numpy(), alone[0]["patients"].to_numpy())
    print(f"{folders[1]} − {folders[0]}: Δ Dice/patient {fmt(d)} (seed to seed)")
    mean_gain = np.mean(gains, axis=0)
    d = paired_interval(mean_gain, np.zeros_like(mean_gain))
    print(f"largest 3-D component, Δ Dice/patient averaged over the {len(folders)} seeds, "
          f"paired over the {len(mean_gain)} patients: {fmt(d)}")
    return alone, bigs


def hysteresis(table: pd.DataFrame, each: list[np.ndarray], truth: np.ndarray, scale: float,
               base: list[dict], big: list[dict]) -> None:
    """Each seed's map (``each``) with the largest 3-D component grown over the 26-connected
    pixels above each level (``postprocess.clean``'s ``hysteresis``) against its scores under
    the published clean-up (``base``) and with the largest component (``big``): Dice / IoU over
    tumour slices per seed, the Dice gains averaged over the seeds per patient (paired over the
    patients), and the slice recall / precision of "≥ a px" on that map."""
    from segstudy.postprocess import clean
    from segstudy.report.verdict import paired_interval

    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    has = truth.reshape(len(truth), -1).any(1)

    def run(largest: bool, level: float) -> list[dict]:
        return [pixel_scores(table, clean(m, cases, (0.0, 1.0), size, largest, level) > 0.5,
                             truth) for m in each]

    for level in (0.0, *GROW_TO):
        got = big if level == 0.0 else run(True, level)
        gain = [np.mean([(g["patients"] - b["patients"]).to_numpy()
                         for g, b in zip(got, ref, strict=True)], axis=0) for ref in (base, big)]
        rules = [f"≥{a}: " + " ".join(rule(g["areas"] / scale, has, a) for g in got)
                 for a in (1, 25, 55)]  # the rule counts input pixels
        print(f"largest 3-D{f' grown to > {level}' if level else ''}: Dice/IoU-t per seed "
              + " ".join(f"{g['dice'][0]:.3f}/{g['iou_t'][0]:.3f}" for g in got)
              + f"; Δ Dice vs published {fmt(paired_interval(gain[0], 0 * gain[0]))}, vs "
              f"largest 3-D {fmt(paired_interval(gain[1], 0 * gain[1]))}; recall/precision "
              + "; ".join(rules))
