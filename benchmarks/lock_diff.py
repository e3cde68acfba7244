"""Which outputs of a rerun came out identical to a published run: two ``dvc.lock`` files
compared stage by stage, output by output (their md5s).

    git show HEAD:dvc.lock > /tmp/published.lock   # `git diff dvc.lock` is not this check:
    python benchmarks/lock_diff.py /tmp/published.lock dvc.lock   # DVC stages dvc.lock itself

Prints one line per stage: how many of its dependencies changed, which outputs are identical
and which differ, then the count of identical outputs. A ``.keras`` file and a model's sidecar
differ on every run (Keras stamps the save date; the sidecar holds wall times), so a rerun that
reproduced its model shows as identical curves (``plots/<ds>/<model>``), predictions and
per-sample scores with changed model files. Exit 0 always: this reports.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml


def hashes(lock: dict, field: str) -> dict[str, dict[str, str]]:
    """stage → {path: md5} of its ``field`` (``outs`` or ``deps``); none gives {}."""
    return {name: {e["path"]: e.get("md5", "") for e in stage.get(field, [])}
            for name, stage in lock.get("stages", {}).items()}


def compare(published: dict, rerun: dict) -> list[dict]:
    """Per stage of ``published``, in its order: ``stage``, ``deps_changed`` (paths),
    ``same`` and ``differ`` (output paths; an output the rerun lacks counts as differing)."""
    outs_a, outs_b = hashes(published, "outs"), hashes(rerun, "outs")
    deps_a, deps_b = hashes(published, "deps"), hashes(rerun, "deps")
    rows = []
    for stage, outs in outs_a.items():
        other, other_deps = outs_b.get(stage, {}), deps_b.get(stage, {})
        rows.append({
            "stage": stage,
            "deps_changed": [p for p, h in deps_a[stage].items() if other_deps.get(p) != h],
            "same": [p for p, h in outs.items() if other.get(p) == h],
            "differ": [p for p, h in outs.items() if other.get(p) != h],
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("published", type=Path, help="the dvc.lock to compare against")
    ap.add_argument("rerun", type=Path, help="the rerun's dvc.lock")
    a = ap.parse_args()
    rows = compare(yaml.safe_load(a.published.read_text()), yaml.safe_load(a.rerun.read_text()))
    for r in rows:
        print(f"{r['stage']}: {len(r['deps_changed'])} deps changed; "
              f"identical: {', '.join(r['same']) or '-'}; differ: {', '.join(r['differ']) or '-'}")
    same = sum(len(r["same"]) for r in rows)
    total = same + sum(len(r["differ"]) for r in rows)
    print(f"{same} of {total} outputs identical")


if __name__ == "__main__":
    main()
