"""Two ``lgg_recipe_probe.py`` variants compared, paired over (seed, val patient): Dice per
patient of the chosen epoch's maps, 95 % t-interval of the mean difference
(``segstudy.report.verdict.paired_interval``); per run, each side's scores.

    PYTHONPATH=src:benchmarks python benchmarks/lgg_probe_pair.py A.jsonl VARIANT_A \\
        B.jsonl VARIANT_B [--maps plain|tta] [--min-component 50]

Runs are matched by (seed, split), so two ``lgg_cv.py run`` folders' ``cv.jsonl`` (one
``final`` per fold) pair fold by fold over every non-test patient. Scores are at
``--score-at``'s size where both runs have them, else at the input size (the cross-validation
runs), with components under ``--min-component`` pixels removed per slice (0 or one of the
probe's ``MIN_COMPONENT``). The two runs may live in two files (other sittings, the same CPU
kind: say so).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from segstudy.report.verdict import paired_interval


def finals(path: str, variant: str) -> dict[tuple[int, str], dict]:
    """The file's ``final`` records of ``variant``, by (seed, split); records written before
    the probe kept its split were run with `--split prepared` (the lab notes say so)."""
    return {(r["seed"], r.get("split", "prepared")): r for r in map(json.loads, open(path))
            if r["kind"] == "final" and r["variant"] == variant}


def scored(run: dict, maps: str, min_component: int, at_reference: bool) -> dict:
    """One run's scores of its ``maps`` (plain or flip-averaged): at the reference size, or
    at the input size after removing components under ``min_component`` pixels."""
    if at_reference:
        return run["at_reference"][maps]["min0"]
    return run["post" if maps == "plain" else "post_tta"][f"min{min_component}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("a", "b"):
        ap.add_argument(f"{name}_file")
        ap.add_argument(f"{name}_variant")
    ap.add_argument("--maps", default="plain", choices=["plain", "tta"])
    ap.add_argument("--min-component", type=int, default=0,
                    help="input-size scores only: components under this many pixels removed")
    a = ap.parse_args()
    runs = finals(a.a_file, a.a_variant), finals(a.b_file, a.b_variant)
    keys = sorted(set(runs[0]) & set(runs[1]))
    if not keys:
        raise SystemExit("no (seed, split) run under both variants")
    at_ref = all("at_reference" in r[k] for r in runs for k in keys)
    if at_ref and a.min_component:
        raise SystemExit("--min-component: the runs were scored at --score-at's size, "
                         "where only min0 is kept; leave it out")
    da, db = [], []
    for key in keys:
        got = [scored(runs[i][key], a.maps, a.min_component, at_ref) for i in (0, 1)]
        for tag, run, r in zip("AB", (runs[0][key], runs[1][key]), got, strict=True):
            worst = r["per_patient"].get("TCGA_DU_7018_19911220", float("nan"))
            print(f"seed {key[0]} {key[1]} {tag} ({run['variant']}): "
                  f"{run.get('select', 'best')} epoch {run['best_epoch']}, "
                  f"Dice/patient {r['dice_per_patient']:.3f}, "
                  f"IoU tumour slices {r['iou_tumour_slices']:.3f}, "
                  f"recall/precision (≥ 1 px) {r['recall']:.3f}/{r['precision']:.3f}, "
                  f"TCGA_DU_7018 {worst:.3f}, wall {run['wall_s']:.0f} s")
        pa, pb = (g["per_patient"] for g in got)
        da += [pa[p] for p in sorted(pa)]
        db += [pb[p] for p in sorted(pa)]
    mean, lo, hi = paired_interval(np.array(da), np.array(db))
    where = "at the reference size" if at_ref else f"at the input size, min{a.min_component}"
    print(f"{a.maps} ({where}): Dice per patient A − B {mean:+.3f} [{lo:+.3f}, {hi:+.3f}] "
          f"over {len(da)} (seed, patient) pairs")


if __name__ == "__main__":
    main()
