"""Two runs of the study (two project folders, e.g. the default and a `dvc exp` of it applied in
a second clone) compared model by model with the report's own rules: paired over seeds
(``report.sweep.seed_verdict``) and over test slices (``report.fair_gan.slice_verdict``).

    PYTHONPATH=src python benchmarks/pair_runs.py <run A> <run B> gan-fair-iou gan-fair-vrand

Prints, per model and column (IoU, adapted Rand error), A − B. ISBI only (the fair GANs').
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from segstudy import layout
from segstudy.report.fair_gan import COLS, DS, slice_verdict
from segstudy.report.sweep import seed_verdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    for name in args.models:
        runs = [json.loads((root / layout.metrics(DS, name)).read_text())["over_seeds"]
                for root in (args.a, args.b)]
        tables = [pd.read_csv(root / layout.per_seed_sample(DS, name)) for root in (args.a, args.b)]
        for col, title, up in COLS[:2]:
            print(f"{name}, {title[:-2]}: over seeds {seed_verdict(*runs, col, up)}; "
                  f"over slices {slice_verdict(*tables, col, up)}")


if __name__ == "__main__":
    main()
