"""Neighbouring slices as extra channels ("2.5-D" input), for the recipe probes
(``benchmarks/lgg_recipe_probe.py`` variant ``per_image_ctx1``, ``isbi_recipe_probe.py``
variant ``ctx1``). Not a ``prepare`` option: probed on both data sets and not better
(``docs/2026-12-05-slice-context.md``), so no stage, sidecar or ``predict`` knows it.

A radiologist reads a slice beside the ones above and below it: a tumour's first and last
slices, where it is a few pixels wide, and a large tumour whose texture differs from slice to
slice are both easier to find with that context. With ``context = k`` every slice becomes its
own channels followed by the channels of the slices ``-k … -1, +1 … +k`` of the same volume;
at a volume's ends the nearest existing slice stands in (edge replication, as ``numpy.pad``'s
``mode="edge"``). ``k = 0`` returns the images unchanged.
"""

from __future__ import annotations

import numpy as np

from segstudy import SegstudyError


def neighbour_rows(cases: np.ndarray, order: np.ndarray, offset: int) -> np.ndarray:
    """For each row, the row of the slice ``offset`` positions away in its own volume (volume =
    equal ``cases``; position = rank of ``order`` within the volume), clamped to the volume's
    first / last slice."""
    cases, order = np.asarray(cases), np.asarray(order)
    if len(cases) != len(order):
        raise SegstudyError(f"context: {len(cases)} cases for {len(order)} slices")
    out = np.empty(len(cases), dtype=np.int64)
    for case in dict.fromkeys(cases.tolist()):
        rows = np.flatnonzero(cases == case)
        rows = rows[np.argsort(order[rows], kind="stable")]
        pos = np.clip(np.arange(len(rows)) + offset, 0, len(rows) - 1)
        out[rows] = rows[pos]
    return out


def with_context(images: np.ndarray, cases: np.ndarray, order: np.ndarray,
                 context: int) -> np.ndarray:
    """(N, H, W, C) → (N, H, W, C·(2·context + 1)): each slice, then its neighbours' channels
    from ``-context`` to ``+context`` (0 skipped), same dtype."""
    if context < 0:
        raise SegstudyError(f"context: {context}; use 0 (one slice) or more neighbours a side")
    images = np.asarray(images)
    if context == 0:
        return images
    parts = [images] + [images[neighbour_rows(cases, order, k)]
                        for k in range(-context, context + 1) if k]
    return np.concatenate(parts, axis=-1)


def slice_numbers(sample_ids) -> np.ndarray:
    """The slice number ending a kaggle_3m sample id (``<case>_<n>``), as an int array."""
    try:
        return np.array([int(str(s).rsplit("_", 1)[1]) for s in sample_ids], dtype=np.int64)
    except (IndexError, ValueError):
        raise SegstudyError("context: sample ids must end in _<slice number> "
                            "(kaggle_3m names, e.g. TCGA_CS_4941_19960909_12)") from None
