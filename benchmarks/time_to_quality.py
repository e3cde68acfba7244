"""``make time-to-quality``: the wall time for the study's LGG U-Net to reach paper B's quality.

Runs the study's ``train_unet`` for LGG (``params.yaml``: model, loss, optimiser, batch,
augmentation, precision, first training seed) on ``data/prepared/lgg`` until the validation IoU
reaches TARGET (paper B's mean IoU, from ``report/paper_numbers.yaml``) or
``bench.time_to_quality.max_epochs`` run out, and reports the wall time: speed claims about
reaching the paper's result, not only images per second. → ``benchmarks/time_to_quality.json``.

    PYTHONPATH=src python benchmarks/time_to_quality.py [TARGET]
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

import keras
import yaml
from bench import ROOT, cpu_line, cpu_peak

from segstudy import layout
from segstudy.data.prepared import Prepared
from segstudy.io import write_json
from segstudy.precision import cpu_summary, resolve_precision


class StopAtTarget(keras.callbacks.Callback):
    """Stops training at the end of the first epoch whose ``val_iou`` reaches ``target``."""

    def __init__(self, target: float, t0: float):
        super().__init__()
        self.target, self.t0, self.reached = target, t0, None
        self.history: list[tuple[int, float, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = float((logs or {}).get("val_iou", float("nan")))
        self.history.append((epoch + 1, value, time.perf_counter() - self.t0))
        if value >= self.target:
            self.reached = epoch + 1
            self.model.stop_training = True


def time_to_quality(target: float | None = None) -> int:
    from segstudy.training.fit import train_unet

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    ttq = params["bench"]["time_to_quality"]
    if target is None:
        from segstudy.report.common import paper_numbers

        target = float(paper_numbers()["study_b"]["mean_iou"])
    max_epochs = int(ttq["max_epochs"])
    train_cfg = {**params["train"]["lgg"], "epochs": max_epochs}
    seed = int(train_cfg.pop("seeds")[0])
    prepared = ROOT / layout.prepared("lgg")
    stop = StopAtTarget(target, time.perf_counter())
    with tempfile.TemporaryDirectory() as tmp:
        # The study's own train_unet (pipeline, callbacks, selection), with an early stop added.
        train_unet("lgg", prepared, params["model"]["lgg"], train_cfg, seed,
                   out_model=Path(tmp) / "unet.keras", live_dir=Path(tmp) / "live",
                   empty_iou=float(params["evaluate"]["empty_iou"]), resume_root=tmp,
                   callbacks=[stop])
    data = Prepared(prepared)
    result = {"date": time.strftime("%Y-%m-%d"), "target_val_iou": target,
              "max_epochs": max_epochs, "reached_at_epoch": stop.reached,
              "wall_s": round(time.perf_counter() - stop.t0, 1),
              "best_val_iou": max((v for _, v, _ in stop.history), default=None),
              "per_epoch": [{"epoch": e, "val_iou": round(v, 4), "elapsed_s": round(t, 1)}
                            for e, v, t in stop.history],
              "slices_train": len(data.indices("train")), "cpu": cpu_peak()["derivation"],
              "cpu_model": cpu_summary(), "precision": resolve_precision(train_cfg["precision"]),
              "python": platform.python_version(), "keras": keras.__version__,
              "backend": keras.backend.backend()}
    write_json(ROOT / "benchmarks" / "time_to_quality.json", result)
    verdict = (f"reached at epoch {stop.reached}" if stop.reached
               else f"not reached in {max_epochs} epochs (best {result['best_val_iou']:.4f})")
    print(f"# CPU: {cpu_line()}; precision {result['precision']}")
    print(f"LGG val IoU >= {target}: {verdict}, {result['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(time_to_quality(float(sys.argv[1]) if len(sys.argv) > 1 else None))
