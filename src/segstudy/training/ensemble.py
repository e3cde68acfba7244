"""A recipe's published model as the average of its seeds (``train.<ds>.ensemble: true``).

Each seed is trained, selected and saved exactly as without this setting
(``<name>-seeds/seed<S>.keras``); the published ``<name>.keras`` is then one Keras model whose
output is the mean of the seeds' outputs (the same probability scale, so every later step,
post-processing, the Tumour rule, ``predict``, reads it as any other model), and its sidecar's
post-processing and Tumour rule are chosen on validation for that average
(``segstudy.training.card``), as they would be for one model. Averaging the outputs of
independently trained networks lowers the variance of the prediction (Lakshminarayanan et al.
2017, "deep ensembles"); the price is one training and one inference pass per seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from segstudy.data.prepared import Prepared
from segstudy.io import atomic_path
from segstudy.training.card import model_card


def average(models: Sequence[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model whose output is the mean of ``models``' outputs (they share an input shape)."""
    if not models:
        raise ValueError("an ensemble needs at least one model")
    inp = keras.Input(shape=models[0].input_shape[1:], name="image")
    members = [keras.Model(m.inputs[0], m.outputs[0], name=f"member{i}")
               for i, m in enumerate(models)]
    outs = [m(inp) for m in members]
    out = outs[0] if len(outs) == 1 else keras.layers.Average(name="mean", dtype="float32")(outs)
    return keras.Model(inp, out, name=name)


def publish_ensemble(seed_models: Sequence[Path], out: Path, prepared: str | Path,
                     rng_range: tuple[float, float], tile: int | None,
                     recall_floor: float | None, postprocess: str | Mapping[str, Any],
                     dataset: str) -> dict[str, Any]:
    """Write the average of ``seed_models`` to ``out``; return the sidecar fields that belong to
    the published model (its card, the members, the parameter count)."""
    keras.mixed_precision.set_global_policy("float32")
    model = average([keras.models.load_model(p, safe_mode=True, compile=False)
                     for p in seed_models])
    with atomic_path(out) as tmp:
        model.save(tmp)
    card = model_card(model, Prepared(prepared), rng_range, tile, recall_floor, postprocess,
                      dataset)
    return {**card, "ensemble_of": [p.stem for p in seed_models],
            "params": int(model.count_params())}
