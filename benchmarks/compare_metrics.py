"""Compare two runs' DVC metrics files leaf by leaf (e.g. `make quick` before and after a
refactor, each in its own clone).

    python benchmarks/compare_metrics.py <project A> <project B> [--tolerance 1e-4]

For every ``metrics/<dataset>/<model>.json`` in both: the largest absolute difference over the
numeric leaves both have, how many leaves differ by more than the tolerance (the determinism
test's 1e-4 by default), and the keys only one side has. Exit 0 always: this reports.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any


def leaves(tree: Any, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out.update(leaves(v, f"{prefix}[{i}]"))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        out[prefix] = float(tree)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    names = sorted({p.relative_to(args.a) for p in args.a.glob("metrics/*/*.json")}
                   | {p.relative_to(args.b) for p in args.b.glob("metrics/*/*.json")})
    print(f"| metrics file | leaves compared | max abs diff | leaves > {args.tolerance:g} "
          "| only in A / only in B |\n|---|---|---|---|---|")
    for name in names:
        if not (args.a / name).is_file() or not (args.b / name).is_file():
            print(f"| {name} | – | – | – | {'B' if (args.a / name).is_file() else 'A'} lacks it |")
            continue
        la = leaves(json.loads((args.a / name).read_text()))
        lb = leaves(json.loads((args.b / name).read_text()))
        both = [k for k in la if k in lb and not (math.isnan(la[k]) and math.isnan(lb[k]))]
        diffs = {k: abs(la[k] - lb[k]) for k in both}
        big = sorted((k for k, d in diffs.items() if not d <= args.tolerance),
                     key=lambda k: -diffs[k] if not math.isnan(diffs[k]) else 0)
        worst = max(diffs.values(), default=0.0)
        print(f"| {name} | {len(both)} | {worst:.3g} | {len(big)}"
              f"{' (' + ', '.join(big[:3]) + ')' if big else ''} "
              f"| {len(set(la) - set(lb))} / {len(set(lb) - set(la))} |")


if __name__ == "__main__":
    main()
