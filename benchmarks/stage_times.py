"""Wall time per DVC stage from a log of ``benchmarks/timed_study.sh`` (every line starts with
``HH:MM:SS``): a stage runs from its ``Running stage '<name>'`` line to the next stage's, the
last one to ``END``. Prints a Markdown table, stages in run order, and the total.

    python benchmarks/stage_times.py study.log
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta

LINE = re.compile(r"^(\d\d:\d\d:\d\d) (.*)$")
STAGE = re.compile(r"Running stage '([^']+)'")


def stage_times(lines: list[str]) -> list[tuple[str, float]]:
    """(stage, seconds) in run order; times that pass midnight wrap."""
    marks: list[tuple[str, datetime]] = []
    day = timedelta(0)
    last: datetime | None = None
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        t = datetime.strptime(m.group(1), "%H:%M:%S") + day
        if last is not None and t < last:
            day += timedelta(days=1)
            t += timedelta(days=1)
        last = t
        s = STAGE.search(m.group(2))
        if s:
            marks.append((s.group(1), t))
        elif m.group(2).startswith("END"):
            marks.append(("END", t))
    return [(name, (marks[i + 1][1] - t).total_seconds())
            for i, (name, t) in enumerate(marks[:-1])]


def main(path: str) -> None:
    with open(path) as fh:
        rows = stage_times(fh.read().splitlines())
    print("| stage | wall |\n|---|---|")
    for name, sec in rows:
        print(f"| {name} | {sec / 60:.1f} min ({sec:.0f} s) |")
    total = sum(s for _, s in rows)
    print(f"| **total** | **{total / 60:.1f} min** |")


if __name__ == "__main__":
    main(sys.argv[1])
