"""``lgg_cv.py flips``: does averaging the strong LGG model over all four flips that training
draws (none, left-right, up-down, both; ``data.augment``) beat the published left-right average?
Scored on the saved out-of-fold maps of runs that saved ``tta4`` (``lgg_recipe_probe.py``
since 2026-12-07), the same models on both sides, so the comparison carries no training noise.

For the published steps and for the bare map (components ≥ 50 px only), one line for the
left-right pair (Δ 0: its own scores) and one for the four flips (``lgg_cv_more.against``): per
seed Dice per patient / IoU over tumour slices (IoU-t); averaged over the seeds per patient,
Δ Dice per patient (paired t-interval) and Δ IoU-t (cluster-robust over the patients); the
Tumour rule "≥ 1 px" (slice recall / precision) per seed.
"""

from __future__ import annotations

from lgg_cv_more import against, published_mask
from lgg_cv_score import load, pixel_scores

from segstudy.postprocess import clean


def flips(prepared: str, folders: list[str]) -> None:
    table, maps, truth, scale = load(prepared, folders, None)
    if "seeds_tta4" not in maps:
        raise SystemExit(f"{folders[0]}: its folds saved no four-flip map (tta4); rerun them "
                         "with lgg_recipe_probe.py --save-maps of 2026-12-07 or later")
    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    steps = {"published steps": lambda m: published_mask(m, cases, size),
             "bare, components ≥ 50 px": lambda m: clean(m, cases, (0.0, 1.0), size,
                                                         False) > 0.5}
    print(f"{table['case_id'].nunique()} patients, {len(folders)} seed(s), {truth.shape[1]}² "
          "grid; four flips against the left-right pair, the same models", flush=True)
    for name, mask in steps.items():
        pair = [mask(m) for m in maps.get("seeds", [maps["tta"]])]
        base = [pixel_scores(table, f, truth) for f in pair]
        against(f"{name}, left-right pair", table, truth, scale, base, pair)
        against(f"{name}, four flips", table, truth, scale, base,
                [mask(m) for m in maps["seeds_tta4"]])
