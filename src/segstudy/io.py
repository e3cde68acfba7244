"""Atomic writes: a result appears under its final name only when it is complete.

DVC (and a user) take an existing output path as a finished result, so every writer here goes
to a temporary sibling first and renames it into place; a killed process leaves only the
temporary name behind, which the next run removes.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from segstudy import SegstudyError, layout

TMP_MARK = ".tmp-"
OWNER_MARK = ".segstudy-output"  # in every folder a stage writes: "replace me" is allowed


def read_live_series(live_dir: str | Path, name: str) -> tuple[list[int], list[float]]:
    """One dvclive metric series of a run (``layout.live_series``): (epochs from 1, values);
    empty lists when the run never logged it. Complete after a resume (dvclive appends)."""
    path = layout.live_series(Path(live_dir), name)
    if not path.is_file():
        return [], []
    with open(path) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [int(r["step"]) + 1 for r in rows], [float(r[name]) for r in rows]


def _clear_stale(final: Path) -> None:
    for stale in final.parent.glob(f"{TMP_MARK}*-{final.name}"):
        if stale.name.startswith(f"{TMP_MARK}old-") and not final.exists():
            os.replace(stale, final)  # killed between the two renames: put the old result back
        elif stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def check_replaceable(final: Path) -> None:
    """Refuse to replace a folder this package did not write (no :data:`OWNER_MARK` inside)."""
    if not final.exists() and not final.is_symlink():
        return
    if not final.is_dir() or final.is_symlink():
        raise SegstudyError(f"{final}: exists and is not a folder this project wrote; move it "
                            "away, then rerun")
    if any(final.iterdir()) and not (final / OWNER_MARK).is_file():
        raise SegstudyError(f"{final}: exists and holds files this project did not write; move "
                            "it away (dvc repro removes its own outputs first), then rerun")


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike, *, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; rename it to ``final`` if the block succeeds.

    On an exception the temporary path is removed and ``final`` is left as it was. A folder is
    replaced only when a previous run wrote it (``check_replaceable``), never a user's folder.
    """
    final = Path(final)
    if is_dir:
        check_replaceable(final)
    created = make_parents(final)
    _clear_stale(final)
    # The temporary name ends with the final one: Keras checks suffixes such as ".weights.h5".
    tmp = Path(tempfile.mkdtemp(prefix=TMP_MARK, suffix="-" + final.name, dir=final.parent))
    if not is_dir:
        tmp.rmdir()
    try:
        yield tmp
        if is_dir:
            (tmp / OWNER_MARK).write_text("written by segstudy; replaced whole on the next run\n")
        if final.is_dir() and not final.is_symlink():
            old = final.with_name(f"{TMP_MARK}old-{os.getpid()}-{final.name}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        remove_if_empty(created)
        raise


def make_parents(path: Path) -> list[Path]:
    """``mkdir -p`` of ``path``'s parent; return the folders it created, deepest first."""
    created = [p for p in path.absolute().parents if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    return created


def remove_if_empty(folders: list[Path]) -> None:
    """Undo ``make_parents`` after a failure: a failed run leaves no empty folders behind."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
