"""``evaluate``: one trained model on every split of its data set, with the papers' columns.

Writes ``metrics/<dataset>/<model>.json`` (DVC metrics: per split the means of ``module``,
``squaring``, ``percent``, ``iou``, ``dice``; ISBI adds adapted Rand error and VI; LGG adds IoU
over tumour slices only, Dice and IoU per patient volume, the share of empty slices and what
predicting nothing scores, and the Tumour/No-tumour classification), a per-sample
CSV, the predictions (uint8, for the report's figures) and the confusion matrix as a DVC plot
and a PNG.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segstudy import SegstudyError, layout, postprocess
from segstudy.data.prepared import Prepared, to_mask_scale
from segstudy.data.split import SPLITS
from segstudy.detection import classify
from segstudy.inference import load_model, predict_masks, read_sidecar
from segstudy.io import atomic_path, write_json
from segstudy.metrics import METRICS, binarise, region_scores
from segstudy.patients import per_patient, split_means
from segstudy.progress import Progress

log = logging.getLogger(__name__)


def per_sample_table(data: Prepared, pred: np.ndarray, rng: tuple[float, float],
                     empty: float, cells: np.ndarray | None) -> pd.DataFrame:
    """One row per slice: areas and the pixel scores of ``pred`` (the pixel map) and, when
    ``cells`` is given (ISBI), the region scores of that cell map."""
    target = to_mask_scale(np.asarray(data.masks), rng)[..., 0]
    table = data.table.copy()
    truth = np.asarray(data.masks).reshape(len(table), -1) > 0
    found = binarise(pred, rng).reshape(len(table), -1) > 0
    table["target_area"] = truth.sum(axis=1)
    table["pred_area"] = found.sum(axis=1)
    table["intersection"] = np.logical_and(truth, found).sum(axis=1)
    for name, fn in METRICS.items():
        kw = {"empty": empty} if name in ("iou", "dice") else {}
        table[name] = fn(pred, target, rng, **kw)
    if cells is not None:
        scores = [region_scores(cells[i], target[i], rng) for i in range(len(table))]
        table["rand_error"] = [s["rand_error"] for s in scores]
        table["vi"] = [s["vi"] for s in scores]
    return table


def summarise(table: pd.DataFrame, dataset: str, empty: float) -> dict[str, Any]:
    """Per split: the mean of every per-slice column; for LGG also the scores that empty slices
    cannot carry (per patient, tumour slices only) and what predicting nothing would score."""
    cols = [c for c in ("module", "squaring", "percent", "iou", "dice", "rand_error", "vi")
            if c in table]
    patients = per_patient(table, empty) if dataset == "lgg" else None
    out: dict[str, Any] = {}
    for split in SPLITS:
        rows = table[table["split"] == split]
        s = {c: float(rows[c].mean()) for c in cols}
        s["n"] = len(rows)
        if patients is not None:
            tumour = rows[rows["target_area"] > 0]
            s["iou_tumour_slices"] = float(tumour["iou"].mean()) if len(tumour) else float("nan")
            s["dice_tumour_slices"] = float(tumour["dice"].mean()) if len(tumour) else float("nan")
            s.update(split_means(patients, split))
            s["n_tumour"] = len(tumour)
            s["empty_share"] = 1.0 - len(tumour) / len(rows) if len(rows) else float("nan")
            s["iou_if_nothing_predicted"] = s["empty_share"] * empty
        out[split] = s
    return out


def evaluate(dataset: str, model_name: str, prepared: str | Path, model_path: str | Path,
             cfg: Mapping[str, Any], out_dir: str | Path, pred_path: str | Path,
             live_dir: str | Path) -> dict[str, Any]:
    data = Prepared(prepared)
    info = read_sidecar(model_path)
    if int(info.get("in_channels", -1)) != data.channels or info.get("dataset") != dataset:
        raise SegstudyError(
            f"{model_path}: trained on {info.get('dataset')} ({info.get('in_channels')} channels),"
            f" not on {dataset} ({data.channels}); pass the {dataset} model"
        )
    rng = tuple(info["mask_range"])
    empty = float(cfg["empty_iou"])
    seed_paths = _seed_paths(Path(model_path))
    unlabelled = Path(prepared) / "unlabelled.npy"
    n_unl = len(np.load(unlabelled, mmap_mode="r")) if unlabelled.is_file() else 0
    post = postprocess.settings(info)
    # An average of seeds outputs the mean of their outputs: one pass per seed serves both the
    # average and that seed alone (when the seed's own test-time averaging is the same).
    members = sorted(info.get("ensemble_of") or [])
    shared = {path: None for path in seed_paths} if members == sorted(
        p.stem for p in seed_paths) else {}
    bar = Progress(len(data.images) * len(seed_paths) * _passes(post) + n_unl,
                   f"evaluate {dataset}/{model_name}", "slice")
    # The published model is loaded only where it is used (an average of seeds is not).
    model = None if shared and not n_unl else load_model(model_path)[0]
    if shared:
        for path in seed_paths:
            shared[path] = _probability(load_model(path)[0], data, info["norm"], post, bar)
        maps = _maps(mean_of_seeds(list(shared.values())), data, info)
    else:
        maps = _final(model, data, info, bar)
    table = _table(dataset, data, maps, rng, empty)
    result: dict[str, Any] = {"dataset": dataset, "model": model_name, "postprocess": post,
                              "mask_range": list(rng), "empty_iou": empty,
                              **summarise(table, dataset, empty)}
    out_dir, live_dir = Path(out_dir), Path(live_dir)
    _per_sample_plot(table, live_dir / "per_sample_iou.json")
    if dataset == "lgg":
        has = (table["target_area"] > 0).to_numpy()
        area = table["pred_area"].to_numpy()
        test = (table["split"] == "test").to_numpy()
        chosen = info["decision"]  # chosen on val when the model was exported (training.card)
        if chosen is None:
            raise SegstudyError(f"{model_path}: its sidecar has no Tumour rule; retrain it")
        detection = classify(area[test], has[test], chosen["min_area"])
        _confusion_outputs(detection, live_dir, live_dir / "confusion.png",
                           f"{dataset} {model_name}, test split, min_area={chosen['min_area']}")
        detection.pop("truth"), detection.pop("pred")
        result["detection"] = {"chosen_on_val": chosen, "test": detection}
    quantised = {"labelled": _to_uint8(maps[1], rng)}  # the cells: what predict writes
    if n_unl:
        unl = np.load(unlabelled, mmap_mode="r")
        quantised["unlabelled"] = _to_uint8(predict_masks(model, unl, info["norm"]), rng)
        bar.update(len(unl))
    with atomic_path(pred_path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **quantised)
    with atomic_path(out_dir / layout.per_sample(dataset, model_name).name) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    tables: dict[int, pd.DataFrame] = {}
    result["over_seeds"] = over_seeds(dataset, data, Path(model_path), rng, empty, table, bar,
                                      tables, {p: (_tta(post), v) for p, v in shared.items()})
    bar.close()
    seed_cols = [c for c in ("sample_id", "case_id", "split", "iou", "dice", "rand_error", "vi")
                 if c in table]
    with atomic_path(out_dir / layout.per_seed_sample(dataset, model_name).name) as tmp:
        pd.concat([t[seed_cols].assign(seed=s) for s, t in tables.items()]).to_csv(
            tmp, index=False, float_format="%.6g")
    write_json(out_dir / layout.metrics(dataset, model_name).name, result)
    return result


SEED_COLS = ("module", "squaring", "percent", "iou", "dice", "rand_error", "vi",
             "iou_tumour_slices", "iou_per_patient", "dice_per_patient")


def over_seeds(dataset: str, data: Prepared, model_path: Path, rng: tuple[float, float],
               empty: float, primary: pd.DataFrame, bar: Progress | None = None,
               tables: dict[int, pd.DataFrame] | None = None,
               shared: Mapping[Path, tuple[tuple[bool, bool], np.ndarray]] | None = None,
               ) -> dict[str, Any]:
    """Every seed of the configuration (``<model>-seeds/seed<S>.keras``) scored like the primary
    model; mean and sample standard deviation (ddof 1; ``None`` for a single seed) per split and
    column, plus the train − test IoU gap. ``tables``, if given, receives each seed's
    per-slice table; ``shared`` holds seeds' outputs already computed (path → ((tta_flip,
    tta_dihedral), output)), used where the seed's own test-time averaging is the same."""
    paths = _seed_paths(model_path)
    published = read_sidecar(model_path)  # an ensemble is no one seed: score every seed
    primary_seed = None if published.get("ensemble_of") else int(published["seed"])
    per_seed: dict[str, dict[str, Any]] = {}
    for path in paths:
        if int(path.stem.removeprefix("seed")) == primary_seed:  # scored already
            table = primary
        else:
            info = read_sidecar(path)
            tta, prob = (shared or {}).get(path, (None, None))
            if prob is None or tta != _tta(postprocess.settings(info)):
                prob = _probability(load_model(path)[0], data, info["norm"],
                                    postprocess.settings(info), bar)
            table = _table(dataset, data, _maps(prob, data, info), rng, empty)
        if tables is not None:
            tables[int(path.stem.removeprefix("seed"))] = table
        summary = summarise(table, dataset, empty)
        row = {split: {c: summary[split][c] for c in SEED_COLS if c in summary[split]}
               for split in SPLITS}
        row["gap_iou"] = summary["train"]["iou"] - summary["test"]["iou"]
        per_seed[path.stem.removeprefix("seed")] = row
    return {"n": len(per_seed), "seeds": [int(k) for k in per_seed],
            "mean": _aggregate(per_seed, np.mean), "std": _aggregate(per_seed, _sample_std),
            "per_seed": per_seed}


def _seed_paths(model_path: Path) -> list[Path]:
    """Every seed's model of the configuration, ``<model>-seeds/seed<S>.keras``, by seed."""
    folder = layout.seeds_dir(model_path)
    paths = sorted((p for p in folder.glob("seed*.keras") if p.stem.count(".") == 0),
                   key=lambda p: int(p.stem.removeprefix("seed")))
    if not paths:
        raise SegstudyError(f"{folder}: no seed models; rerun the stage that trains {model_path}")
    return paths


def _final(model: Any, data: Prepared, info: Mapping[str, Any],
           bar: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """The model's pixel map and cell map on every slice under its sidecar's post-processing
    (``segstudy.postprocess``: test-time averaging, clean-up per slice or volume, then the cell
    steps; the two maps are one array when there are no cell steps)."""
    return _maps(_probability(model, data, info["norm"], postprocess.settings(info), bar),
                 data, info)


def _maps(prob: np.ndarray, data: Prepared,
          info: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(pixel map, cell map) of a model output under the sidecar's steps after the model."""
    post, rng = postprocess.settings(info), tuple(info["mask_range"])
    cases = data.table["case_id"].to_numpy() if "case_id" in data.table else None
    pixels = postprocess.pixels(prob, cases, rng, post)
    return pixels, postprocess.to_cells(pixels, rng, post)


def _tta(post: Mapping[str, Any]) -> tuple[bool, bool]:
    return bool(post["tta_flip"]), bool(post["tta_dihedral"])


def _passes(post: Mapping[str, Any]) -> int:
    """Model passes per slice under ``post``'s test-time averaging (for progress counts)."""
    return 8 if post["tta_dihedral"] else 2 if post["tta_flip"] else 1


def mean_of_seeds(outputs: list[np.ndarray]) -> np.ndarray:
    """The seeds' mean output as the published ensemble (``training.ensemble.average``)
    computes it: summed in seed order, then divided by their number."""
    total = outputs[0].copy()
    for out in outputs[1:]:
        total += out
    return total / np.float32(len(outputs))


def _probability(model: Any, data: Prepared, norm: Mapping[str, Any],
                 post: Mapping[str, Any], bar: Progress | None) -> np.ndarray:
    """The model's output on every slice under the test-time averaging of ``post``: the one
    averaging rule, ``postprocess.probability``."""
    prob = postprocess.probability(model, np.asarray(data.images), norm, 8,
                                   bool(post["tta_flip"]), bool(post["tta_dihedral"]))
    if bar is not None:
        bar.update(len(prob) * _passes(post))
    return prob


def _table(dataset: str, data: Prepared, maps: tuple[np.ndarray, np.ndarray],
           rng: tuple[float, float], empty: float) -> pd.DataFrame:
    """``per_sample_table`` of ``_final``'s (pixel map, cell map): cell scores for ISBI only."""
    pixels, cells = maps
    return per_sample_table(data, pixels, rng, empty, cells if dataset == "isbi2012" else None)


def _sample_std(values: np.ndarray) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def _aggregate(per_seed: Mapping[str, Mapping[str, Any]], fn: Any) -> dict[str, Any]:
    first = next(iter(per_seed.values()))
    out: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, Mapping):
            out[key] = {c: _maybe_float(fn(np.array([r[key][c] for r in per_seed.values()])))
                        for c in value}
        else:
            out[key] = _maybe_float(fn(np.array([r[key] for r in per_seed.values()])))
    return out


def _maybe_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _per_sample_plot(table: pd.DataFrame, path: Path) -> None:
    rows = [{"index": i, "iou": round(float(v), 5), "split": s}
            for i, (v, s) in enumerate(zip(table["iou"], table["split"], strict=True))]
    write_json(path, rows)


def _to_uint8(pred: np.ndarray, rng: tuple[float, float]) -> np.ndarray:
    return np.round((pred - rng[0]) / (rng[1] - rng[0]) * 255).clip(0, 255).astype(np.uint8)


def _confusion_outputs(detection: dict, live_dir: Path, png: Path, title: str) -> None:
    """The confusion matrix as a DVC ``confusion`` plot (via dvclive) and as a PNG (the report's
    renderer, ``segstudy.drawing.confusion``: one drawing of it in the project)."""
    from dvclive import Live

    from segstudy.drawing import confusion

    with Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) as live:
        live.log_sklearn_plot("confusion_matrix", detection["truth"], detection["pred"],
                              name="confusion_matrix.json")
    confusion(detection, png, title)
