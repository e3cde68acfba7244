"""Which ingredients of a strong LGG recipe pay off (issue 21)? A probe, not a stage.

Trains the project's LGG U-Net (``segstudy.models.unet``, ``segstudy.data.batches``,
``segstudy.training.losses``) under several recipes on a *patient-level* split of a prepared LGG
folder and scores validation every epoch the way the report does (Dice per patient volume, IoU
over tumour slices; ``segstudy.patients``). At each run's best epoch it also scores flip
test-time augmentation and removal of small connected components, so each ingredient is kept
or dropped by validation. Test slices are never read.

    python benchmarks/lgg_recipe_probe.py --prepared data/prepared/lgg --out probe.jsonl \
        --variants paper bce_dice --seeds 1 2 --epochs 40 [--parallel N]

Backend-agnostic (runs with ``KERAS_BACKEND=jax`` on a GPU machine without TensorFlow). With
``--parallel`` every (variant, seed) is its own process; the results are one JSON line each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from lgg_variants import AUGMENT, BASE, MIN_COMPONENT, MODEL, VARIANTS


def patient_split(table, n_val: int, seed: int) -> np.ndarray:
    """'train' / 'val' per slice, no patient in both (the slices' test label is dropped)."""
    cases = np.array(sorted(table["case_id"].unique()))
    val = set(np.random.default_rng(seed).permutation(cases)[:n_val])
    return np.where(table["case_id"].isin(val), "val", "train")


def scores(table, prob: np.ndarray, truth: np.ndarray, min_component: int = 0,
           level: float = 0.5) -> dict:
    """Val scores of a probability map (0..1) thresholded at ``level``: Dice per patient
    volume (and each patient's, ``per_patient``), IoU over tumour slices, slice recall /
    precision at ≥ 1 pixel after removing components under ``min_component`` pixels."""
    from scipy import ndimage

    from segstudy.patients import per_patient

    found = prob > level
    if min_component:
        for i in np.flatnonzero(found.reshape(len(found), -1).any(axis=1)):
            lab, n = ndimage.label(found[i])
            sizes = ndimage.sum(found[i], lab, range(1, n + 1))
            found[i] = np.isin(lab, 1 + np.flatnonzero(sizes >= min_component))
    t = table.assign(target_area=truth.reshape(len(truth), -1).sum(1),
                     pred_area=found.reshape(len(found), -1).sum(1),
                     intersection=(found & truth).reshape(len(truth), -1).sum(1))
    tumour = t[t["target_area"] > 0]
    union = tumour["target_area"] + tumour["pred_area"] - tumour["intersection"]
    pat = per_patient(t, 1.0)
    detected = t["pred_area"] > 0
    has = t["target_area"] > 0
    return {"dice_per_patient": round(float(pat["dice"].mean()), 4),
            "iou_tumour_slices": round(float((tumour["intersection"] / union).mean()), 4),
            "recall": round(float((detected & has).sum() / max(1, has.sum())), 4),
            "precision": round(float((detected & has).sum() / max(1, detected.sum())), 4),
            "per_patient": dict(zip(pat["case_id"], pat["dice"].round(3), strict=True))}


# probe_batches' losses, by the names variants give them; any other name is the losses module's
PROBE_LOSSES = ("bce_batch_dice", "bce_soft_iou", "bce_tversky")


def probe_loss(name: str, mask_range: tuple[float, float]):
    """The loss a variant names: one of ``probe_batches``' or the losses module's."""
    import probe_batches

    from segstudy.training.losses import make_loss

    return (getattr(probe_batches, name)(mask_range) if name in PROBE_LOSSES
            else make_loss(name, mask_range))


def fine_tune_from(finetune: dict | None, epochs: int) -> int | None:
    """The 0-based epoch from which a variant's ``finetune`` loss replaces its loss (its last
    ``finetune["epochs"]`` epochs; 0 = none), the pipeline's rule (``segstudy.config``)."""
    if not finetune:
        return None
    from segstudy import SegstudyError
    from segstudy.config import LOSS_NAMES, fine_tune_start

    if finetune["loss"] not in PROBE_LOSSES + tuple(LOSS_NAMES):
        raise SystemExit(f"finetune loss {finetune['loss']!r}: choose one of "
                         f"{', '.join(PROBE_LOSSES + tuple(LOSS_NAMES))}")
    try:
        return fine_tune_start({"loss": "the variant's loss", "epochs": epochs,
                                "finetune": finetune}, "variant")
    except SegstudyError as err:
        raise SystemExit(str(err)) from None


def run_one(prepared: str, variant: str, seed: int, epochs: int, n_val: int, out: str,
            precision: str = "auto", split: str = "random", score_at: str | None = None,
            select: str = "best", save_maps: str | None = None) -> dict:
    import keras
    from probe_batches import channel_dropped, jittered, swap_ema

    from segstudy.data.batches import TrainBatches, positive_sampled
    from segstudy.data.prepared import Prepared
    from segstudy.inference import predict_masks
    from segstudy.models.unet import build_unet, mask_range
    from segstudy.precision import cpu_summary, resolve_precision

    cfg = {**BASE, **VARIANTS[variant]}
    switch = fine_tune_from(cfg["finetune"], epochs)  # checked before any data is read
    keras.utils.set_random_seed(seed)
    policy = resolve_precision(precision)
    keras.mixed_precision.set_global_policy(policy)
    print(f"# CPU {cpu_summary()}; precision {precision} → {policy}", flush=True)
    data = Prepared(prepared)
    if split == "random":
        data.table["split"] = patient_split(data.table, n_val, seed=0)  # one split for all runs
    elif split.startswith("fold:"):  # fold k of n over the non-test patients (lgg_cv.py)
        from lgg_cv import fold_split

        k, n = map(int, split[5:].split("/"))
        data.table["split"] = fold_split(data.table, k, n)
    elif data.table.groupby("case_id")["split"].nunique().max() > 1:
        raise SystemExit(f"{prepared}: its split is not by patient; use --split random")
    if cfg["train_patients"]:  # one draw for every seed: the patients, not the seed, change
        in_train = data.table["split"] == "train"
        cases = np.array(sorted(data.table.loc[in_train, "case_id"].unique()))
        keep = np.random.default_rng(0).permutation(cases)[:round(cfg["train_patients"]
                                                                  * len(cases))]
        dropped = in_train & ~data.table["case_id"].isin(keep)
        data.table.loc[dropped, "split"] = "unused"
    if cfg["normalise"] == "per_volume":  # as prepare would store them
        from segstudy.data.prepare import normalisation
        from segstudy.data.prepared import standardise_volumes

        data.images = standardise_volumes(np.asarray(data.images), data.table["case_id"])
        data.norm = normalisation(data.images, data.table["split"].to_numpy() == "train",
                                  "per_volume")
    elif cfg["normalise"]:
        data.norm = {"mode": cfg["normalise"]}
    if cfg["context"]:
        from segstudy.data.context import with_context

        data.images = with_context(data.images, data.table["case_id"].to_numpy(),
                                   np.arange(len(data.table)), cfg["context"])
    masks = np.asarray(data.masks) > 0
    has_tumour = masks.reshape(len(masks), -1).any(axis=1)
    train = positive_sampled(data.indices("train"), has_tumour, cfg["tumour_share"])
    val = data.indices("val")
    val_table = data.table.iloc[val].reset_index(drop=True)
    rng = mask_range(MODEL["output_activation"])
    batch_cls = TrainBatches if cfg["intensity"] is None else jittered(TrainBatches,
                                                                        cfg["intensity"])
    if cfg["channel_drop"]:
        batch_cls = channel_dropped(batch_cls, cfg["channel_drop"])
    batches = batch_cls(data, train, rng, cfg["batch"], {**AUGMENT, **cfg["augment"]}, seed,
                        workers=4)
    steps = len(batches) * epochs
    lr = (keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=cfg["lr"],
                                                 warmup_steps=len(batches))
          if cfg["cosine"] else cfg["lr"])
    model = build_unet(in_channels=data.channels, base_filters=cfg["base_filters"],
                       **{**MODEL, **cfg["model"]})
    optimizer = keras.optimizers.Adam(lr, use_ema=cfg["ema"] is not None,
                                      ema_momentum=cfg["ema"] or 0.99)
    if cfg["ema"] is not None:
        # fit() ends by writing the averages into the model; this probe calls fit once per
        # epoch, so keep the raw weights training and swap the averages in to score them
        optimizer.finalize_variable_values = lambda var_list: None
    model.compile(optimizer, loss=probe_loss(cfg["loss"], rng))
    val_x = np.asarray(data.images[val])
    history, best, best_weights = [], -1.0, None
    t0 = time.time()
    for epoch in range(epochs):
        if epoch == switch:  # the same optimizer: its moments and the schedule go on
            model.compile(optimizer, loss=probe_loss(cfg["finetune"]["loss"], rng))
        fit = model.fit(batches, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        if cfg["ema"] is not None:
            swap_ema(optimizer)  # the averages in: scored, and kept if best
        prob = predict_masks(model, val_x, data.norm, batch_size=64)
        row = {"epoch": epoch + 1, "loss": round(float(fit.history["loss"][-1]), 5),
               "seconds": round(time.time() - t0, 1), **scores(val_table, prob, masks[val])}
        history.append(row)
        _append(out, {"kind": "epoch", "variant": variant, "seed": seed, **row})
        print(variant, seed, row, flush=True)
        if row["dice_per_patient"] > best:
            best, best_weights = row["dice_per_patient"], model.get_weights()
        if cfg["ema"] is not None:
            swap_ema(optimizer)  # the raw weights back for the next epoch
    if select == "best":  # "last": no choice made on the val patients (cross-validation)
        model.set_weights(best_weights)
    prob = predict_masks(model, val_x, data.norm, batch_size=64)
    flipped = predict_masks(model, val_x[:, :, ::-1], data.norm, batch_size=64)[:, :, ::-1]
    tta = (prob + flipped) / 2
    if save_maps:
        save_val_maps(save_maps, model, val_x, data.norm, val_table, prob, tta)
    best_row = (max(history, key=lambda r: r["dice_per_patient"]) if select == "best"
                else history[-1])
    return {"kind": "final", "variant": variant, "seed": seed, "cfg": cfg, "split": split,
            "select": select,
            "backend": keras.backend.backend(), "train_slices_per_epoch": len(train),
            "precision": policy, "cpu": cpu_summary(),
            "val_patients": int(val_table["case_id"].nunique()),
            "best_epoch": best_row["epoch"], "best": best_row,
            "post": {f"min{k}": scores(val_table, prob, masks[val], k) for k in MIN_COMPONENT},
            "post_tta": {f"min{k}": scores(val_table, tta, masks[val], k)
                         for k in MIN_COMPONENT},
            "history": history, "wall_s": round(time.time() - t0, 1),
            **({} if score_at is None else {"at_reference": _at_reference(
                score_at, val_table, {"plain": prob, "tta": tta})})}


def save_val_maps(path: str, model, val_x: np.ndarray, norm, val_table, prob: np.ndarray,
                  tta: np.ndarray) -> None:
    """The val maps at the input size (0..255, rows as in ``val_table``): ``prob``, the
    left-right average ``tta``, ``tta4`` the average over the four flips training draws; and
    the weights (``<path stem>.weights.h5``), for inference-only probes of the same model."""
    from segstudy.inference import predict_masks

    upside, turned = (np.flip(predict_masks(model, np.ascontiguousarray(np.flip(val_x, axes)),
                                            norm, batch_size=64), axes) for axes in ((1,), (1, 2)))
    tta4 = (2 * tta + upside + turned) / 4
    np.savez_compressed(path, sample_id=val_table["sample_id"].to_numpy(),
                        case_id=val_table["case_id"].to_numpy(),
                        **{k: np.round(v * 255).astype(np.uint8)
                           for k, v in (("prob", prob), ("tta", tta), ("tta4", tta4))})
    model.save_weights(str(Path(path).with_suffix(".weights.h5")))


def _at_reference(folder: str, val_table, probs: dict) -> dict:
    """Scores of the val maps resized (bilinear, as ``predict`` resizes its output) to the
    slices of another prepared folder of the same scans, e.g. at 256²: so that models trained
    at different input sizes are compared on one grid."""
    import cv2

    from segstudy.data.prepared import Prepared

    ref = Prepared(folder)
    row_of = dict(zip(ref.table["sample_id"], range(len(ref.table)), strict=True))
    truth = np.asarray(ref.masks)[val_table["sample_id"].map(row_of).to_numpy()] > 0
    h, w = truth.shape[1:3]
    out = {}
    for name, prob in probs.items():
        big = np.stack([cv2.resize(p.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
                        for p in prob])
        out[name] = {f"min{k}": scores(val_table, big, truth, k * (h * w) // prob[0].size)
                     for k in (0, 25)}
    return {"size": h, **out}


def _append(path: str, record: dict) -> None:
    """One JSON line; runs in parallel append to one file (a line per write)."""
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--val-patients", type=int, default=10)
    ap.add_argument("--split", default="random",
                    help="random: --val-patients drawn from all (test included); prepared: the "
                         "folder's own patient split (its test patients never read); fold:K/N: "
                         "fold K of N over the folder's non-test patients (lgg_cv.py)")
    ap.add_argument("--select", default="best", choices=["best", "last"],
                    help="the epoch scored at the end: best val Dice per patient, or the last")
    ap.add_argument("--save-maps", help="write the final val maps to this .npz")
    ap.add_argument("--parallel", type=int, default=1, help="processes at once")
    ap.add_argument("--precision", default="auto", choices=["auto", "float32", "mixed_bfloat16"])
    ap.add_argument("--score-at", help="also score the best epoch's val maps resized to this "
                    "prepared folder's slices (same scans, another size, e.g. 256²)")
    ap.add_argument("--one", nargs=2, metavar=("VARIANT", "SEED"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        _append(a.out, run_one(a.prepared, a.one[0], int(a.one[1]), a.epochs, a.val_patients,
                               a.out, a.precision, a.split, a.score_at, a.select, a.save_maps))
        return
    jobs = [(v, s) for v in a.variants for s in a.seeds]
    running: list[subprocess.Popen] = []
    for v, s in jobs:
        while len(running) >= a.parallel:
            running = [p for p in running if p.poll() is None]
            time.sleep(1)
        running.append(subprocess.Popen(
            [sys.executable, __file__, "--prepared", a.prepared, "--out", a.out, "--epochs",
             str(a.epochs), "--val-patients", str(a.val_patients), "--precision", a.precision,
             "--split", a.split, "--select", a.select,
             *(["--score-at", a.score_at] if a.score_at else []),
             *(["--save-maps", a.save_maps] if a.save_maps else []),
             "--one", v, str(s)],
            env=os.environ))
    for p in running:
        p.wait()


if __name__ == "__main__":
    main()
