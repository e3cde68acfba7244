"""Splits: the paper's counts (scaled on a subset), seeded, and leak-free by patient."""

import numpy as np
import pytest

from segstudy import SegstudyError
from segstudy.data.split import scale_counts, split_by_patient, split_by_slice, split_contiguous

PAPER = [3182, 657, 90]


def test_full_lgg_set_uses_the_paper_counts_exactly():
    assert scale_counts(3929, PAPER) == (3182, 657, 90)


def test_mirror_subset_scales_counts_to_2145_443_61():
    assert scale_counts(2649, PAPER) == (2145, 443, 61)  # today's mirror: 73 patients
    assert scale_counts(1350, PAPER) == (1093, 226, 31)  # the 37-patient mirror before 2026-12


def test_slice_split_sizes_and_determinism():
    a = split_by_slice(1350, PAPER, seed=7)
    b = split_by_slice(1350, PAPER, seed=7)
    c = split_by_slice(1350, PAPER, seed=8)
    assert [int((a == s).sum()) for s in ("train", "val", "test")] == [1093, 226, 31]
    assert (a == b).all() and not (a == c).all()


def test_patient_split_puts_no_case_in_two_splits():
    rng = np.random.default_rng(0)
    cases = np.repeat([f"case{i:02d}" for i in range(37)], rng.integers(20, 60, 37))
    split = split_by_patient(cases, PAPER, seed=3)
    for case in np.unique(cases):
        assert len(set(split[cases == case])) == 1
    assert {"train", "val", "test"} == set(split)
    assert (split_by_patient(cases, PAPER, seed=3) == split).all()


def test_counts_that_cannot_be_met_fail_clearly():
    with pytest.raises(SegstudyError, match="cannot be met with 5 samples"):
        scale_counts(5, PAPER)
    with pytest.raises(SegstudyError, match="3 positive numbers"):
        scale_counts(100, [10, 0, 5])


def test_isbi_contiguous_blocks_in_stack_order():
    split = split_contiguous(30, [20, 4, 6])
    assert list(split[:20]) == ["train"] * 20 and list(split[20:24]) == ["val"] * 4
    with pytest.raises(SegstudyError, match="sum to 30"):
        split_contiguous(30, [20, 4, 5])
