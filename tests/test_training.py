"""U-Net training: a killed run resumes from its last epoch; outputs load and predict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from segstudy.data.prepare import prepare
from tests.conftest import ROOT, write_lgg

TINY_MODEL = {"base_filters": 2, "depth": 2, "convs_per_block": 1, "batchnorm": True,
              "head": "conv_bn_lrelu", "dropout": 0.0, "leaky_alpha": 0.01,
              "output_activation": "sigmoid"}
TINY_TRAIN = {"loss": "mse", "learning_rate": 0.001, "batch_size": 4, "epochs": 6,
              "steps_per_epoch": 30, "tile": None, "precision": "float32",
              "schedule": "constant", "positive_share": None, "select_on": "iou",
              "augment": {"flip": True, "rot90": False, "elastic": False, "affine": True,
                          "affine_degrees": 10.0, "affine_scale": 0.05}}


# The first epoch includes TensorFlow's start-up: 60-90 s on a quiet 2-core machine here, and
# over 5 min beside a training study.
FIRST_EPOCH_WAIT_S = 900


def _project(tmp_path: Path) -> Path:
    """A project folder with a prepared tiny LGG set and a params.yaml for it."""
    proj = tmp_path / "proj"
    raw = write_lgg(proj / "data" / "raw" / "lgg", cases=4, slices=6).parent
    prep_cfg = {"resize_to": None, "normalise": "per_channel",
                "split": {"by": "slice", "counts": [16, 4, 4]}}
    prepare("lgg", raw, proj / "data" / "prepared" / "lgg", prep_cfg, seed=1)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())  # complete: stages check it
    params.update(seed=1, datasets=["lgg"])
    params["prepare"]["lgg"], params["model"]["lgg"] = prep_cfg, TINY_MODEL
    params["train"]["lgg"] = {**TINY_TRAIN, "seeds": [1]}
    params["evaluate"]["empty_iou"] = 1.0
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    return proj


def _stage(proj: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, str(ROOT / "stages" / "train_unet.py"), "lgg"],
                            cwd=proj, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_killed_training_resumes_from_its_last_epoch(tmp_path: Path):
    proj = _project(tmp_path)
    proc = _stage(proj)
    deadline = time.time() + FIRST_EPOCH_WAIT_S
    meta = None
    while time.time() < deadline and proc.poll() is None:
        found = list((proj / ".resume").glob("lgg-unet-*/backup/training_metadata.json"))
        if found and json.loads(found[0].read_text() or "{}").get("epoch", 0) >= 1:
            meta = found[0]
            break
        time.sleep(0.02)
    if meta is None:
        if proc.poll() is None:
            proc.kill()
            pytest.fail(f"no epoch finished within {FIRST_EPOCH_WAIT_S} s (machine overloaded?)")
        pytest.fail("training ended before it could be killed: " + proc.stdout.read())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (proj / "models" / "lgg" / "unet.keras").exists()

    rerun = _stage(proj)
    out, _ = rerun.communicate(timeout=1200)
    assert rerun.returncode == 0, out
    summary = json.loads((proj / "models" / "lgg" / "unet.json").read_text())
    assert 1 <= summary["resumed_from_epoch"] < TINY_TRAIN["epochs"]
    assert not list((proj / ".resume").glob("lgg-unet-*")), "resume state is removed at the end"
    curve = (proj / "plots/lgg/unet/seed1/plots/metrics/loss.tsv").read_text()
    assert len(curve.strip().splitlines()) == 1 + TINY_TRAIN["epochs"], "curve keeps every epoch"

    model = keras.models.load_model(proj / "models" / "lgg" / "unet.keras", safe_mode=True)
    pred = model(np.zeros((1, 32, 32, 3), "float32"))
    assert pred.shape == (1, 32, 32, 1)


@pytest.mark.parametrize("precision", ["float32", "auto"])
def test_same_seed_and_params_give_the_same_weights(tmp_path: Path, precision: str):
    """CPU determinism: two runs with one seed end in the same weights (to float tolerance),
    under float32 and under what ``auto`` picks on this machine (bf16 where it has bf16
    units)."""
    from segstudy.training.fit import train_unet

    proj = _project(tmp_path)
    cfg = {**TINY_TRAIN, "epochs": 2, "steps_per_epoch": 4, "precision": precision}
    weights = []
    for run in ("a", "b"):
        train_unet("lgg", proj / "data/prepared/lgg", TINY_MODEL, cfg, seed=3,
                   out_model=tmp_path / run / "unet.keras", live_dir=tmp_path / run / "live",
                   resume_root=tmp_path / run / "resume", empty_iou=1.0)
        model = keras.models.load_model(tmp_path / run / "unet.keras")
        weights.append(model.get_weights())
    for wa, wb in zip(*weights, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_nan_loss_stops_training_with_a_clear_error(tmp_path: Path):

    from segstudy import SegstudyError
    from segstudy.training.fit import train_unet

    proj = _project(tmp_path)
    cfg = {**TINY_TRAIN, "epochs": 3, "steps_per_epoch": 3, "learning_rate": 1e30}
    with pytest.raises(SegstudyError, match=r"train\.lgg: loss became NaN/inf.*learning_rate"):
        train_unet("lgg", proj / "data/prepared/lgg", TINY_MODEL, cfg, seed=1,
                   out_model=tmp_path / "out" / "unet.keras", live_dir=tmp_path / "live",
                   resume_root=tmp_path / "resume", empty_iou=1.0)
    assert not (tmp_path / "out" / "unet.keras").exists()


def test_fine_tune_holds_its_start_during_the_hold_and_selects_only_later_epochs(tmp_path: Path):
    """The control run: from a trained model, lr 0 for ``hold_steps``; epochs inside the hold
    are never kept, so the published model is never the unchanged start."""
    from segstudy.training.fit import first_selectable_epoch, train_unet

    proj = _project(tmp_path)
    cfg = {**TINY_TRAIN, "epochs": 3, "steps_per_epoch": 4}
    start = train_unet("lgg", proj / "data/prepared/lgg", TINY_MODEL, cfg, seed=2,
                       out_model=tmp_path / "start.keras", live_dir=tmp_path / "live0",
                       resume_root=tmp_path / "resume", empty_iou=1.0)
    assert start["first_selectable_epoch"] == 1
    tuned = train_unet("lgg", proj / "data/prepared/lgg", TINY_MODEL,
                       {**cfg, "loss": "soft_iou"}, seed=2, out_model=tmp_path / "ft.keras",
                       live_dir=tmp_path / "live1", resume_root=tmp_path / "resume", empty_iou=1.0,
                       name="control", init_model=tmp_path / "start.keras", hold_steps=5)
    assert first_selectable_epoch(5, 4) == 2 and tuned["first_selectable_epoch"] == 2
    assert tuned["best_epoch"] >= 2
    a = keras.models.load_model(tmp_path / "start.keras").get_weights()
    b = keras.models.load_model(tmp_path / "ft.keras").get_weights()
    assert any(not np.allclose(x, y) for x, y in zip(a, b, strict=True)), "it trained"


def test_a_multi_seed_stage_killed_after_one_seed_does_not_retrain_it(tmp_path: Path):
    from segstudy.training.seeds import train_seeds

    calls: list[int] = []

    def one(seed: int, out: Path) -> dict:
        state = tmp_path / "resume" / f"s{seed}"
        if not (state / "done").is_file():  # what train_unet's final.json does
            calls.append(seed)
            state.mkdir(parents=True)
            (state / "done").write_text("")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(f"model {seed}".encode())
        return {"seed": seed, "best_epoch": 1, "best_val_iou": 0.5,
                "wall_seconds_this_run": 1.0, "_state": str(state)}

    def crash_on_second(seed: int, out: Path) -> dict:
        if seed == 8:
            raise KeyboardInterrupt
        return one(seed, out)

    primary = tmp_path / "models" / "unet.keras"

    with pytest.raises(KeyboardInterrupt):
        train_seeds([7, 8], primary, crash_on_second)
    summary = train_seeds([7, 8], primary, one)
    assert calls == [7, 8], "seed 7 was not trained twice"
    assert primary.read_bytes() == b"model 7"
    assert [s["seed"] for s in summary["seeds"]] == [7, 8]
    assert not list((tmp_path / "resume").iterdir()), "states removed once all seeds are done"


@pytest.mark.parametrize("kill_after", ["history", "curve"])
def test_curves_have_one_row_per_epoch_wherever_a_kill_fell(tmp_path: Path, kill_after: str):
    """A kill between the history write and the backup (the backup still says 2 epochs), or
    after both: the resumed curve is rebuilt from the history, header and rows complete."""
    from segstudy.training.callbacks import LiveLogger

    live, history = tmp_path / "live", tmp_path / "state" / "curves.json"
    first = LiveLogger(live, history, start_epoch=0)
    for epoch in range(3):
        first.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "val_iou": 0.1 * epoch})
    # the process dies here: no on_train_end; dvclive's own files may be in any state
    tsv = live / "plots" / "metrics" / "loss.tsv"
    if kill_after == "history":
        tsv.write_text("")  # the curve write never happened (the flaky test's symptom)
    backup_epochs = 2 if kill_after == "history" else 3
    resumed = LiveLogger(live, history, start_epoch=backup_epochs)
    for epoch in range(backup_epochs, 5):
        resumed.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "val_iou": 0.1 * epoch})
    resumed.on_train_end()
    rows = tsv.read_text().strip().splitlines()
    assert rows[0].split("\t")[-1] == "loss", "header kept"
    assert [int(r.split("\t")[0]) for r in rows[1:]] == [0, 1, 2, 3, 4]
