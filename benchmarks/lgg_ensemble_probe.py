"""Probe: does averaging the outputs of several seeds' LGG models beat one model, on validation?

Each model (``--models``, the ``seed<S>.keras`` files a recipe's training stage writes) and each
average of two or more of them is exported exactly as the training stage would export a model
(``segstudy.training.card.model_card``: post-processing chosen on val by Dice per patient, the
Tumour rule at the recall floor), then scored on the val split of ``--prepared``: Dice per
patient, IoU over tumour slices, slice recall / precision at the chosen rule. Paired
differences against the first model are over val patients (95 % t-interval). The test split
is never read.

    PYTHONPATH=src python benchmarks/lgg_ensemble_probe.py --prepared data/prepared/lgg-strong \\
        --models models/lgg/strong-seeds/seed42.keras other/seed43.keras --out ensemble.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
from scipy import stats


def score(model, data, idx, rng, recall_floor: float) -> dict:
    from segstudy import postprocess
    from segstudy.data.prepared import to_mask_scale
    from segstudy.detection import choose_min_area, classify
    from segstudy.metrics import binarise, iou
    from segstudy.patients import per_patient
    from segstudy.training.card import model_card

    t0 = time.time()
    card = model_card(model, data, rng, None, recall_floor, "choose", "lgg")
    table = data.table.iloc[idx].reset_index(drop=True)
    images, masks = np.asarray(data.images[idx]), np.asarray(data.masks[idx])
    pred = postprocess.apply(model, images, data.norm, 8, table["case_id"].to_numpy(), rng,
                             card["postprocess"])
    truth = masks.reshape(len(idx), -1) > 0
    found = binarise(pred, rng).reshape(len(idx), -1) > 0
    counts = table.assign(split="val", target_area=truth.sum(1), pred_area=found.sum(1),
                          intersection=(truth & found).sum(1))
    patients = per_patient(counts, 1.0)
    tumour = truth.any(1)
    target = to_mask_scale(masks[tumour], rng)[..., 0]
    slice_iou = iou(pred[tumour], target, rng, empty=1.0)
    det = classify(found.sum(1), tumour, card["decision"]["min_area"])["per_class"]["Tumour"]
    # the Tumour rule on the averaged output before the component clean-up (a probe of a rule
    # that is not the stage's): areas above a lower probability too
    raw = postprocess.probability(model, images, data.norm, 8, True)
    scale = (raw - rng[0]) / (rng[1] - rng[0])
    before = {}
    for level in (0.5, 0.3, 0.2):
        areas = (scale > level).reshape(len(idx), -1).sum(1)
        rule = choose_min_area(areas, tumour, recall_floor)
        got = classify(areas, tumour, rule["min_area"])["per_class"]["Tumour"]
        before[level] = (rule["min_area"], round(got["recall"], 3), round(got["precision"], 3))
    return {"dice_per_patient": float(patients["dice"].mean()),
            "rule_before_cleanup": before,
            "per_patient": dict(zip(patients["case_id"], patients["dice"].round(4), strict=True)),
            "iou_tumour_slices": float(np.mean(slice_iou)),
            "recall": det["recall"], "precision": det["precision"],
            "postprocess": {k: card["postprocess"][k] for k in ("tta_flip", "min_component",
                                                                "largest_3d")},
            "min_area": card["decision"]["min_area"], "seconds": round(time.time() - t0, 1)}


def paired(a: dict, b: dict) -> str:
    d = np.array([b[k] - a[k] for k in a])
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--recall-floor", type=float, default=0.95)
    ap.add_argument("--configs", nargs="*", help="only these (e.g. seed44 seed42+seed43+seed44)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    from segstudy.data.prepared import Prepared
    from segstudy.inference import load_model
    from segstudy.training.ensemble import average  # the stage's own averaging

    data = Prepared(args.prepared)
    idx = data.indices("val")
    loaded = [load_model(p) for p in args.models]
    rng = tuple(loaded[0][1]["mask_range"])
    models = {Path(p).stem: m for p, (m, _) in zip(args.models, loaded, strict=True)}
    names = list(models)
    configs = {n: models[n] for n in names}
    for k in range(2, len(names) + 1):
        for combo in itertools.combinations(names, k):
            configs["+".join(combo)] = average([models[n] for n in combo], "_".join(combo))
    if args.configs:
        configs = {k: v for k, v in configs.items() if k in args.configs}
    results = {}
    for name, model in configs.items():
        results[name] = score(model, data, idx, rng, args.recall_floor)
        r = results[name]
        print(f"{name:24s} Dice/patient {r['dice_per_patient']:.3f}  IoU tumour slices "
              f"{r['iou_tumour_slices']:.3f}  recall {r['recall']:.3f}  precision "
              f"{r['precision']:.3f}  {r['postprocess']}  min_area {r['min_area']}  "
              f"{r['seconds']} s\n    rule before clean-up (prob level: min_area, recall, "
              f"precision) {r['rule_before_cleanup']}", flush=True)
    first = next(iter(results))
    base = results[first]["per_patient"]
    for name in list(results)[1:]:
        print(f"{name} − {first}: Dice per patient {paired(base, results[name]['per_patient'])}"
              f" over {len(base)} val patients")
    Path(args.out).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
