"""Inference throughput of eager calls against Keras' compiled ``predict``, one process.

    PYTHONPATH=src python benchmarks/inference_paths.py \
        --model models/lgg/strong-seeds/seed42.keras --prepared data/prepared/lgg-strong \
        --n 512 --batches 8 16 32 64
    PYTHONPATH=src python benchmarks/inference_paths.py --model models/isbi2012/strong.keras \
        --prepared data/prepared/isbi2012 --n 16 --batches 1 2 4 8

*eager8*: the path ``predict_masks`` took before (``model(x, training=False)`` on batches of
8). *predictB*: ``model.predict(x, batch_size=B)`` on the same normalised, padded images.
Every path is traced once before timing; the paths then alternate for ``--rounds`` rounds
(drift cancels). Prints images per second per round and each path's largest absolute
difference from eager8's output (0.0: the same masks).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--batches", type=int, nargs="+", default=[8, 16, 32, 64])
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()

    import keras

    from segstudy.data.prepared import Prepared, normalise
    from segstudy.inference import load_model, pad_to_multiple, size_multiple

    images = np.asarray(Prepared(a.prepared).images[: a.n])
    model, info = load_model(a.model)
    x, (h, w) = pad_to_multiple(normalise(images, info["norm"]), size_multiple(model))

    def eager8() -> np.ndarray:
        return np.concatenate([keras.ops.convert_to_numpy(model(x[i : i + 8], training=False))
                               for i in range(0, len(x), 8)])[:, :h, :w, 0]

    paths = {"eager8": eager8}
    for b in a.batches:
        paths[f"predict{b}"] = lambda b=b: model.predict(x, batch_size=b, verbose=0)[:, :h, :w, 0]
    ref = eager8()
    for fn in paths.values():
        fn()  # trace
    result: dict[str, object] = {"images": len(x), "size": list(x.shape[1:3])}
    for _ in range(a.rounds):
        for name, fn in paths.items():
            t = time.perf_counter()
            y = fn()
            result.setdefault(name, []).append(round(len(x) / (time.perf_counter() - t), 1))
            result[f"{name}_maxdiff"] = float(np.abs(np.asarray(y, np.float32) - ref).max())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
