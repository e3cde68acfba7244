"""Readers accept both TIFF encodings and list slices in order (refusals: test_bad_inputs.py)."""

from pathlib import Path

import numpy as np
import tifffile

from segstudy.data.validate import list_lgg_slices, read_tiff, validate_isbi, validate_lgg


def test_uncompressed_and_deflate_tiffs_read_identically(tmp_path: Path):
    img = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "plain.tif", img)
    tifffile.imwrite(tmp_path / "deflate.tif", img, compression="deflate", predictor=True)
    plain, deflate = read_tiff(tmp_path / "plain.tif"), read_tiff(tmp_path / "deflate.tif")
    np.testing.assert_array_equal(plain, deflate)


def test_valid_isbi_and_lgg_pass(isbi_dir: Path, lgg_dir: Path):
    validate_isbi(isbi_dir)
    assert validate_lgg(lgg_dir) == 20


def test_lgg_slices_sort_numerically_not_lexically(tmp_path: Path):
    from tests.conftest import write_lgg

    root = write_lgg(tmp_path, cases=1, slices=12)
    assert [s.index for s in list_lgg_slices(root)] == list(range(1, 13))
