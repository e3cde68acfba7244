"""Several seeds of one training configuration, and the model the tables use.

Seed ``s`` of a configuration goes to ``<name>-seeds/seed<s>.keras`` (+ ``.json``, and for a GAN
``.discriminator.keras``); the first seed is also published as ``<name>.keras`` (or, for a
recipe with ``ensemble: true``, the average of all seeds: ``segstudy.training.ensemble``) with
a summary listing every seed, so single-model consumers (Tables 1 and 2, ``predict``) keep one
path.
Each finished seed's state stays under ``.resume`` until all are done: a killed stage, rerun,
retrains only the seeds it had not finished.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from segstudy import SegstudyError, layout
from segstudy.data.prepared import Prepared
from segstudy.io import atomic_path, write_json

SEED_FIELDS = ("seed", "best_epoch", "best_val_iou", "best_val_score", "final_val_d_error",
               "best_epoch_val_d_error", "wall_seconds_this_run", "resumed_from_epoch",
               "train_images_per_second")


def check_seeds(seeds: Sequence[Any], where: str) -> list[int]:
    if not isinstance(seeds, list | tuple) or not seeds:
        raise SegstudyError(f"params.yaml: {where} must be a non-empty list of integers")
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise SegstudyError(f"params.yaml: {where}={seeds!r} must be integers") from None
    if len(set(out)) != len(out):
        raise SegstudyError(f"params.yaml: {where}={out} repeats a seed")
    return out


Ensemble = Callable[[list[Path], Path], dict[str, Any]]


def train_seeds(seeds: Sequence[int], primary: str | Path,
                train_one: Callable[[int, Path], dict[str, Any]],
                ensemble: Ensemble | None = None) -> dict[str, Any]:
    """Call ``train_one(seed, out_model)`` (with ``keep_state=True`` semantics: it returns a
    ``_state`` path) for every seed, publish the first as ``primary`` (or, with ``ensemble``,
    let ``ensemble(seed_models, primary)`` write the average of all and return its sidecar
    fields: ``segstudy.training.ensemble``); return the published model's summary."""
    primary = Path(primary)
    folder = layout.seeds_dir(primary)
    summaries = []
    for seed in seeds:
        summaries.append(train_one(int(seed), folder / f"seed{seed}.keras"))
    first = folder / f"seed{seeds[0]}.keras"
    own: dict[str, Any] = {}
    if ensemble is not None:
        own = ensemble([folder / f"seed{s}.keras" for s in seeds], primary)
    for src_suffix in ((".keras",) if ensemble is None else ()) + (layout.DISCRIMINATOR,):
        src = first.with_name(first.stem + src_suffix)
        if src.is_file():
            with atomic_path(primary.with_name(primary.stem + src_suffix)) as tmp:
                shutil.copyfile(src, tmp)
    states = [s.pop("_state", None) for s in summaries]
    summary = {**summaries[0], **own,
               "seeds": [{k: s.get(k) for k in SEED_FIELDS} for s in summaries],
               "wall_seconds_all_seeds": round(sum(s["wall_seconds_this_run"]
                                                   for s in summaries), 1)}
    write_json(primary.with_suffix(".json"), summary)
    for state in states:
        if state:
            shutil.rmtree(state, ignore_errors=True)
    return summary


def seeded_stage(dataset: str, name: str, seeds: Sequence[int], prepared: str | Path,
                 trainer: Callable[[], Callable[[int, Path], dict[str, Any]]],
                 ensemble: Ensemble | None = None) -> dict[str, Any]:
    """The skeleton every training stage shares (``stages/train_*.py``): the prepared data is
    checked before TensorFlow starts (``trainer()`` imports it and returns ``train_one(seed,
    out_model)``), every seed is trained and the first published as ``layout.model(dataset,
    name)`` (``train_seeds``; ``ensemble``: the average of all), one line per seed printed."""
    Prepared(prepared)  # no prepared data: fail now, not after TensorFlow's start-up
    summary = train_seeds(seeds, layout.model(dataset, name), trainer(), ensemble)
    for s in summary["seeds"]:
        d_error, score = s.get("final_val_d_error"), s.get("best_val_score")
        print(f"{dataset} {name} seed {s['seed']}: best val IoU {s['best_val_iou']:.4f} at "
              f"epoch {s['best_epoch']}/{summary['epochs']} (selected on "
              f"{summary['selected_on']}: {score if score is None else round(score, 4)}), "
              f"{s['wall_seconds_this_run']} s"
              + ("" if d_error is None else f", D error {d_error:.4f}"))
    return summary

