"""Train/validation/test splits. Every split is seeded and written out as ``split.csv``."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from segstudy import SegstudyError

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


def scale_counts(n: int, counts: Sequence[int]) -> tuple[int, int, int]:
    """The paper's (train, val, test) counts, scaled proportionally when ``n`` differs.

    On the full LGG set (their sum) the counts are used exactly; on a subset such as the data
    mirror they are scaled (train and val rounded, test takes the rest).
    """
    if len(counts) != 3 or any(int(c) < 1 for c in counts):
        raise SegstudyError(f"params.yaml: split counts {list(counts)} must be 3 positive numbers")
    total = sum(int(c) for c in counts)
    if n == total:
        return int(counts[0]), int(counts[1]), int(counts[2])
    train = round(n * counts[0] / total)
    val = round(n * counts[1] / total)
    test = n - train - val
    if min(train, val, test) < 1:
        raise SegstudyError(
            f"params.yaml: split counts {list(counts)} cannot be met with {n} samples "
            "(a split would be empty); lower the counts or add data"
        )
    log.info("split counts %s scaled to %d samples: %d/%d/%d", list(counts), n, train, val, test)
    return train, val, test


def split_by_slice(n: int, counts: Sequence[int], seed: int) -> np.ndarray:
    """Random slice-level split (the paper's reading): array of 'train'/'val'/'test' per sample."""
    n_train, n_val, _ = scale_counts(n, counts)
    order = np.random.default_rng(seed).permutation(n)
    labels = np.empty(n, dtype=object)
    labels[order[:n_train]] = "train"
    labels[order[n_train : n_train + n_val]] = "val"
    labels[order[n_train + n_val :]] = "test"
    return labels


def split_by_patient(case_ids: Sequence[str], counts: Sequence[int], seed: int) -> np.ndarray:
    """Patient-level split: no case in two splits; slice counts approximate the scaled targets.

    Cases are shuffled with ``seed``; test then validation take whole cases for as long as a case
    brings their slice count closer to its target; training takes the rest.
    """
    case_ids = np.asarray(case_ids, dtype=object)
    n = len(case_ids)
    _, n_val, n_test = scale_counts(n, counts)
    cases, sizes = np.unique(case_ids, return_counts=True)
    if len(cases) < 3:
        raise SegstudyError(f"split.by=patient needs at least 3 cases, found {len(cases)}")
    order = np.random.default_rng(seed).permutation(len(cases))
    assign: dict[str, str] = {}
    pool = [(str(cases[i]), int(sizes[i])) for i in order]
    for split, target in (("test", n_test), ("val", n_val)):
        got = 0
        remaining = []
        for case, size in pool:
            # Leave at least one case for training; take a case if it gets us closer to target.
            if abs(got + size - target) < abs(got - target) and len(pool) - len(assign) > 1:
                assign[case] = split
                got += size
            else:
                remaining.append((case, size))
        if got == 0:  # every case overshoots: take the smallest so the split is not empty
            remaining.sort(key=lambda cs: cs[1])
            case, size = remaining.pop(0)
            assign[case] = split
        pool = remaining
    for case, _ in pool:
        assign[case] = "train"
    return np.array([assign[c] for c in case_ids], dtype=object)


def split_contiguous(n: int, counts: Sequence[int]) -> np.ndarray:
    """ISBI: consecutive blocks in stack order (neighbouring EM sections look alike, so a random
    split would leak near-duplicates between train and test)."""
    n_train, n_val, n_test = (int(c) for c in counts)
    if n_train + n_val + n_test != n or min(n_train, n_val, n_test) < 1:
        raise SegstudyError(
            f"params.yaml: contiguous split counts {list(counts)} must be positive and sum to {n}"
        )
    return np.array(["train"] * n_train + ["val"] * n_val + ["test"] * n_test, dtype=object)
