"""Cross-validation of the strong ISBI recipe over the 30 labelled slices (issue 35: "a k-fold
over the 30 labelled slices, e.g. 5 × 6"): every slice scored once by a model that never saw
it (a probe, not a stage).

The recipe's split is contiguous: train 0–19, val 20–23, test 24–29. Fold k rotates it by
6k slices (stack order, wrapping): test = the 6 slices from 24 + 6k, val = the 4 before
them, train = the other 20. Fold 0 is the published split, so fold 0 is scored on the
published model (``models/isbi2012/strong.keras``) and not retrained. Every other fold trains
``train_unet`` with the ``strong`` recipe of ``params.yaml`` (``segstudy.recipes``), which
chooses its cell steps on its own 4 val slices, as the stage does. Each fold's test slices are
scored by evaluate's own code (``segstudy.evaluate``): pixel IoU, adapted Rand error, VI.

    PYTHONPATH=src python benchmarks/isbi_cv.py run --dir /tmp/isbi-cv --folds 1 2 3 4
    PYTHONPATH=src python benchmarks/isbi_cv.py score --dir /tmp/isbi-cv

``run`` resumes: a fold whose result line exists is skipped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

N, FOLDS, TEST, VAL = 30, 5, 6, 4
COLUMNS = ("iou", "rand_error", "vi")


def fold_split(k: int) -> np.ndarray:
    """'train' / 'val' / 'test' per slice of the 30 for fold ``k`` (0 = the published split)."""
    if not 0 <= k < FOLDS:
        raise SystemExit(f"fold {k}: choose 0 ≤ k < {FOLDS}")
    split = np.full(N, "train", dtype=object)
    start = N - TEST + TEST * k
    split[[(start + i) % N for i in range(TEST)]] = "test"
    split[[(start - VAL + i) % N for i in range(VAL)]] = "val"
    return split


def fold_folder(recipe_prepared: str, work: Path, k: int) -> Path:
    """The recipe's prepared folder with fold ``k``'s split (arrays linked, not copied)."""
    import pandas as pd

    folder = work / f"fold{k}" / "prepared"
    folder.mkdir(parents=True, exist_ok=True)
    for f in Path(recipe_prepared).iterdir():
        if f.name != "split.csv" and not (folder / f.name).exists():
            (folder / f.name).symlink_to(f.resolve())
    table = pd.read_csv(Path(recipe_prepared) / "split.csv")
    table.assign(split=fold_split(k)).to_csv(folder / "split.csv", index=False)
    return folder


def test_scores(model_path: Path, folder: Path) -> list[dict]:
    """Per test slice of ``folder``: evaluate's pixel IoU, adapted Rand error and VI for the
    model under its sidecar's post-processing."""
    from segstudy.data.prepared import Prepared
    from segstudy.evaluate import _final, _table
    from segstudy.inference import load_model, read_sidecar

    data = Prepared(folder)
    info = read_sidecar(model_path)
    table = _table("isbi2012", data, _final(load_model(model_path)[0], data, info, None),
                   tuple(info["mask_range"]), 1.0)
    rows = table[table["split"] == "test"]
    return [{"sample_id": s, **{c: float(r[c]) for c in COLUMNS}}
            for s, r in zip(rows["sample_id"], rows.to_dict("records"), strict=True)]


def run(a: argparse.Namespace) -> None:
    from segstudy import layout
    from segstudy.params import load_params, section
    from segstudy.precision import cpu_summary
    from segstudy.recipes import resolve
    from segstudy.training.fit import train_unet

    params = load_params()
    recipe = resolve(params, "isbi2012", "strong")
    work = Path(a.dir)
    work.mkdir(parents=True, exist_ok=True)
    out = work / "cv.jsonl"
    done = {json.loads(line)["fold"] for line in out.open()} if out.exists() else set()
    for k in a.folds:
        if k in done:
            print(f"fold {k}: done, skipped", flush=True)
            continue
        folder = fold_folder(recipe.prepared, work, k)
        t0 = time.time()
        if k == 0:  # the published split: the published model
            model_path = layout.model("isbi2012", "strong")
        else:
            model_path = work / f"fold{k}" / "model.keras"
            train_cfg = {**recipe.train}
            seed = int(train_cfg.pop("seeds")[0])
            train_unet("isbi2012", folder, recipe.model, train_cfg, seed, out_model=model_path,
                       live_dir=work / f"fold{k}" / "live",
                       empty_iou=float(section(params, "evaluate.empty_iou")),
                       resume_root=work / f"fold{k}" / "resume", postprocess="choose",
                       name="probe")
        post = json.loads(Path(model_path).with_suffix(".json").read_text())["postprocess"]
        row = {"fold": k, "model": str(model_path), "cpu": cpu_summary(),
               "train_wall_s": round(time.time() - t0, 1),
               "chosen": {c: post[c] for c in ("tta_dihedral", "threshold", "min_cell",
                                               "watershed_h", "thin")},
               "val_rand_error": post.get("val_rand_error"),
               "test": test_scores(Path(model_path), folder)}
        with out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"fold {k}: {row['train_wall_s']} s, test " + ", ".join(
            f"{c} {np.mean([s[c] for s in row['test']]):.4f}" for c in COLUMNS), flush=True)


def score(a: argparse.Namespace) -> None:
    from segstudy.report.verdict import ratio_interval

    rows = sorted((json.loads(line) for line in (Path(a.dir) / "cv.jsonl").open()),
                  key=lambda r: r["fold"])
    print("| fold | test slices | IoU | adapted Rand error | VI | cell steps chosen on its val "
          "| wall s |\n|---|---|---|---|---|---|---|")
    for r in rows:
        ids = [s["sample_id"] for s in r["test"]]
        means = [np.mean([s[c] for s in r["test"]]) for c in COLUMNS]
        print(f"| {r['fold']} | {ids[0][-2:]}–{ids[-1][-2:]} | "
              + " | ".join(f"{m:.4f}" for m in means) + f" | {r['chosen']} | "
              f"{r['train_wall_s']:.0f} |")
    print(f"\nover {sum(len(r['test']) for r in rows)} slices, 95 % interval with the "
          f"{len(rows)} folds as clusters (report.verdict.ratio_interval):")
    for c in COLUMNS:
        sums = [sum(s[c] for s in r["test"]) for r in rows]
        m, lo, hi = ratio_interval(sums, [len(r["test"]) for r in rows])
        print(f"  {c}: {m:.4f} [{lo:.4f}, {hi:.4f}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    s = sub.add_parser("score")
    for p in (r, s):
        p.add_argument("--dir", required=True)
    r.add_argument("--folds", nargs="+", type=int, default=list(range(FOLDS)))
    a = ap.parse_args()
    run(a) if a.cmd == "run" else score(a)


if __name__ == "__main__":
    main()
