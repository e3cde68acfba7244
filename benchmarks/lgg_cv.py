"""Cross-validation of the strong LGG recipe over patients: what the recipe scores on every
non-test patient of the mirror, not on one split's 9 or 10 (a probe, not a stage).

The recipe's prepared folder keeps its test patients out. Its other patients are dealt into
``--folds`` folds (one seeded permutation, patient by patient). Each fold is trained by
``lgg_recipe_probe.py`` (variant ``lgg_variants.RECIPE``, the strong recipe's settings) on the
other folds and scored at its **last** epoch, so nothing is chosen on the held-out patients;
its val maps are saved. ``score`` then pools the out-of-fold maps: Dice per patient and IoU
over tumour slices with 95 % intervals over all those patients, and the Tumour rule's
recall / precision frontier on them.

    PYTHONPATH=src python benchmarks/lgg_cv.py run --prepared data/prepared/lgg-strong \\
        --dir /tmp/cv --folds 5 --epochs 8
    PYTHONPATH=src python benchmarks/lgg_cv.py score --prepared data/prepared/lgg-strong \\
        --dir /tmp/cv [/tmp/cv43 ...] [--reference <the same recipe's prepared folder at 256²>]
    PYTHONPATH=src python benchmarks/lgg_cv.py resize --prepared data/prepared/lgg-strong \
        --dir /tmp/cv [/tmp/cv43 ...] --reference <the same recipe's prepared folder at 256²>
    PYTHONPATH=src python benchmarks/lgg_cv.py more --prepared data/prepared/lgg-strong \
        --dir /tmp/cv [/tmp/cv43 ...]
    PYTHONPATH=src python benchmarks/lgg_cv.py smooth --prepared data/prepared/lgg-strong \
        --dir /tmp/cv [/tmp/cv43 ...]
    PYTHONPATH=src python benchmarks/lgg_cv.py levels --prepared data/prepared/lgg-strong \
        --dir /tmp/cv [/tmp/cv43 ...]
    PYTHONPATH=src python benchmarks/lgg_cv.py flips --prepared data/prepared/lgg-strong \
        --dir /tmp/cv [/tmp/cv43 ...]
    PYTHONPATH=src python benchmarks/lgg_cv.py pair --prepared data/prepared/lgg-strong \
        --dir /tmp/cv_new [/tmp/cv_new43 ...] --against /tmp/cv [/tmp/cv43 ...]

Several ``--dir`` (the same folds, other training seeds) score the seeds' average and each
seed alone against it. ``resize`` compares post-processing before and after ``predict``'s
resize to the scans' size (``lgg_cv_resize.py``); ``more`` keeps more 3-D components and
averages seeds (``lgg_cv_more.py``); ``smooth`` smooths the map across slices or in plane and
fills holes (``lgg_cv_smooth.py``); ``levels`` moves the published steps' two probability
levels (``lgg_cv_levels.py``); ``flips`` averages the four flips training draws
(``lgg_cv_flips.py``); ``pair`` compares two recipes' runs under the published
steps, paired over (seed, patient) (``lgg_cv_pair.py``).

``run`` resumes: a fold whose maps exist is skipped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from lgg_variants import RECIPE


def fold_split(table: pd.DataFrame, k: int, n: int, seed: int = 0) -> np.ndarray:
    """'train' / 'val' / 'test' per slice: the table's test patients stay 'test'; the others
    are permuted (``seed``) and dealt into ``n`` folds; fold ``k``'s patients are 'val'."""
    if not 0 <= k < n:
        raise SystemExit(f"fold {k} of {n}: choose 0 ≤ k < n")
    test = table["split"] == "test"
    cases = np.array(sorted(table.loc[~test, "case_id"].unique()))
    order = np.random.default_rng(seed).permutation(cases)
    held = set(order[k::n])
    return np.where(test, "test", np.where(table["case_id"].isin(held), "val", "train"))


def run(a: argparse.Namespace) -> None:
    out = Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    probe = Path(__file__).with_name("lgg_recipe_probe.py")
    for k in range(a.folds):
        maps = out / f"fold{k}.npz"
        if maps.exists():
            print(f"fold {k}: {maps} exists, skipped", flush=True)
            continue
        cmd = [sys.executable, str(probe), "--prepared", a.prepared, "--out",
               str(out / "cv.jsonl"), "--epochs", str(a.epochs), "--split",
               f"fold:{k}/{a.folds}", "--select", "last", "--save-maps", str(maps),
               "--one", a.variant, str(a.seed)]
        print(" ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, env=os.environ)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    s = sub.add_parser("score")
    z = sub.add_parser("resize")
    m = sub.add_parser("more")
    h = sub.add_parser("smooth")
    c = sub.add_parser("pair")
    v = sub.add_parser("levels")
    f = sub.add_parser("flips")
    for p in (r, s, z, m, h, c, v, f):
        p.add_argument("--prepared", required=True)
    r.add_argument("--dir", required=True)
    for p in (s, z, m, h, c, v, f):
        p.add_argument("--dir", required=True, nargs="+",
                       help="one run's folder, or several (other seeds, same folds): averaged")
    c.add_argument("--against", required=True, nargs="+",
                   help="the other recipe's run folders, one per --dir, same seed order")
    r.add_argument("--folds", type=int, default=5)
    r.add_argument("--epochs", type=int, default=8)
    r.add_argument("--seed", type=int, default=42)
    r.add_argument("--variant", default=RECIPE, help="an lgg_recipe_probe.py variant (another "
                   "ingredient over the same folds; default: the strong recipe)")
    s.add_argument("--reference", help="the recipe's prepared folder at 256² (score there)")
    z.add_argument("--reference", required=True, help="the recipe's prepared folder at 256²")
    z.add_argument("--hysteresis", type=float, default=0.3)
    a = ap.parse_args()
    if a.cmd == "run":
        run(a)
    elif a.cmd == "resize":
        from lgg_cv_resize import resize

        resize(a.prepared, a.reference, a.dir, a.hysteresis)
    elif a.cmd == "more":
        from lgg_cv_more import more

        more(a.prepared, a.dir)
    elif a.cmd == "pair":
        from lgg_cv_pair import pair

        pair(a.prepared, a.dir, a.against)
    elif a.cmd == "flips":
        from lgg_cv_flips import flips

        flips(a.prepared, a.dir)
    elif a.cmd == "levels":
        from lgg_cv_levels import levels

        levels(a.prepared, a.dir)
    elif a.cmd == "smooth":
        from lgg_cv_smooth import smooth

        smooth(a.prepared, a.dir)
    else:
        from lgg_cv_score import score

        score(a.prepared, a.dir, a.reference)


if __name__ == "__main__":
    main()
