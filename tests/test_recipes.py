"""Recipes as params: ``strong`` is the paper's sections with its own changes merged in, checked
at the door, and its training ingredients (cosine schedule, foreground sampling, selection on
Dice per patient) run through the study's one ``train_unet``."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from segstudy import SegstudyError
from segstudy.config import check_params
from segstudy.data.batches import positive_sampled
from segstudy.recipes import names, recipe_of_model, resolve
from tests.conftest import ROOT, TINY_UNET, write_lgg

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_the_paper_recipe_is_the_sections_themselves():
    paper = resolve(PARAMS, "lgg")
    assert paper.train == PARAMS["train"]["lgg"] and paper.model == PARAMS["model"]["lgg"]
    assert paper.model_name == "unet" and str(paper.prepared) == "data/prepared/lgg"
    assert paper.recall_floor == PARAMS["evaluate"]["lgg"]["recall_floor"]


def test_a_recipe_changes_only_what_it_lists():
    strong = resolve(PARAMS, "lgg", "strong")
    over = PARAMS["recipes"]["strong"]["lgg"]
    paper_prepare = PARAMS["prepare"]["lgg"]
    assert strong.prepare == {**paper_prepare, **over["prepare"]}  # listed keys win, rest inherited
    assert strong.train["augment"] == PARAMS["train"]["lgg"]["augment"]
    assert strong.train["loss"] == over["train"]["loss"] != PARAMS["train"]["lgg"]["loss"]
    assert strong.model_name == "strong" and str(strong.prepared) == "data/prepared/lgg-strong"
    assert names(PARAMS, "lgg") == ["paper", "strong"]
    assert recipe_of_model(PARAMS, "lgg", "gan-iou").name == "paper"
    assert recipe_of_model(PARAMS, "lgg", "strong").name == "strong"


def test_an_undefined_recipe_is_refused_with_its_name():
    with pytest.raises(SegstudyError, match=r"recipes\.wild\.isbi2012: not defined"):
        resolve(PARAMS, "isbi2012", "wild")


@pytest.mark.parametrize(("patch", "message"), [
    ({"train": {"loss": "hinge"}}, r"recipes\.strong\.lgg\.train\.loss"),
    ({"train": {"positive_share": 1.0}}, r"recipes\.strong\.lgg\.train\.positive_share"),
    ({"optimiser": "sgd"}, r"recipes\.strong\.lgg\.optimiser: unknown setting"),
    ({"recall_floor": 2}, r"recipes\.strong\.lgg\.recall_floor"),
])
def test_a_bad_recipe_value_is_refused_at_the_door(patch, message):
    params = copy.deepcopy(PARAMS)
    params["recipes"]["strong"]["lgg"].update(patch)
    with pytest.raises(SegstudyError, match=message):
        check_params(params)


def test_foreground_sampling_makes_tumour_slices_the_asked_share():
    positive = np.array([True] * 10 + [False] * 40)
    idx = positive_sampled(np.arange(50), positive, 0.5)
    assert (~positive[idx]).sum() == 40 and positive[idx].sum() == 40  # each tumour slice 4×
    assert positive_sampled(np.arange(50), positive, None).tolist() == list(range(50))


def test_the_strong_ingredients_train_and_select_on_dice_per_patient(tmp_path: Path):
    from segstudy.data.prepare import prepare
    from segstudy.training.fit import train_unet

    raw = write_lgg(tmp_path / "raw", cases=5, slices=6).parent
    prep = {"resize_to": None, "normalise": "per_channel",
            "split": {"by": "patient", "counts": [60, 20, 20]}}
    prepare("lgg", raw, tmp_path / "prepared", prep, seed=1)
    cfg = {**resolve(PARAMS, "lgg", "strong").train, "epochs": 2, "batch_size": 4,
           "precision": "float32", "finetune": {"loss": "bce_lovasz", "epochs": 1}}
    cfg.pop("seeds")
    summary = train_unet("lgg", tmp_path / "prepared", TINY_UNET, cfg, seed=1,
                         out_model=tmp_path / "m" / "strong.keras", live_dir=tmp_path / "live",
                         resume_root=tmp_path / "resume", empty_iou=1.0, name="strong",
                         recall_floor=0.95, postprocess="choose")
    sidecar = json.loads((tmp_path / "m" / "strong.json").read_text())
    assert sidecar["selected_on"] == "val_dice_per_patient"
    assert sidecar["finetune"] == {"loss": "bce_lovasz", "epochs": 1}  # its last epoch ran on it
    assert 0.0 <= summary["best_val_score"] <= 1.0 and summary["best_val_iou"] is not None
    assert sidecar["decision"]["recall_floor"] == 0.95
    post = sidecar["postprocess"]
    assert post["chosen_on"] == "val" and len(post["tried"]) >= 3
    plain = post["tried"]["tta_flip=False,min_component=0,largest_3d=False"]
    assert post["val_dice_per_patient"] >= plain, "a step is kept only where it helps"
    curve = tmp_path / "live" / "plots" / "metrics" / "val_dice_per_patient.tsv"
    assert len(curve.read_text().splitlines()) == 1 + 2  # header + one row per epoch


def test_the_strong_isbi_recipe_chooses_its_cell_steps_by_rand_error(tmp_path: Path):
    from segstudy.data.prepare import prepare
    from segstudy.training.fit import train_unet
    from tests.conftest import write_isbi

    raw = write_isbi(tmp_path / "raw")  # the challenge's shape: 30 × 512²
    prep = {"normalise": "range", "split": {"rule": "contiguous", "counts": [26, 2, 2]}}
    prepare("isbi2012", raw, tmp_path / "prepared", prep, seed=1)
    strong = resolve(PARAMS, "isbi2012", "strong")
    cfg = {**strong.train, "epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "tile": 32,
           "precision": "float32"}
    cfg.pop("seeds")
    model = {**strong.model, "base_filters": 2, "depth": 2}
    train_unet("isbi2012", tmp_path / "prepared", model, cfg, seed=1,
               out_model=tmp_path / "m" / "strong.keras", live_dir=tmp_path / "live",
               resume_root=tmp_path / "resume", empty_iou=1.0, name="strong",
               postprocess=strong.postprocess)
    post = json.loads((tmp_path / "m" / "strong.json").read_text())["postprocess"]
    assert post["chosen_on"] == "val" and 0.0 <= post["val_rand_error"] <= 1.0
    plain = post["tried"]["tta_dihedral=False,thin=False,threshold=0.5,min_cell=0,watershed_h=0.0"]
    assert post["val_rand_error"] <= plain, "a step is kept only where it helps"


def test_the_fair_gan_recipe_changes_only_what_gan_fair_lists():
    from segstudy.recipes import gan_config, gan_model_name

    paper, fair = (gan_config(PARAMS, "isbi2012", "vrand", r) for r in ("paper", "fair"))
    over = PARAMS["gan"]["fair"]
    assert paper["replay"]["fraction"] == 0 and fair["replay"] == over["replay"]
    assert fair["discriminator"]["spectral_norm"] and not paper["discriminator"]["spectral_norm"]
    assert fair["discriminator"]["base_filters"] == paper["discriminator"]["base_filters"]
    assert fair["g_learning_rate"] == paper["g_learning_rate"]  # the schedule, inherited
    assert fair["epochs"] == over["isbi2012"]["epochs"] and fair["metric"] == "vrand"
    assert gan_model_name("iou") == "gan-iou" and gan_model_name("iou", "fair") == "gan-fair-iou"


@pytest.mark.parametrize("key, value, message", [
    ("d_steps", 0, "gan.fair.d_steps: expected a positive integer"),
    ("replay", {"fraction": 2, "capacity": 8, "batch": 4}, "gan.fair.replay.fraction"),
    ("bogus", 1, "gan.fair.bogus: unknown setting"),
])
def test_a_bad_fair_gan_setting_is_refused_naming_its_key(key, value, message):
    params = copy.deepcopy(PARAMS)
    params["gan"]["fair"][key] = value
    with pytest.raises(SegstudyError, match=message):
        check_params(params)


def test_the_fair_report_says_when_the_replay_set_is_off():
    from segstudy.report.fair_gan import replay_phrase

    on = replay_phrase({"fraction": 0.2, "capacity": 256, "batch": 4})
    assert "256 past outputs" in on and "4 of them" in on
    assert replay_phrase({"fraction": 0.0, "capacity": 256, "batch": 4}).startswith("no replay")
    assert replay_phrase({"fraction": 0.2, "capacity": 0, "batch": 4}).startswith("no replay")
