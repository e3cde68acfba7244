"""Two ``lgg_recipe_probe.py`` variants compared, paired over (seed, val patient): Dice per
patient of the best epoch's maps scored at ``--score-at``'s size, 95 % t-interval of the mean
difference (``segstudy.report.verdict.paired_interval``); per seed, each run's scores.

    PYTHONPATH=src:benchmarks python benchmarks/lgg_probe_pair.py A.jsonl VARIANT_A \\
        B.jsonl VARIANT_B [--maps plain|tta]

The two runs may live in two files (other sittings, the same CPU kind: say so).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from segstudy.report.verdict import paired_interval


def finals(path: str, variant: str) -> dict[int, dict]:
    return {r["seed"]: r for r in map(json.loads, open(path))
            if r["kind"] == "final" and r["variant"] == variant}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("a", "b"):
        ap.add_argument(f"{name}_file")
        ap.add_argument(f"{name}_variant")
    ap.add_argument("--maps", default="plain", choices=["plain", "tta"])
    a = ap.parse_args()
    runs = finals(a.a_file, a.a_variant), finals(a.b_file, a.b_variant)
    seeds = sorted(set(runs[0]) & set(runs[1]))
    if not seeds:
        raise SystemExit("no seed run under both variants")
    da, db = [], []
    for s in seeds:
        for tag, run in zip("AB", (runs[0][s], runs[1][s]), strict=True):
            r = run["at_reference"][a.maps]["min0"]
            worst = r["per_patient"].get("TCGA_DU_7018_19911220", float("nan"))
            print(f"seed {s} {tag} ({run['variant']}): best epoch {run['best_epoch']}, "
                  f"Dice/patient {r['dice_per_patient']:.3f}, "
                  f"IoU tumour slices {r['iou_tumour_slices']:.3f}, "
                  f"recall/precision (≥ 1 px) {r['recall']:.3f}/{r['precision']:.3f}, "
                  f"TCGA_DU_7018 {worst:.3f}, wall {run['wall_s']:.0f} s")
        pa = runs[0][s]["at_reference"][a.maps]["min0"]["per_patient"]
        pb = runs[1][s]["at_reference"][a.maps]["min0"]["per_patient"]
        da += [pa[p] for p in sorted(pa)]
        db += [pb[p] for p in sorted(pa)]
    mean, lo, hi = paired_interval(np.array(da), np.array(db))
    print(f"{a.maps}: Dice per patient A − B {mean:+.3f} [{lo:+.3f}, {hi:+.3f}] over "
          f"{len(da)} (seed, patient) pairs")


if __name__ == "__main__":
    main()
