"""``predict``'s throughput against the bare model's on the same LGG slices, in one run.

    PYTHONPATH=src python benchmarks/predict_speed.py [--model models/lgg/unet.keras]
        [--cases 6] [--rounds 3] [--data ../shared/data/lgg/kaggle_3m]

*bare*: decode every slice (``read_tiff``), resize it to the model's input size (the same
resize ``predict`` and ``prepare`` use), normalise and run the model in batches
(``predict_masks``), the model loaded once; nothing is written. *predict*: the whole command
(``predict_paths``: input checks, the same compute, masks back at 256², mask PNGs, one montage
per case, both CSVs) into a new folder. Both include their one model load. The two alternate
``--rounds`` times (order flipped each round, drift cancels); the ratio printed is the median
of the per-round ratios. Without ``--model`` an untrained paper-B U-Net of params.yaml's size
is used: inference cost does not depend on the weights.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def untrained_model(folder: Path) -> Path:
    from segstudy.models.unet import build_unet_from_params

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    model = build_unet_from_params(params["model"]["lgg"], 3)
    path = folder / "unet.keras"
    model.save(path)
    size = params["prepare"]["lgg"]["resize_to"]
    path.with_suffix(".json").write_text(json.dumps({
        "dataset": "lgg", "seed": 0, "in_channels": 3, "mask_range": [0.0, 1.0],
        "norm": {"mode": "per_channel", "mean": [30.0] * 3, "std": [40.0] * 3},
        "input_size": size, "decision": {"min_area": 20, "chosen_on": "val"}}))
    return path


def bare(model_path: Path, files: list[Path], batch_size: int) -> float:
    from segstudy.data.validate import read_tiff
    from segstudy.inference import load_model, predict_masks
    from segstudy.predict_write import _resize_all

    start = time.perf_counter()
    model, info = load_model(model_path)
    x = np.stack([read_tiff(f) for f in files])
    size = info["input_size"]
    if size and x.shape[1:3] != (size, size):
        x = _resize_all(x, (size, size), 1).round().clip(0, 255).astype(np.uint8)
    predict_masks(model, x, info["norm"], batch_size)
    return time.perf_counter() - start


def whole_predict(model_path: Path, cases: list[Path], out: Path, batch_size: int) -> float:
    from segstudy.predict import predict_paths

    start = time.perf_counter()
    predict_paths(model_path, cases, out, batch_size=batch_size, progress=False)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/lgg/kaggle_3m")
    ap.add_argument("--cases", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args(argv)
    cases = sorted(p for p in args.data.iterdir() if p.is_dir())[: args.cases]
    if not cases:
        print(f"error: --data {args.data}: no case folders", file=sys.stderr)
        return 2
    files = [f for c in cases for f in sorted(c.glob("*.tif")) if not f.stem.endswith("_mask")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model or untrained_model(tmp)
        bare(model, files[:16], args.batch_size)  # trace the model's call once, untimed
        ratios, times = [], {"bare": [], "predict": []}
        for r in range(args.rounds):
            order = ("bare", "predict") if r % 2 == 0 else ("predict", "bare")
            for which in order:
                t = (bare(model, files, args.batch_size) if which == "bare" else
                     whole_predict(model, cases, tmp / f"out{r}", args.batch_size))
                times[which].append(t)
            ratios.append(times["bare"][-1] / times["predict"][-1])
    n = len(files)
    print(f"{n} slices of {len(cases)} patients, batch {args.batch_size}, model "
          f"{'untrained paper-B' if args.model is None else args.model}")
    for which in ("bare", "predict"):
        print(f"{which:8s} " + ", ".join(f"{n / t:.1f}" for t in times[which]) + " slices/s")
    print(f"predict / bare throughput: median {statistics.median(ratios):.2f} "
          f"(per round {', '.join(f'{x:.2f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
