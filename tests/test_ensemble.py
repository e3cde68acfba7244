"""A recipe's published model as the average of its seeds: the mean of the members' outputs,
saved as one model that loads in safe mode, with its own post-processing and Tumour rule."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from segstudy.data.prepare import prepare
from segstudy.models.unet import build_unet
from segstudy.training.ensemble import average, publish_ensemble
from segstudy.training.seeds import train_seeds
from tests.conftest import TINY_UNET, write_lgg


def _members(n: int = 2) -> list[keras.Model]:
    out = []
    for seed in range(n):
        keras.utils.set_random_seed(seed)
        out.append(build_unet(3, **TINY_UNET, name="unet"))  # the same name, as on disk
    return out


def test_an_ensemble_outputs_the_mean_of_its_members():
    members = _members(3)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    want = np.mean([keras.ops.convert_to_numpy(m(x)) for m in members], axis=0)
    got = keras.ops.convert_to_numpy(average(members)(x))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_evaluate_scores_an_ensemble_from_its_seeds_outputs_as_the_ensemble_computes_them():
    from segstudy.evaluate import mean_of_seeds

    members = _members(3)
    x = np.random.default_rng(1).normal(size=(2, 16, 16, 3)).astype("float32")
    outputs = [keras.ops.convert_to_numpy(m(x))[..., 0] for m in members]
    published = keras.ops.convert_to_numpy(average(members)(x))[..., 0]
    np.testing.assert_allclose(mean_of_seeds(outputs), published, rtol=1e-5, atol=1e-6)
    assert not np.allclose(mean_of_seeds(outputs), outputs[0], atol=1e-4)  # not one seed


def test_a_published_ensemble_loads_in_safe_mode_with_its_own_tumour_rule(tmp_path: Path):
    raw = write_lgg(tmp_path / "raw", cases=4, slices=6).parent
    prepared = tmp_path / "prepared"
    prepare("lgg", raw, prepared, {"resize_to": None, "normalise": "per_channel",
                                   "split": {"by": "slice", "counts": [12, 6, 6]}}, seed=1)
    paths = []
    for i, model in enumerate(_members(2)):
        paths.append(tmp_path / f"seed{i}.keras")
        model.save(paths[-1])
    out = tmp_path / "strong.keras"
    fields = publish_ensemble(paths, out, prepared, (0.0, 1.0), None, 0.9, "choose", "lgg")
    assert fields["ensemble_of"] == ["seed0", "seed1"]
    assert fields["decision"]["chosen_on"] == "val" and fields["postprocess"]["chosen_on"] == "val"
    loaded = keras.models.load_model(out, safe_mode=True, compile=False)
    x = np.random.default_rng(1).normal(size=(1, 32, 32, 3)).astype("float32")
    members = [keras.models.load_model(p, safe_mode=True, compile=False) for p in paths]
    want = np.mean([keras.ops.convert_to_numpy(m(x)) for m in members], axis=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), want, rtol=1e-5,
                               atol=1e-6)


def test_with_an_ensemble_the_published_model_is_the_average_not_the_first_seed(tmp_path: Path):
    def one(seed: int, out: Path) -> dict:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(f"model {seed}".encode())
        return {"seed": seed, "best_epoch": 1, "best_val_iou": 0.5, "wall_seconds_this_run": 1.0,
                "decision": {"min_area": 5}}

    def ensemble(seed_models: list[Path], out: Path) -> dict:
        out.write_bytes(b"+".join(p.read_bytes() for p in seed_models))
        return {"decision": {"min_area": 9}, "ensemble_of": [p.stem for p in seed_models]}

    primary = tmp_path / "models" / "strong.keras"
    summary = train_seeds([7, 8], primary, one, ensemble)
    assert primary.read_bytes() == b"model 7+model 8"
    assert summary["decision"] == {"min_area": 9} and summary["ensemble_of"] == ["seed7", "seed8"]
    assert [s["seed"] for s in summary["seeds"]] == [7, 8]
