"""``predict``'s output folder: never replace what the program did not write.

Rules (each refusal is one ``SegstudyError`` line):

- a new ``--out`` is created; an existing one is used only when it is empty or holds the marker
  file :data:`MARK` that a previous ``predict`` wrote, and then only the files that marker lists
  are replaced: anything else in the folder is left as it was;
- ``--out`` that is a file, that equals or contains an input, the model or the working directory,
  or that lies inside an input folder, is refused;
- outputs are written to a temporary folder first and moved into place only when every input
  succeeded; Ctrl-C / SIGTERM during that move is held until it is done, so a crash or signal
  leaves the previous complete output. A temporary folder left by a SIGKILL is named
  ``.tmp-predict-<pid>-…`` and removed by the next ``predict`` writing into the same parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from segstudy import SegstudyError
from segstudy.io import make_parents, remove_if_empty

MARK = ".segstudy-predict.json"
TMP_PREFIX = ".tmp-predict-"


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_out_dir(out: Path, inputs: Iterable[Path], model: Path) -> None:
    """Refuse an ``--out`` that could overwrite or swallow what the user owns."""
    target = out.resolve()
    if out.exists() and not out.is_dir():
        raise SegstudyError(f"--out {out}: is a file, not a folder; name a new folder")
    cwd = Path.cwd().resolve()
    if _inside(cwd, target):
        raise SegstudyError(f"--out {out}: is (or contains) the working directory; name a new "
                            "folder for the outputs")
    for given in (*inputs, model):
        src = given.resolve()
        if _inside(src, target):
            raise SegstudyError(f"--out {out}: contains the input {given}; name a separate "
                                "folder for the outputs")
        if given.is_dir() and _inside(target, src):
            raise SegstudyError(f"--out {out}: lies inside the input folder {given}; outputs "
                                "would mix with the scans, name a folder outside it")
    if out.is_dir():
        owned = previous_outputs(out)
        entries = [p for p in out.iterdir() if not p.name.startswith(TMP_PREFIX)]
        if owned is None and entries:
            raise SegstudyError(f"--out {out}: exists and holds files predict did not write; "
                                "name a new or empty folder")


def previous_outputs(out: Path) -> list[str] | None:
    """The relative paths a previous ``predict`` wrote into ``out``, or ``None`` if it did not."""
    mark = out / MARK
    if not mark.is_file():
        return None
    try:
        files = json.loads(mark.read_text())["files"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        raise SegstudyError(f"{mark}: unreadable marker; delete {out} yourself if it holds only "
                            "predictions, or name a new folder") from None
    return [f for f in files if isinstance(f, str) and ".." not in Path(f).parts]


def _clear_stale(parent: Path) -> None:
    for stale in (*parent.glob(f"{TMP_PREFIX}*"),):
        pid = stale.name.removeprefix(TMP_PREFIX).split("-", 1)[0]
        if stale.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT/SIGTERM until the block ends: a move of many files is not interrupted."""
    caught: list[int] = []
    old = {s: signal.signal(s, lambda n, f: caught.append(n)) for s in (signal.SIGINT,
                                                                        signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if caught:
            signal.raise_signal(caught[0])


@contextlib.contextmanager
def output_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder; when the block succeeds, its files become ``out``'s outputs."""
    parent = out.absolute().parent
    created: list[Path] = []
    try:
        created = make_parents(out)
        _clear_stale(parent)
        if out.is_dir():
            _clear_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix="-" + out.name,
                                    dir=out if out.is_dir() else parent))
    except OSError as exc:
        remove_if_empty(created)
        raise SegstudyError(f"--out {out}: cannot write there ({exc.strerror}); choose a "
                            "writable folder") from None
    try:
        yield tmp
        written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        (tmp / MARK).write_text(json.dumps({"files": written}, indent=1) + "\n")
        with _signals_held():
            if out.is_dir():
                _replace_inside(out, tmp, written)
            else:
                os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_if_empty(created)
        raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _replace_inside(out: Path, tmp: Path, written: list[str]) -> None:
    """Swap a previous run's outputs for this run's; the marker lists both until the end."""
    old = previous_outputs(out) or []
    (out / MARK).write_text(json.dumps({"files": sorted(set(old) | set(written))}) + "\n")
    for rel in old:
        if rel not in written:
            (out / rel).unlink(missing_ok=True)
    for rel in written:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dest)
    os.replace(tmp / MARK, out / MARK)
