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
    return _shifted(_volumes(cases, order), len(cases), offset)


def with_context(images: np.ndarray, cases: np.ndarray, order: np.ndarray,
                 context: int) -> np.ndarray:
    """(N, H, W, C) → (N, H, W, C·(2·context + 1)): each slice, then its neighbours' channels
    from ``-context`` to ``+context`` (0 skipped), same dtype. A prepared folder's rows are
    already in slice order within each case (``data.prepare``), so ``order`` can be the row
    number there."""
    if context < 0:
        raise SegstudyError(f"context: {context}; use 0 (one slice) or more neighbours a side")
    images = np.asarray(images)
    if context == 0:
        return images
    volumes = _volumes(cases, order)  # grouped and sorted once for every offset
    parts = [images] + [images[_shifted(volumes, len(images), k)]
                        for k in range(-context, context + 1) if k]
    return np.concatenate(parts, axis=-1)


def _volumes(cases: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
    """Each volume's rows, sorted by ``order``."""
    cases, order = np.asarray(cases), np.asarray(order)
    if len(cases) != len(order):
        raise SegstudyError(f"context: {len(cases)} cases for {len(order)} slices")
    groups = [np.flatnonzero(cases == case) for case in dict.fromkeys(cases.tolist())]
    return [rows[np.argsort(order[rows], kind="stable")] for rows in groups]


def _shifted(volumes: list[np.ndarray], n: int, offset: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    for rows in volumes:
        out[rows] = rows[np.clip(np.arange(len(rows)) + offset, 0, len(rows) - 1)]
    return out
