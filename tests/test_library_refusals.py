"""Every bad input the library functions refuse, in one table (the count is the number of cases).

Each case builds a bad input, runs the real code path, and expects a ``SegstudyError`` whose
one-line message names the file or parameter and the problem. The same refusals as a user
meets them (exit code 2, exactly one ``error:`` line, nothing on disk changed) are the
process-level table in ``test_bad_inputs.py``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile

from segstudy import SegstudyError
from segstudy.data.sources import safe_extract_zip
from segstudy.data.split import scale_counts, split_contiguous
from segstudy.data.validate import read_tiff, validate_isbi, validate_lgg
from segstudy.models.unet import build_unet
from segstudy.params import check_dataset, choice
from segstudy.training.gan import check_metric
from segstudy.training.losses import make_loss
from segstudy.training.seeds import check_seeds
from tests.conftest import TINY_UNET, write_isbi, write_lgg


def _case(root: Path) -> Path:
    return sorted(p for p in root.iterdir() if p.is_dir())[0]


def corrupt_tiff(tmp: Path) -> Callable[[], object]:
    (tmp / "bad.tif").write_bytes(b"II*\x00garbage")
    return lambda: read_tiff(tmp / "bad.tif")


def truncated_tiff(tmp: Path) -> Callable[[], object]:
    tifffile.imwrite(tmp / "t.tif", np.ones((64, 64, 3), np.uint8), compression="deflate")
    data = (tmp / "t.tif").read_bytes()
    (tmp / "t.tif").write_bytes(data[: len(data) // 2])
    return lambda: read_tiff(tmp / "t.tif")


def isbi_wrong_shape(tmp: Path) -> Callable[[], object]:
    root = write_isbi(tmp / "isbi", n=29, size=512)
    return lambda: validate_isbi(root)


def isbi_labels_not_binary(tmp: Path) -> Callable[[], object]:
    root = write_isbi(tmp / "isbi")
    labels = np.full((30, 512, 512), 255, np.uint8)
    labels[0, 0, 0] = 7
    tifffile.imwrite(root / "train-labels.tif", labels)
    return lambda: validate_isbi(root)


def isbi_wrong_dtype(tmp: Path) -> Callable[[], object]:
    root = write_isbi(tmp / "isbi")
    tifffile.imwrite(root / "test-volume.tif", np.zeros((30, 512, 512), np.uint16))
    return lambda: validate_isbi(root)


def lgg_missing_mask(tmp: Path) -> Callable[[], object]:
    root = write_lgg(tmp)
    case = _case(root)
    (case / f"{case.name}_3_mask.tif").unlink()
    return lambda: validate_lgg(root)


def lgg_mask_without_image(tmp: Path) -> Callable[[], object]:
    root = write_lgg(tmp)
    case = _case(root)
    (case / f"{case.name}_3.tif").unlink()
    return lambda: validate_lgg(root)


def lgg_size_mismatch(tmp: Path) -> Callable[[], object]:
    root = write_lgg(tmp)
    case = _case(root)
    tifffile.imwrite(case / f"{case.name}_2_mask.tif", np.zeros((16, 16), np.uint8))
    return lambda: validate_lgg(root)


def lgg_mask_not_binary(tmp: Path) -> Callable[[], object]:
    root = write_lgg(tmp)
    case = _case(root)
    tifffile.imwrite(case / f"{case.name}_2_mask.tif", np.full((32, 32), 128, np.uint8))
    return lambda: validate_lgg(root)


def lgg_wrong_channels(tmp: Path) -> Callable[[], object]:
    root = write_lgg(tmp)
    case = _case(root)
    tifffile.imwrite(case / f"{case.name}_1.tif", np.zeros((32, 32, 4), np.uint8))
    return lambda: validate_lgg(root)


def lgg_file_in_wrong_case(tmp: Path) -> Callable[[], object]:
    root = write_lgg(tmp)
    case = _case(root)
    (case / f"{case.name}_1.tif").rename(case / "TCGA_ZZ_9999_20000101_1.tif")
    return lambda: validate_lgg(root)


def lgg_empty_folder(tmp: Path) -> Callable[[], object]:
    (tmp / "kaggle_3m").mkdir()
    return lambda: validate_lgg(tmp / "kaggle_3m")


def zip_member_escapes(tmp: Path) -> Callable[[], object]:
    with zipfile.ZipFile(tmp / "evil.zip", "w") as zf:
        zf.writestr("../escape.txt", "x")
    return lambda: safe_extract_zip(tmp / "evil.zip", tmp / "target")


def not_a_zip(tmp: Path) -> Callable[[], object]:
    (tmp / "archive.zip").write_bytes(b"PK-not-really")
    return lambda: safe_extract_zip(tmp / "archive.zip", tmp / "t")


CASES = [
    ("corrupt TIFF", corrupt_tiff, r"bad\.tif: not a readable TIFF"),
    ("truncated TIFF", truncated_tiff, r"t\.tif: not a readable TIFF"),
    ("ISBI stack of 29 slices", isbi_wrong_shape, r"train-volume\.tif: shape \(29, 512, 512\)"),
    ("ISBI labels not binary", isbi_labels_not_binary, r"train-labels\.tif: mask is not binary"),
    ("ISBI 16-bit stack", isbi_wrong_dtype, r"test-volume\.tif: dtype uint16"),
    ("LGG missing mask", lgg_missing_mask, r"_3\.tif: its mask .*_3_mask\.tif is missing"),
    ("LGG mask without image", lgg_mask_without_image, r"_3_mask\.tif: mask without an image"),
    ("LGG mask size mismatch", lgg_size_mismatch, r"_2_mask\.tif: size \(16, 16\) differs"),
    ("LGG mask not binary", lgg_mask_not_binary, r"_2_mask\.tif: mask is not binary"),
    ("LGG 4-channel image", lgg_wrong_channels, r"_1\.tif: shape \(32, 32, 4\), expected"),
    ("LGG file in wrong case folder", lgg_file_in_wrong_case, "does not match its case folder"),
    ("LGG empty folder", lgg_empty_folder, "no case folders"),
    ("archive member escaping", zip_member_escapes, "would escape the target folder"),
    ("archive not a zip", not_a_zip, r"archive\.zip: not a readable zip"),
    ("unknown dataset", lambda t: lambda: check_dataset("mnist"), "choose one of isbi2012, lgg"),
    ("seeds not a list", lambda t: lambda: check_seeds(3, "train.lgg.seeds"),
     r"train\.lgg\.seeds must be a non-empty list"),
    ("repeated seed", lambda t: lambda: check_seeds([1, 1], "train.lgg.seeds"),
     r"train\.lgg\.seeds=\[1, 1\] repeats a seed"),
    ("unknown GAN metric", lambda t: lambda: check_metric("bogus"),
     "module, squaring, percent, iou"),
    ("unknown loss", lambda t: lambda: make_loss("l1", (0, 1)), "mse, bce, dice"),
    ("unknown output activation",
     lambda t: lambda: build_unet(1, **{**TINY_UNET, "output_activation": "relu"}),
     "output_activation='relu'"),
    ("unknown split rule", lambda t: lambda: choice("kfold", ("slice", "patient"), "split.by"),
     "split.by='kfold' is not valid"),
    ("split counts that cannot be met", lambda t: lambda: scale_counts(5, [3182, 657, 90]),
     "cannot be met with 5 samples"),
    ("ISBI split counts not summing to 30", lambda t: lambda: split_contiguous(30, [20, 4, 5]),
     "sum to 30"),
]


@pytest.mark.parametrize(("name", "make", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_named_problem(tmp_path: Path, name, make, message):
    action = make(tmp_path)
    with pytest.raises(SegstudyError, match=message) as err:
        action()
    assert "\n" not in str(err.value), "one line"


def test_at_least_twenty_distinct_bad_inputs_are_covered():
    assert len({c[0] for c in CASES}) >= 20
