"""One epoch of the study's own ``train_unet@<dataset>`` under each dtype policy, and what
``precision: auto`` picks on this machine (issue 33). A benchmark, not a stage.

Each policy trains in a fresh process (Keras' dtype policy is global) with ``params.yaml``'s
``model.<ds>`` / ``train.<ds>`` (first seed, ``epochs: 1``) on ``data/prepared/<ds>``, writing
only under a temporary folder. Prints the CPU model, its bf16-relevant flags, and per policy
the training throughput (``BatchTimer``: batches after the first), the epoch's training time
at that rate, and the whole run's wall time (start-up, epoch, validation, export).

    PYTHONPATH=src python benchmarks/precision_epoch.py [lgg|isbi2012] [--policies ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(dataset: str, policy: str, out: Path) -> dict:
    import yaml

    from segstudy import layout
    from segstudy.training.fit import train_unet

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    train = {k: v for k, v in params["train"][dataset].items() if k != "seeds"}
    train.update(epochs=1, precision=policy)
    t0 = time.time()
    summary = train_unet(dataset, ROOT / layout.prepared(dataset), params["model"][dataset],
                         train, seed=int(params["train"][dataset]["seeds"][0]),
                         out_model=out / "unet.keras", live_dir=out / "live",
                         resume_root=out / "resume",
                         empty_iou=float(params["evaluate"]["empty_iou"]))
    return {"policy": policy, "used": summary["precision"],
            "img_s": summary["train_images_per_second"], "wall_s": round(time.time() - t0, 1),
            "val_iou": summary["best_val_iou"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", default="lgg", choices=["lgg", "isbi2012"])
    ap.add_argument("--policies", nargs="+", default=["float32", "mixed_bfloat16"])
    ap.add_argument("--one", metavar="POLICY", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print("RESULT " + json.dumps(one(a.dataset, a.one, Path(a.out))), flush=True)
        return

    import yaml

    from segstudy.data.prepared import Prepared
    from segstudy.layout import prepared
    from segstudy.precision import cpu_summary, resolve_precision

    cpu = cpu_summary()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    train = params["train"][a.dataset]
    n_train = len(Prepared(ROOT / prepared(a.dataset)).indices("train"))
    per_epoch = (train["steps_per_epoch"] * train["batch_size"] if train["steps_per_epoch"]
                 else n_train)
    auto = resolve_precision("auto")
    print(f"# CPU: {cpu['model']} ({cpu['cores']} cores), flags: {', '.join(cpu['flags'])}; "
          f"precision auto → {auto}; {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# train_unet@{a.dataset}, 1 epoch = {per_epoch} images, batch {train['batch_size']}")
    rows = []
    for policy in a.policies:
        with tempfile.TemporaryDirectory(prefix="precision-epoch-") as tmp:
            proc = subprocess.run([sys.executable, __file__, a.dataset, "--one", policy,
                                   "--out", tmp], capture_output=True, text=True, check=False)
        found = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not found:
            print(f"# {policy}: failed (rc {proc.returncode})\n{proc.stderr[-2000:]}")
            continue
        rows.append(json.loads(found[-1][len("RESULT "):]))
    print("| policy | train img/s | epoch training s | whole run s | val IoU after 1 epoch |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['used']} | {r['img_s']:.1f} | {per_epoch / r['img_s']:.0f} | "
              f"{r['wall_s']:.0f} | {r['val_iou']:.4f} |")
    if len(rows) > 1:
        fastest = max(rows, key=lambda r: r["img_s"])["used"]
        print(f"# fastest: {fastest}; auto picks {auto} "
              f"({'agrees' if fastest == auto else 'DISAGREES'})")


if __name__ == "__main__":
    main()
