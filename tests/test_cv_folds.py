"""benchmarks/lgg_cv.py and benchmarks/isbi_cv.py: the folds of the cross-validations."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_benchmark as _load

lgg_variants = _load("lgg_variants")  # before lgg_cv, which imports it
lgg_cv, isbi_cv = _load("lgg_cv"), _load("isbi_cv")


def _lgg_table() -> pd.DataFrame:
    cases = [f"P{i:02d}" for i in range(23)]
    split = ["test"] * 3 + ["val"] * 4 + ["train"] * 16
    return pd.DataFrame([{"case_id": c, "split": s} for c, s in zip(cases, split, strict=True)
                         for _ in range(3)])


def test_lgg_folds_hold_out_every_non_test_patient_exactly_once():
    table = _lgg_table()
    held = [set(table.loc[lgg_cv.fold_split(table, k, 5) == "val", "case_id"]) for k in range(5)]
    assert sum(len(h) for h in held) == 20
    assert set().union(*held) == set(table.loc[table["split"] != "test", "case_id"])
    assert sorted(len(h) for h in held) == [4, 4, 4, 4, 4]


def test_lgg_folds_never_train_or_validate_on_test_patients():
    table = _lgg_table()
    for k in range(5):
        split = lgg_cv.fold_split(table, k, 5)
        assert (split[table["split"] == "test"] == "test").all()
        assert (split[table["split"] != "test"] != "test").all()


def test_lgg_fold_keeps_each_patients_slices_together():
    table = _lgg_table()
    split = pd.Series(lgg_cv.fold_split(table, 2, 5))
    assert split.groupby(table["case_id"]).nunique().max() == 1


def test_lgg_fold_outside_the_range_is_refused():
    with pytest.raises(SystemExit, match="fold 5 of 5"):
        lgg_cv.fold_split(_lgg_table(), 5, 5)


def test_isbi_fold_zero_is_the_published_contiguous_split():
    assert list(isbi_cv.fold_split(0)) == ["train"] * 20 + ["val"] * 4 + ["test"] * 6


def test_isbi_folds_test_every_slice_exactly_once_with_20_train_4_val():
    splits = np.stack([isbi_cv.fold_split(k) for k in range(isbi_cv.FOLDS)])
    assert ((splits == "test").sum(axis=0) == 1).all()
    for s in splits:
        assert ((s == "train").sum(), (s == "val").sum(), (s == "test").sum()) == (20, 4, 6)


def _fold_file(folder: Path, ids: list[str], value: int) -> None:
    folder.mkdir(exist_ok=True)
    maps = np.full((len(ids), 4, 4), value, dtype=np.uint8)
    np.savez(folder / "fold0.npz", sample_id=np.array(ids), prob=maps, tta=maps)


def test_lgg_cv_score_averages_the_seeds_maps_fold_by_fold(tmp_path):
    lgg_cv_score = _load("lgg_cv_score")
    _fold_file(tmp_path / "a", ["s1", "s2"], 100)
    _fold_file(tmp_path / "b", ["s1", "s2"], 200)
    _, parts = lgg_cv_score.fold_parts([str(tmp_path / "a"), str(tmp_path / "b")])
    assert np.allclose(parts[0]["tta"], 150) and np.allclose(parts[0]["prob"], 150)


def test_lgg_cv_score_carries_each_seeds_four_flip_map_only_where_every_run_saved_one(tmp_path):
    lgg_cv_score = _load("lgg_cv_score")
    _fold_file(tmp_path / "a", ["s1", "s2"], 100)
    _fold_file(tmp_path / "b", ["s1", "s2"], 200)
    with np.load(tmp_path / "b" / "fold0.npz") as old:
        np.savez(tmp_path / "b" / "fold0.npz", **old, tta4=old["tta"] // 2)
    both = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert "seed_tta4" not in lgg_cv_score.fold_parts(both)[1][0]  # a saved none
    _, parts = lgg_cv_score.fold_parts(both[1:])
    assert np.allclose(parts[0]["seed_tta4"][0], 100) and np.allclose(parts[0]["tta"], 200)


def test_lgg_cv_score_refuses_seed_folders_with_other_patients(tmp_path):
    lgg_cv_score = _load("lgg_cv_score")
    _fold_file(tmp_path / "a", ["s1", "s2"], 100)
    _fold_file(tmp_path / "b", ["s1", "s3"], 100)
    with pytest.raises(SystemExit, match=r"fold0\.npz"):
        lgg_cv_score.fold_parts([str(tmp_path / "a"), str(tmp_path / "b")])


def _final(seed: int, split: str | None, dice: dict[str, float], variant: str) -> dict:
    scores = {"dice_per_patient": float(np.mean(list(dice.values()))), "iou_tumour_slices": 0.5,
              "recall": 1.0, "precision": 1.0, "per_patient": dice}
    record = {"kind": "final", "variant": variant, "seed": seed, "best_epoch": 8,
              "wall_s": 1.0, "post": {"min0": scores}, "post_tta": {"min50": scores}}
    return record if split is None else {**record, "split": split, "select": "last"}


def test_probe_pairing_matches_cross_validation_folds_by_seed_and_split(tmp_path, capsys,
                                                                        monkeypatch):
    pair = _load("lgg_probe_pair")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    folds = {"fold:0/2": ["P1", "P2"], "fold:1/2": ["P3", "P4"]}
    a.write_text("\n".join(json.dumps(_final(42, f, {p: 0.8 for p in ps}, "new"))
                           for f, ps in folds.items()))
    b.write_text("\n".join(json.dumps(_final(42, f, {p: 0.7 for p in ps}, "old"))
                           for f, ps in folds.items()))
    monkeypatch.setattr(sys, "argv", ["pair", str(a), "new", str(b), "old", "--maps", "tta",
                                      "--min-component", "50"])
    pair.main()
    out = capsys.readouterr().out
    assert "+0.100 [+0.100, +0.100] over 4 (seed, patient) pairs" in out
    assert pair.finals(str(a), "new").keys() == {(42, "fold:0/2"), (42, "fold:1/2")}


def test_probe_pairing_reads_records_older_than_the_split_key_as_the_prepared_split(tmp_path):
    pair = _load("lgg_probe_pair")
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(_final(43, None, {"P1": 0.5}, "v")))
    assert list(pair.finals(str(old), "v")) == [(43, "prepared")]


def test_the_lgg_probes_recipe_variant_has_the_strong_recipes_params() -> None:
    from segstudy.params import load_params

    recipe = load_params(Path(__file__).parents[1] / "params.yaml")["recipes"]["strong"]["lgg"]
    variant = lgg_variants.VARIANTS[lgg_variants.RECIPE]
    assert variant["lr"] == recipe["train"]["learning_rate"]
    assert variant["loss"] == recipe["train"]["loss"]
    assert variant["tumour_share"] == recipe["train"]["positive_share"]
    assert variant["cosine"] == (recipe["train"]["schedule"] == "cosine")
    assert variant["normalise"] == recipe["prepare"]["normalise"]
    assert variant["finetune"] == recipe["train"].get("finetune")


def test_lgg_cv_smoothing_across_slices_stays_inside_each_patient_volume():
    for name in ("lgg_cv_score", "lgg_cv_more"):  # imported by lgg_cv_smooth
        _load(name)
    smooth = _load("lgg_cv_smooth")
    prob = np.zeros((5, 2, 2), np.float32)
    prob[2] = 1.0  # the last slice of patient A; patient B's first slice follows it
    cases = np.array(["A", "A", "A", "B", "B"])
    out = smooth.across_slices(prob, cases, 0.25)
    assert np.allclose(out[:, 0, 0], [0.0, 0.25, 0.75, 0.0, 0.0])  # end slice repeated
    assert np.array_equal(smooth.across_slices(prob, cases, 0.0), prob)


def _lgg_cv_pair():
    for name in ("lgg_cv_score", "lgg_cv_more"):  # imported by lgg_cv_pair
        _load(name)
    return _load("lgg_cv_pair")


def test_lgg_cv_pair_refuses_unequal_numbers_of_seed_folders():
    pair = _lgg_cv_pair()
    with pytest.raises(SystemExit, match="one per seed on each side"):
        pair.pair("unused", ["a", "b"], ["c"])


def test_lgg_cv_more_names_the_patients_whose_large_sections_are_under_drawn(capsys):
    _load("lgg_cv_score")
    more = _load("lgg_cv_more")
    d = pd.DataFrame({"case": ["A", "A", "B", "C", "D"], "area": [100, 100, 100, 100, 100],
                      "pred": [10, 20, 90, 100, 100], "iou": [0.1, 0.2, 0.9, 1.0, 1.0]})
    table = more.largest(d, worst=1)
    out = capsys.readouterr().out
    assert list(table.index[:2]) == ["A", "B"] and table.loc["A", "missing"] == 170
    assert "predicted over true 0.640" in out  # 320 / 500
    assert "without the 1 patients missing the most pixels 0.967" in out  # 290 / 300
    assert out.splitlines()[3].startswith("A ")  # A misses 170 px: first of the table


def test_lgg_cv_pair_refuses_folders_of_different_seeds_side_by_side(tmp_path):
    pair = _lgg_cv_pair()
    for name, seed in (("a42", 42), ("b43", 43)):
        (tmp_path / name).mkdir()
        rows = [{"kind": "epoch", "seed": seed}, {"kind": "final", "seed": seed}]
        (tmp_path / name / "cv.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    assert pair.seed_of(str(tmp_path / "a42")) == 42
    assert pair.seed_of(str(tmp_path / "none")) is None
    with pytest.raises(SystemExit, match="same seed order"):
        pair.pair("unused", [str(tmp_path / "a42")], [str(tmp_path / "b43")])


def test_lgg_cv_score_refuses_a_seed_folder_missing_a_fold_in_one_line(tmp_path):
    lgg_cv_score = _load("lgg_cv_score")
    _fold_file(tmp_path / "a", ["s1", "s2"], 100)
    (tmp_path / "b").mkdir()
    with pytest.raises(SystemExit, match=r"b: no fold0\.npz"):
        lgg_cv_score.fold_parts([str(tmp_path / "a"), str(tmp_path / "b")])


def _folds(folder: Path, *ks: int) -> str:
    folder.mkdir()
    for k in ks:
        (folder / f"fold{k}.npz").touch()
    return str(folder)


def test_lgg_cv_pair_loads_together_only_the_seeds_whose_runs_hold_the_same_folds(tmp_path):
    pair = _lgg_cv_pair()
    runs = ((42, (0, 1, 2)), (43, (0, 1, 2)), (44, (0,)))  # seed 44 stopped after fold 0
    a = [_folds(tmp_path / f"a{s}", *ks) for s, ks in runs]
    b = [_folds(tmp_path / f"b{s}", *ks) for s, ks in runs]
    assert pair.fold_groups(a, b) == [[0, 1], [2]]


def test_lgg_cv_pair_refuses_a_seed_whose_two_runs_hold_other_folds(tmp_path):
    pair = _lgg_cv_pair()
    a, b = _folds(tmp_path / "a", 0, 1), _folds(tmp_path / "b", 0)
    with pytest.raises(SystemExit, match=r"fold0\.npz, fold1\.npz, .* fold0\.npz: pair runs over"):
        pair.fold_groups([a], [b])


def _lgg_cv_levels():
    for name in ("lgg_cv_score", "lgg_cv_more"):  # imported by lgg_cv_levels
        _load(name)
    return _load("lgg_cv_levels")


def test_lgg_cv_levels_at_the_published_levels_is_the_published_mask():
    levels, more = _lgg_cv_levels(), _load("lgg_cv_more")
    rng = np.random.default_rng(0)
    prob = _blobs(rng.random((6, 24, 24)).astype(np.float32))
    cases = np.array(["A"] * 3 + ["B"] * 3)
    grown = levels.levels_mask(prob, cases, 4, 0.5, 0.3)
    assert np.array_equal(grown, more.published_mask(prob, cases, 4))
    assert grown.sum() > levels.levels_mask(prob, cases, 4, 0.5, None).sum() > 0  # it grew


def test_lgg_cv_levels_in_plane_growth_stays_on_the_slice_of_its_seed():
    levels = _lgg_cv_levels()
    prob = np.zeros((2, 8, 8), np.float32)
    prob[0, 2:6, 2:6] = 0.9  # the seed on slice 0
    prob[0, 2:6, 6:8] = 0.35  # weak, touching it on its slice: grown either way
    prob[1, 2:6, 2:8] = 0.35  # weak, touching it only across slices
    cases = np.array(["A", "A"])
    in_3d = levels.levels_mask(prob, cases, 1, 0.5, 0.3)
    flat = levels.levels_mask(prob, cases, 1, 0.5, 0.3, in_plane=True)
    assert in_3d[0].sum() == flat[0].sum() == 24 and in_3d[1].sum() == 24
    assert flat[1].sum() == 0
    assert levels.levels_mask(prob, cases, 1, 0.5, None).sum() == 16  # no growth: the seed


def _blobs(x: np.ndarray) -> np.ndarray:
    """Blobs, not noise: a random field blurred in plane (components worth growing)."""
    from scipy import ndimage

    return ndimage.gaussian_filter(x, sigma=(0, 2, 2)) * 2 - 0.5
