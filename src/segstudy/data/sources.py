"""Fetch the raw data sets into ``data/raw/<dataset>`` in their publishers' layouts.

Sources are tried in the order ``params.yaml`` lists them. When ``SEGSTUDY_DATA_MIRROR`` names
a local folder laid out like ``shared/data`` (``isbi2012/*.tif``, ``lgg/kaggle_3m``), it is used
instead of the network. Which source served the data is not a DVC dependency: the stage's
output is validated content, so switching between mirror and network changes nothing for DVC.

HTTP goes through ``pooch`` (hash check, progress bar, download to a temporary name and move
into place, cache in ``~/.cache/segstudy``). Archives are unpacked only after every member has
been checked not to escape the target folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pooch

from segstudy import SegstudyError
from segstudy.data.validate import ISBI_FILES, validate_isbi, validate_lgg
from segstudy.io import atomic_path

log = logging.getLogger(__name__)
MIRROR_ENV = "SEGSTUDY_DATA_MIRROR"
KAGGLE_PREFIX = "kaggle://"


def cache_dir() -> Path:
    return Path(os.environ.get("SEGSTUDY_CACHE", pooch.os_cache("segstudy")))


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_url(url: str, sha: str | None, fname: str) -> Path:
    """Download ``url`` into the cache (verified against ``sha`` when given); return its path."""
    known = f"sha256:{sha}" if sha else None
    try:
        return Path(
            pooch.retrieve(url, known_hash=known, fname=fname, path=cache_dir(), progressbar=True)
        )
    except ValueError as exc:  # pooch's hash mismatch
        raise SegstudyError(f"{url}: checksum mismatch ({exc})") from None
    except Exception as exc:
        raise SegstudyError(f"{url}: download failed ({type(exc).__name__}: {exc})") from None


def safe_extract_zip(archive: str | Path, target: str | Path) -> None:
    """Unpack ``archive`` into ``target`` after refusing any member that could escape it.

    Refused: absolute paths, ``..`` components, drive letters, and symbolic links.
    """
    archive, target = Path(archive), Path(target)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SegstudyError(f"{archive}: not a readable zip archive ({exc})") from None
    with zf:
        for info in zf.infolist():
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            mode = info.external_attr >> 16
            if (
                name.startswith(("/", "\\"))
                or ".." in parts
                or (parts and ":" in parts[0])
                or stat.S_ISLNK(mode)
            ):
                raise SegstudyError(
                    f"{archive}: member {name!r} would escape the target folder "
                    "(absolute path, '..' or link); refusing to extract this archive"
                )
        zf.extractall(target)


def find_kaggle_3m(root: str | Path) -> Path:
    """The ``kaggle_3m`` folder anywhere under ``root`` (the Kaggle zip nests it once or twice)."""
    root = Path(root)
    if root.name == "kaggle_3m" and root.is_dir():
        return root
    hits = sorted(
        (p for p in root.rglob("kaggle_3m") if p.is_dir() and any(p.glob("TCGA_*"))),
        key=lambda p: len(p.parts),
    )
    if not hits:
        raise SegstudyError(f"{root}: no kaggle_3m folder with TCGA_* cases inside")
    return hits[0]


def _copy_file(src: Path, dst: Path, sha: str | None) -> None:
    if sha and sha256(src) != sha:
        raise SegstudyError(f"{src}: checksum mismatch (expected sha256 {sha})")
    shutil.copyfile(src, dst)


def _isbi_into(tmp: Path, files: Sequence[Mapping[str, Any]], mirror: Path | None) -> None:
    by_name = {f["name"]: f for f in files}
    missing = [n for n in ISBI_FILES if n not in by_name]
    if missing:
        raise SegstudyError(f"params.yaml: download.isbi2012.files lacks {', '.join(missing)}")
    for name in ISBI_FILES:
        spec = by_name[name]
        if mirror is not None:
            _copy_file(mirror / "isbi2012" / name, tmp / name, spec.get("sha256"))
            continue
        errors = []
        for url in spec.get("urls", []):
            try:
                shutil.copyfile(fetch_url(url, spec.get("sha256"), name), tmp / name)
                break
            except SegstudyError as exc:
                log.warning("%s", exc)
                errors.append(str(exc))
        else:
            raise SegstudyError(f"{name}: every source failed: " + "; ".join(errors or ["none"]))


def _lgg_from_source(source: Any, work: Path) -> Path:
    """Resolve one LGG source to a ``kaggle_3m`` folder (possibly inside ``work``)."""
    if isinstance(source, str) and source.startswith(KAGGLE_PREFIX):
        try:
            import kagglehub
        except ImportError:
            raise SegstudyError(
                f"{source}: needs 'pip install kagglehub' and Kaggle credentials"
            ) from None
        try:
            path = kagglehub.dataset_download(source[len(KAGGLE_PREFIX) :])
        except Exception as exc:
            raise SegstudyError(f"{source}: kagglehub failed ({exc})") from None
        return find_kaggle_3m(path)
    if isinstance(source, Mapping):
        archive = fetch_url(str(source["url"]), source.get("sha256"), "lgg-archive.zip")
    else:
        archive = Path(str(source)).expanduser()
        if archive.is_dir():
            return find_kaggle_3m(archive)
        if not archive.exists():
            raise SegstudyError(f"{archive}: no such file or folder")
    safe_extract_zip(archive, work)
    return find_kaggle_3m(work)


def _lgg_into(tmp: Path, sources: Sequence[Any], mirror: Path | None) -> None:
    if mirror is not None:
        sources = [mirror / "lgg"]
    work = tmp / ".unpack"
    errors = []
    for source in sources:
        try:
            found = _lgg_from_source(source, work)
            shutil.copytree(found, tmp / "kaggle_3m")
            break
        except SegstudyError as exc:
            log.warning("%s", exc)
            errors.append(str(exc))
    else:
        raise SegstudyError("lgg: every source failed: " + "; ".join(errors or ["none listed"]))
    shutil.rmtree(work, ignore_errors=True)


def download(dataset: str, spec: Mapping[str, Any], out: str | Path) -> None:
    """Fetch ``dataset`` into ``out`` atomically; validate before it is moved into place."""
    mirror_env = os.environ.get(MIRROR_ENV)
    mirror = Path(mirror_env).expanduser().resolve() if mirror_env else None
    if mirror is not None and not mirror.is_dir():
        raise SegstudyError(f"{MIRROR_ENV}={mirror_env}: not a folder")
    with atomic_path(out, is_dir=True) as tmp:
        if dataset == "isbi2012":
            _isbi_into(tmp, spec["files"], mirror)
            validate_isbi(tmp)
        else:
            _lgg_into(tmp, spec["sources"], mirror)
            n = validate_lgg(tmp / "kaggle_3m")
            log.info("lgg: %d slices validated", n)
