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
    if out.is_symlink() and not out.exists():
        raise SegstudyError(f"--out {out}: is a link to a missing folder; name a real folder")
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
    """The relative paths a previous ``predict`` wrote into ``out`` (``None`` if it did not).

    The marker is a file anyone can edit or copy, so it is untrusted: an entry is kept only
    if it is a relative path that, symlinks followed, stays inside ``out`` and is not the
    marker itself; every other entry is ignored (never deleted, never overwritten)."""
    mark = out / MARK
    if not mark.is_file():
        return None
    try:
        files = json.loads(mark.read_text())["files"]
        if not isinstance(files, list):
            raise TypeError
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        raise SegstudyError(f"{mark}: unreadable marker; delete {out} yourself if it holds only "
                            "predictions, or name a new folder") from None
    root = out.resolve()
    return [f for f in files if isinstance(f, str) and _owned_path(root, f)]


def _owned_path(root: Path, rel: str) -> bool:
    path = Path(rel)
    if not rel or path.is_absolute() or ".." in path.parts or rel == MARK:
        return False
    try:
        return _inside((root / path).resolve(), root) and (root / path).resolve() != root
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return False


def check_collisions(out: Path, written: Iterable[str]) -> None:
    """Refuse (one line, nothing changed) when a new output would replace, or need a folder
    where there is, something of the user's: a path not listed by the marker."""
    if not out.is_dir():
        return
    owned = set(previous_outputs(out) or [])
    root = out.resolve()
    for rel in written:
        dest = out / rel
        for parent in list(reversed(dest.relative_to(out).parents))[1:]:
            folder = out / parent
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise SegstudyError(f"--out {out}: {folder} is the user's (a file or link where "
                                    "predict needs a folder); move it, or name a new folder")
        if (dest.exists() or dest.is_symlink()) and rel not in owned:
            raise SegstudyError(f"--out {out}: {dest} was not written by predict and a new "
                                "output has its name; move it, or name a new folder")
        if not _inside(dest.parent.resolve(), root):
            raise SegstudyError(f"--out {out}: {dest.parent} leads outside the folder; "
                                "name a new folder")


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
        try:
            yield tmp
            written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
            (tmp / MARK).write_text(json.dumps({"files": written}, indent=1) + "\n")
        except OSError as exc:  # a full disk, permissions changed mid-run
            raise SegstudyError(f"--out {out}: writing the outputs failed ({exc.strerror or exc});"
                                " nothing was replaced") from None
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
    """Swap a previous run's outputs for this run's as one step: the old ones are moved aside
    first, and on any failure the new ones are taken out and the old ones (and the old
    marker) put back, so ``out`` holds either the old result or the new one."""
    check_collisions(out, written)
    old = [rel for rel in previous_outputs(out) or []
           if (out / rel).is_file() and not (out / rel).is_symlink()]
    aside = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-old-", dir=out))
    moved_old: list[str] = []
    moved_new: list[str] = []
    created: list[Path] = []
    try:
        for rel in old:
            (aside / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(out / rel, aside / rel)
            moved_old.append(rel)
        for rel in written:
            dest = out / rel
            created += make_parents(dest)
            os.replace(tmp / rel, dest)
            moved_new.append(rel)
        os.replace(tmp / MARK, out / MARK)
    except OSError as exc:
        for rel in reversed(moved_new):
            with contextlib.suppress(OSError):
                os.replace(out / rel, tmp / rel)
        for rel in moved_old:
            with contextlib.suppress(OSError):
                os.replace(aside / rel, out / rel)
        remove_if_empty(sorted(set(created), key=lambda p: len(p.parts), reverse=True))
        raise SegstudyError(f"--out {out}: replacing the previous result failed "
                            f"({exc.strerror or exc}); the previous result is unchanged") from None
    finally:
        shutil.rmtree(aside, ignore_errors=True)
