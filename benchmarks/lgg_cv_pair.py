"""``lgg_cv.py pair``: two recipes' cross-validations compared under the published steps (flip
averaging, components ≥ 50 px, the largest 3-D component grown to > 0.3: what ``predict``
ships), not on the bare flip-averaged map that ``lgg_probe_pair.py`` pairs.

``--dir`` and ``--against`` each name one ``lgg_cv.py run`` folder per seed, in the same seed
order (the seed each folder's ``cv.jsonl`` records is checked). The two folders of a seed must
hold the same folds; seeds may differ (a seed whose run stopped after some folds is paired over
those folds' patients). Per seed: Dice per
patient and IoU over tumour slices (IoU-t) of each side. Pooled over (seed, patient): the mean
difference of Dice per patient and of each patient's mean IoU over its tumour slices, with
95 % t-intervals (``paired_interval``; a patient counted once per seed).
"""

from __future__ import annotations

import numpy as np
from lgg_cv_more import published_mask
from lgg_cv_score import finals, fmt, fold_names, load, pixel_scores

from segstudy.report.verdict import paired_interval


def seed_of(folder: str) -> int | None:
    """The seed of a run folder's folds (None: no fold recorded, or several seeds)."""
    seeds = {r["seed"] for r in finals(folder)}
    return seeds.pop() if len(seeds) == 1 else None


def fold_groups(folders: list[str], against: list[str]) -> list[list[int]]:
    """The seeds (indices into ``folders``) grouped by the folds their runs hold, so that each
    group's maps load together; refuses a seed whose two sides hold different folds."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for k, (a, b) in enumerate(zip(folders, against, strict=True)):
        fa, fb = fold_names(a), fold_names(b)
        if fa != fb:
            raise SystemExit(f"{a} holds {', '.join(fa) or 'no folds'}, {b} "
                             f"{', '.join(fb) or 'no folds'}: pair runs over the same folds")
        groups.setdefault(fa, []).append(k)
    return list(groups.values())


def pair(prepared: str, folders: list[str], against: list[str]) -> None:
    if len(folders) != len(against):
        raise SystemExit(f"--dir names {len(folders)} folder(s), --against {len(against)}: "
                         "one per seed on each side, in the same order")
    for a, b in zip(folders, against, strict=True):
        sa, sb = seed_of(a), seed_of(b)
        if None not in (sa, sb) and sa != sb:
            raise SystemExit(f"{a} ran seed {sa}, {b} seed {sb}: give --dir and --against "
                             "in the same seed order")
    dice, iou = [], []
    for group in fold_groups(folders, against):
        # one load per set of folds: its slices and masks decoded once, each folder's map kept
        # (load refuses folders whose folds hold other patients)
        sides = [folders[k] for k in group] + [against[k] for k in group]
        table, maps, truth, scale = load(prepared, sides, None)
        cases, size = table["case_id"].to_numpy(), round(50 * scale)
        got = [pixel_scores(table, published_mask(m, cases, size), truth) for m in maps["seeds"]]
        for j, k in enumerate(group):
            a, b = got[j], got[len(group) + j]
            ia, ib = (x["iou_by_case"]["sum"] / x["iou_by_case"]["size"] for x in (a, b))
            dice.append((a["patients"] - b["patients"].reindex(a["patients"].index)).to_numpy())
            iou.append((ia - ib.reindex(ia.index)).to_numpy())
            print(f"{folders[k]} vs {against[k]} ({len(a['patients'])} patients): Dice/patient "
                  f"{a['dice'][0]:.3f} vs {b['dice'][0]:.3f}, IoU-t {a['iou_t'][0]:.3f} vs "
                  f"{b['iou_t'][0]:.3f}", flush=True)
    d, i = np.concatenate(dice), np.concatenate(iou)
    print(f"published steps, {len(d)} (seed, patient) pairs: Δ Dice/patient "
          f"{fmt(paired_interval(d, 0 * d))}; Δ mean IoU over a patient's tumour slices "
          f"{fmt(paired_interval(i, 0 * i))} ({len(i)} pairs with tumour)")
