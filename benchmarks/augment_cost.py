"""What one training batch costs the input pipeline (read, crop, augment, normalise) on one
thread, for both papers' training settings in ``params.yaml``, optionally for another checkout's
``src`` (before/after figures of a pipeline change, measured in the same minutes):

    PYTHONPATH=src python benchmarks/augment_cost.py                 # this checkout
    git worktree add /tmp/old <commit>
    PYTHONPATH=src python benchmarks/augment_cost.py --src /tmp/old/src
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    if "--src" in argv:
        src = Path(argv[argv.index("--src") + 1]).resolve()
        if not (src / "segstudy" / "data").is_dir():
            print(f"--src {src}: no segstudy/data there", file=sys.stderr)
            return 2
        sys.path.insert(0, str(src))
        for name in [m for m in sys.modules if m.startswith("segstudy")]:
            del sys.modules[name]
    import importlib

    try:  # batches.py since the split of data/pipeline.py; older checkouts have pipeline.py
        pipeline = importlib.import_module("segstudy.data.batches")
    except ImportError:
        pipeline = importlib.import_module("segstudy.data.pipeline")

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import input_ms_per_batch, synthetic_prepared  # after segstudy's import

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    print(f"# segstudy from {Path(pipeline.__file__).parents[2]}")
    with tempfile.TemporaryDirectory() as tmp:
        for dataset, size, channels, rng_range in (("isbi2012", 512, 1, (-1.0, 1.0)),
                                                   ("lgg", 256, 3, (0.0, 1.0))):
            cfg = params["train"][dataset]
            data = synthetic_prepared(Path(tmp) / dataset, 32, size, channels)
            batches = pipeline.TrainBatches(data, data.indices("train"), rng_range,
                                            int(cfg["batch_size"]), cfg["augment"], seed=0,
                                            steps=12, tile=cfg.get("tile"))
            ms = input_ms_per_batch(batches)
            print(f"{dataset}: batch {cfg['batch_size']} of "
                  f"{cfg.get('tile') or size}² × {channels}: {ms:.1f} ms per batch")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
