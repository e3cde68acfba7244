"""Progress of a long loop: a live bar when a person watches a terminal, plain lines otherwise.

A redrawn bar (carriage returns) turns a CI log or a file that ``dvc repro`` was redirected to
into one unreadable line, so where stderr is not a terminal the same progress is printed as a
few whole lines: one each time another tenth of the work is done, and one at the end. Set
``SEGSTUDY_PROGRESS`` to ``bar``, ``lines`` or ``off`` to choose regardless of the terminal.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

MODES = ("bar", "lines", "off")
LINE_STEPS = 10  # a line per tenth of the work


def mode_for(stream: TextIO) -> str:
    """``SEGSTUDY_PROGRESS`` if set, else ``bar`` on a terminal and ``lines`` elsewhere."""
    chosen = os.environ.get("SEGSTUDY_PROGRESS", "").strip().lower()
    if chosen in MODES:
        return chosen
    isatty = getattr(stream, "isatty", None)
    return "bar" if isatty is not None and isatty() else "lines"


class Progress:
    """Count ``total`` units of work named ``desc``; ``update(n)`` as they are done.

    Parameters
    ----------
    total : int
        Units of work in all (slices, images); at least 0.
    desc : str
        What is being done, printed first on every line ("evaluate lgg/unet").
    unit : str
        The unit's name, singular ("slice").
    enabled : bool
        False prints nothing (a caller's ``--quiet``).
    stream : text stream, optional
        Where to write; standard error when not given, so stdout stays the result.
    line_steps : int
        Lines in ``lines`` mode: one per ``1/line_steps`` of the work (training: 4 per epoch).
    """

    def __init__(self, total: int, desc: str, unit: str, enabled: bool = True,
                 stream: TextIO | None = None, line_steps: int = LINE_STEPS):
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.total, self.desc, self.unit = int(total), desc, unit
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.mode = mode_for(self.stream) if enabled else "off"
        self._start = time.perf_counter()
        self._next_step = 1
        self.line_steps = max(1, int(line_steps))
        self._bar: Any = None
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=unit, file=self.stream,
                             dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines" and self.total:
            step = min(self.line_steps, self.done * self.line_steps // self.total)
            if step >= self._next_step:
                self._next_step = step + 1
                self._line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and self._next_step <= self.line_steps:
            self._next_step = self.line_steps + 1
            self._line()

    def _line(self) -> None:
        seconds = time.perf_counter() - self._start
        rate = self.done / seconds if seconds > 0 else 0.0
        share = f" ({100 * self.done // self.total} %)" if self.total else ""
        left = self.total - self.done
        eta = f", ETA {left / rate:.0f} s" if left > 0 and rate > 0 else ""
        units = self.unit + ("es" if self.unit.endswith(("ch", "sh", "s", "x")) else "s")
        print(f"{self.desc}: {self.done}/{self.total} {units}{share}, "
              f"{rate:.1f} {units}/s, {seconds:.0f} s{eta}", file=self.stream, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
