"""Readers accept both TIFF encodings and refuse every kind of bad file with a named error."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from segstudy import SegstudyError
from segstudy.data.validate import list_lgg_slices, read_tiff, validate_isbi, validate_lgg


def test_uncompressed_and_deflate_tiffs_read_identically(tmp_path: Path):
    img = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "plain.tif", img)
    tifffile.imwrite(tmp_path / "deflate.tif", img, compression="deflate", predictor=True)
    plain, deflate = read_tiff(tmp_path / "plain.tif"), read_tiff(tmp_path / "deflate.tif")
    np.testing.assert_array_equal(plain, deflate)


def test_corrupt_tiff_error_names_the_file(tmp_path: Path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    with pytest.raises(SegstudyError, match=r"bad\.tif: not a readable TIFF"):
        read_tiff(bad)


def test_valid_isbi_and_lgg_pass(isbi_dir: Path, lgg_dir: Path):
    validate_isbi(isbi_dir)
    assert validate_lgg(lgg_dir) == 20


def test_lgg_slices_sort_numerically_not_lexically(tmp_path: Path):
    from tests.conftest import write_lgg

    root = write_lgg(tmp_path, cases=1, slices=12)
    assert [s.index for s in list_lgg_slices(root)] == list(range(1, 13))


def test_isbi_wrong_shape_is_refused(isbi_dir: Path):
    tifffile.imwrite(isbi_dir / "train-volume.tif", np.zeros((29, 512, 512), np.uint8))
    with pytest.raises(SegstudyError, match=r"train-volume\.tif: shape \(29, 512, 512\)"):
        validate_isbi(isbi_dir)


def test_isbi_non_binary_labels_are_refused(isbi_dir: Path):
    labels = np.full((30, 512, 512), 255, np.uint8)
    labels[0, 0, 0] = 7
    tifffile.imwrite(isbi_dir / "train-labels.tif", labels)
    with pytest.raises(SegstudyError, match=r"train-labels\.tif: mask is not binary"):
        validate_isbi(isbi_dir)


def test_isbi_wrong_dtype_is_refused(isbi_dir: Path):
    tifffile.imwrite(isbi_dir / "test-volume.tif", np.zeros((30, 512, 512), np.uint16))
    with pytest.raises(SegstudyError, match=r"test-volume\.tif: dtype uint16"):
        validate_isbi(isbi_dir)


def _first_case(root: Path) -> Path:
    return sorted(p for p in root.iterdir() if p.is_dir())[0]


def test_lgg_missing_mask_is_refused(lgg_dir: Path):
    case = _first_case(lgg_dir)
    (case / f"{case.name}_3_mask.tif").unlink()
    with pytest.raises(SegstudyError, match=r"_3\.tif: its mask .*_3_mask\.tif is missing"):
        validate_lgg(lgg_dir)


def test_lgg_mask_size_mismatch_is_refused(lgg_dir: Path):
    case = _first_case(lgg_dir)
    tifffile.imwrite(case / f"{case.name}_2_mask.tif", np.zeros((16, 16), np.uint8))
    with pytest.raises(SegstudyError, match=r"_2_mask\.tif: size \(16, 16\) differs"):
        validate_lgg(lgg_dir)


def test_lgg_non_binary_mask_is_refused(lgg_dir: Path):
    case = _first_case(lgg_dir)
    tifffile.imwrite(case / f"{case.name}_2_mask.tif", np.full((32, 32), 128, np.uint8))
    with pytest.raises(SegstudyError, match=r"_2_mask\.tif: mask is not binary"):
        validate_lgg(lgg_dir)


def test_lgg_wrong_channel_count_is_refused(lgg_dir: Path):
    case = _first_case(lgg_dir)
    tifffile.imwrite(case / f"{case.name}_1.tif", np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(SegstudyError, match=r"_1\.tif: shape \(32, 32, 4\), expected \(H, W, 3\)"):
        validate_lgg(lgg_dir)


def test_lgg_file_in_wrong_case_folder_is_refused(lgg_dir: Path):
    case = _first_case(lgg_dir)
    (case / f"{case.name}_1.tif").rename(case / "TCGA_ZZ_9999_20000101_1.tif")
    with pytest.raises(SegstudyError, match="does not match its case folder"):
        validate_lgg(lgg_dir)


def test_lgg_empty_folder_is_refused(tmp_path: Path):
    (tmp_path / "kaggle_3m").mkdir()
    with pytest.raises(SegstudyError, match="no case folders"):
        validate_lgg(tmp_path / "kaggle_3m")
