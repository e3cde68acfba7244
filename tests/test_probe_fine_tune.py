"""benchmarks/lgg_recipe_probe.py: a variant's fine-tuning loss takes over its last epochs."""

import numpy as np
import pytest

from tests.conftest import load_benchmark as _load

lgg_variants = _load("lgg_variants")  # before the probe, which imports it
probe = _load("lgg_recipe_probe")


def test_a_fine_tune_loss_takes_over_the_last_k_epochs() -> None:
    assert probe.fine_tune_from(None, 8) is None
    assert probe.fine_tune_from({"loss": "bce_lovasz", "epochs": 3}, 8) == 5
    assert probe.fine_tune_from({"loss": "bce_lovasz", "epochs": 0}, 8) is None
    with pytest.raises(SystemExit, match=r"finetune\.epochs: the last 8 of 8 epochs leave none"):
        probe.fine_tune_from({"loss": "bce_lovasz", "epochs": 8}, 8)


def test_every_fine_tune_variant_names_a_loss_the_probe_knows() -> None:
    tuned = {n: c["finetune"] for n, c in lgg_variants.VARIANTS.items() if c.get("finetune")}
    assert tuned  # the fine-tuning variants under test exist
    for finetune in tuned.values():  # the probe's own check, as run_one makes it
        assert probe.fine_tune_from(finetune, 8) == 8 - finetune["epochs"]
    with pytest.raises(SystemExit, match="finetune loss 'lovasz'"):
        probe.fine_tune_from({"loss": "lovasz", "epochs": 3}, 8)


def test_recompiling_with_the_same_optimizer_keeps_its_steps_and_changes_the_loss() -> None:
    """What the probe's switch relies on: the schedule and Adam's moments go on."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    optimizer = keras.optimizers.Adam(1e-2)
    x = np.random.default_rng(0).random((8, 4)).astype(np.float32)
    y = (x[:, :1] > 0.5).astype(np.float32)
    model.compile(optimizer, loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    moments = [np.array(v) for v in optimizer.variables]
    model.compile(optimizer, loss="binary_crossentropy")
    assert int(optimizer.iterations) == 2
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(moments, optimizer.variables,
                                                                strict=True))
    loss = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][-1]
    assert int(optimizer.iterations) == 3
    expected = float(keras.losses.binary_crossentropy(y, model.predict(x, verbose=0)).numpy()
                     .mean())
    assert loss == pytest.approx(expected, abs=0.05)  # one step's change, not the MSE's value


def test_saved_val_maps_average_the_four_flips_training_draws_and_keep_the_weights(tmp_path):
    import keras
    import pandas as pd

    from segstudy.inference import predict_masks

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, None, 1)),
                              keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 1), dtype=np.uint8)
    norm = {"mode": "range", "mean": [127.5], "std": [127.5]}
    table = pd.DataFrame({"sample_id": ["a", "b", "c"], "case_id": ["P", "P", "Q"]})

    def flipped(ax: tuple[int, ...]) -> np.ndarray:
        return np.flip(predict_masks(model, np.ascontiguousarray(np.flip(images, ax)), norm),
                       ax)

    prob = predict_masks(model, images, norm)
    tta = (prob + flipped((2,))) / 2
    probe.save_val_maps(str(tmp_path / "fold0.npz"), model, images, norm, table, prob, tta)
    saved = np.load(tmp_path / "fold0.npz", allow_pickle=True)
    four = (prob + flipped((2,)) + flipped((1,)) + flipped((1, 2))) / 4
    assert np.abs(saved["tta4"] / 255 - four).max() <= 0.5 / 255 + 1e-6
    assert np.abs(four - tta).max() > 2 / 255  # the up-down passes counted
    assert list(saved["sample_id"]) == ["a", "b", "c"]
    clone = keras.models.clone_model(model)
    clone.load_weights(str(tmp_path / "fold0.weights.h5"))
    np.testing.assert_allclose(predict_masks(clone, images, norm), prob, atol=1e-6)
