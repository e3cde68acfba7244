"""Download: mirror, HTTP through pooch (local server), safe unpacking, atomic output."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from segstudy import SegstudyError
from segstudy.data import sources
from segstudy.data.sources import download, fetch_url, find_kaggle_3m, safe_extract_zip
from segstudy.io import OWNER_MARK
from tests.conftest import write_lgg


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _isbi_spec(folder: Path, base_url: str = "http://127.0.0.1:9/") -> dict:
    return {"files": [{"name": n, "sha256": _sha(folder / n), "urls": [base_url + n]}
                      for n in ("train-volume.tif", "train-labels.tif", "test-volume.tif")]}


@pytest.fixture
def http_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A quiet HTTP server on 127.0.0.1 serving a temporary folder; stops after the test."""
    root = tmp_path / "www"
    root.mkdir()
    monkeypatch.setenv("SEGSTUDY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_http_download_verifies_and_lands_complete(http_root, isbi_dir: Path, tmp_path: Path):
    root, url = http_root
    for f in isbi_dir.iterdir():
        shutil.copy(f, root / f.name)
    out = tmp_path / "raw" / "isbi2012"
    download("isbi2012", _isbi_spec(isbi_dir, url), out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [OWNER_MARK, *(p.name for p in isbi_dir.iterdir())])  # the stamp: "written by a stage"
    assert not list(out.parent.glob(".tmp-*"))


def test_http_checksum_mismatch_fails_and_leaves_nothing(http_root, isbi_dir, tmp_path):
    root, url = http_root
    for f in isbi_dir.iterdir():
        shutil.copy(f, root / f.name)
    spec = _isbi_spec(isbi_dir, url)
    spec["files"][0]["sha256"] = "0" * 64
    out = tmp_path / "raw" / "isbi2012"
    with pytest.raises(SegstudyError, match=r"train-volume\.tif: every source failed: .*checksum"):
        download("isbi2012", spec, out)
    assert not out.exists() and not list(out.parent.glob(".tmp-*"))


def test_http_404_is_a_clear_error(http_root):
    _, url = http_root
    with pytest.raises(SegstudyError, match=r"missing\.zip: download failed"):
        fetch_url(url + "missing.zip", None, "missing.zip")


def test_second_url_is_tried_when_the_first_fails(http_root, isbi_dir, tmp_path):
    root, url = http_root
    for f in isbi_dir.iterdir():
        shutil.copy(f, root / f.name)
    spec = _isbi_spec(isbi_dir, url)
    for f in spec["files"]:
        f["urls"] = [url + "nowhere/" + f["name"], *f["urls"]]
    download("isbi2012", spec, tmp_path / "out")
    assert (tmp_path / "out" / "train-labels.tif").is_file()


def test_lgg_zip_nested_twice_is_found_and_validated(http_root, tmp_path):
    root, url = http_root
    src = write_lgg(tmp_path / "src")
    archive = root / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in src.rglob("*"):
            inner = "lgg-mri-segmentation/lgg-mri-segmentation/kaggle_3m/" + str(f.relative_to(src))
            zf.write(f, inner)
    out = tmp_path / "raw" / "lgg"
    download("lgg", {"sources": [{"url": url + "archive.zip", "sha256": None}]}, out)
    assert len(list((out / "kaggle_3m").glob("*/*_mask.tif"))) == 20
    assert not (out / ".unpack").exists()


def test_mirror_is_used_instead_of_the_network(monkeypatch, isbi_dir, tmp_path):
    monkeypatch.setenv(sources.MIRROR_ENV, str(isbi_dir.parent))
    download("isbi2012", _isbi_spec(isbi_dir), tmp_path / "out")  # URLs point nowhere
    assert (tmp_path / "out" / "test-volume.tif").is_file()


def test_mirror_with_a_corrupt_file_fails_and_leaves_nothing(monkeypatch, isbi_dir, tmp_path):
    spec = _isbi_spec(isbi_dir)
    (isbi_dir / "train-labels.tif").write_bytes(b"not a tiff")
    monkeypatch.setenv(sources.MIRROR_ENV, str(isbi_dir.parent))
    with pytest.raises(SegstudyError, match=r"train-labels\.tif: checksum mismatch"):
        download("isbi2012", spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _zip_with(path: Path, name: str, *, link: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(name)
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd" if link else "payload")
    return path


@pytest.mark.parametrize(
    ("member", "link"),
    [("../escape.txt", False), ("/abs/escape.txt", False), ("a/../../escape.txt", False),
     ("kaggle_3m/link", True)],
)
def test_hostile_archive_member_is_refused(tmp_path: Path, member: str, link: bool):
    archive = _zip_with(tmp_path / "evil.zip", member, link=link)
    target = tmp_path / "target"
    with pytest.raises(SegstudyError, match="would escape the target folder"):
        safe_extract_zip(archive, target)
    assert not (tmp_path / "escape.txt").exists() and not target.exists()


def test_not_a_zip_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "archive.zip"
    bad.write_bytes(b"PK-not-really")
    with pytest.raises(SegstudyError, match=r"archive\.zip: not a readable zip"):
        safe_extract_zip(bad, tmp_path / "t")


def test_find_kaggle_3m_reports_where_it_looked(tmp_path: Path):
    with pytest.raises(SegstudyError, match="no kaggle_3m folder"):
        find_kaggle_3m(tmp_path)


def test_interrupted_download_leaves_no_final_output(monkeypatch, isbi_dir, tmp_path):
    monkeypatch.setenv(sources.MIRROR_ENV, str(isbi_dir.parent))

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sources, "validate_isbi", boom)
    with pytest.raises(KeyboardInterrupt):
        download("isbi2012", _isbi_spec(isbi_dir), tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".tmp-*"))
    monkeypatch.undo()
    monkeypatch.setenv(sources.MIRROR_ENV, str(isbi_dir.parent))
    download("isbi2012", _isbi_spec(isbi_dir), tmp_path / "out")  # a rerun completes
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        [OWNER_MARK, *(p.name for p in isbi_dir.iterdir())])
