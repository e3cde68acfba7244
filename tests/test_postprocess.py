"""Post-processing (``segstudy.postprocess``): each step does what it says, a step is kept
only when validation says so, and ``evaluate`` / ``predict`` apply what the sidecar holds."""

from __future__ import annotations

import numpy as np
import pytest

from segstudy import SegstudyError
from segstudy.postprocess import NONE, choose, clean, settings
from tests.conftest import Mirror

RNG = (0.0, 1.0)


def _blob(prob: np.ndarray, i: int, y: int, x: int, r: int) -> None:
    prob[i, y : y + r, x : x + r] = 0.9


def test_small_components_are_removed_per_slice_and_large_ones_kept():
    prob = np.zeros((2, 32, 32), np.float32)
    _blob(prob, 0, 2, 2, 8)    # 64 px
    _blob(prob, 0, 20, 20, 3)  # 9 px
    _blob(prob, 1, 10, 10, 2)  # 4 px
    out = clean(prob, None, RNG, min_component=10, largest_3d=False)
    assert (out[0, 2:10, 2:10] == 0.9).all()
    assert (out[0, 20:23, 20:23] == 0).all() and (out[1] == 0).all()
    assert (prob[0, 20:23, 20:23] == 0.9).all(), "the input is not modified"


def test_largest_3d_component_is_kept_per_case_only():
    prob = np.zeros((4, 32, 32), np.float32)
    _blob(prob, 0, 2, 2, 6)
    _blob(prob, 1, 2, 2, 6)      # case a: a 2-slice blob (72 voxels) ...
    _blob(prob, 1, 20, 20, 4)    # ... and a smaller one (16): dropped
    _blob(prob, 2, 20, 20, 2)    # case b: its only (small) component survives
    _blob(prob, 3, 2, 2, 1)      # case b, not touching slice 2's blob: smaller, dropped
    out = clean(prob, ["a", "a", "b", "b"], RNG, min_component=0, largest_3d=True)
    assert (out[0:2, 2:8, 2:8] == 0.9).all() and (out[1, 20:24, 20:24] == 0).all()
    assert (out[2, 20:22, 20:22] == 0.9).all()
    assert (out[3] == 0).all()


def test_no_steps_returns_the_output_unchanged():
    prob = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    assert clean(prob, None, RNG, 0, False) is prob


def test_choose_keeps_a_step_only_when_it_beats_the_plain_output():
    images = np.zeros((4, 16, 16, 3), np.uint8)
    images[:, 4:12, 4:12] = 255
    images[:, 0, 0] = 255  # a one-pixel speck in every slice
    norm = {"mean": [0.0] * 3, "std": [1.0] * 3}
    truth = images[..., 0] > 0

    def score_speck_hurts(prob):
        found = prob > 0.5
        return float((found & ~truth).sum() == 0)  # 1 only without the specks

    truth = np.zeros((4, 16, 16), bool)
    truth[:, 4:12, 4:12] = True
    chosen = choose(Mirror(), images, norm, 2, ["a"] * 4, RNG, score_speck_hurts)
    assert chosen["min_component"] > 1 or chosen["largest_3d"]
    assert chosen["tta_flip"] is False  # symmetric images: flipping cannot help
    flat = choose(Mirror(), images, norm, 2, ["a"] * 4, RNG, lambda prob: 0.5)
    assert {k: flat[k] for k in NONE} == NONE, "no gain, no step"


def test_a_model_without_postprocess_in_its_sidecar_gets_none():
    assert settings({"dataset": "lgg"}) == NONE


@pytest.mark.parametrize("bad", [{"tta_flip": "yes"}, {"min_component": -1}, {"hysteresis": 0.7},
                                 {"min_component": 2.5}, "flip"])
def test_a_bad_postprocess_in_a_sidecar_is_refused_with_one_line(tmp_path, bad):
    import json

    from segstudy.inference import read_sidecar

    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    info = {"dataset": "lgg", "in_channels": 3, "norm": {"mean": [0, 0, 0], "std": [1, 1, 1]},
            "mask_range": [0, 1], "input_size": 64, "decision": None, "postprocess": bad}
    model.with_suffix(".json").write_text(json.dumps(info))
    with pytest.raises(SegstudyError, match="postprocess: expected"):
        read_sidecar(model)


def test_predict_applies_the_sidecars_postprocessing_per_case(tmp_path, monkeypatch):
    """``predict`` on a case folder gives exactly the masks of ``postprocess.apply`` with the
    sidecar's settings on the case's slices (flip averaging, then clean-up per volume)."""
    import json

    import keras
    import pandas as pd
    from skimage.io import imread

    from segstudy.__main__ import main
    from segstudy.postprocess import apply
    from tests.conftest import write_lgg, write_model

    monkeypatch.chdir(tmp_path)
    path = write_model(tmp_path / "m", "lgg", 3, "sigmoid", input_size=32, min_area=1)
    info = json.loads(path.with_suffix(".json").read_text())
    info["postprocess"] = {"tta_flip": True, "min_component": 3, "largest_3d": True}
    path.with_suffix(".json").write_text(json.dumps(info))
    case = next(write_lgg(tmp_path / "scans", cases=1, slices=4, size=32).iterdir())
    assert main(["predict", "--model", str(path), str(case), "--out", "out",
                 "--no-progress"]) == 0
    table = pd.read_csv(tmp_path / "out" / "predictions.csv")
    slices = sorted(case.glob("*[0-9].tif"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    from segstudy.data.validate import read_tiff

    images = np.stack([read_tiff(p) for p in slices])
    expected = apply(keras.models.load_model(path), images, info["norm"], 8,
                     ["c"] * len(images), (0.0, 1.0), info["postprocess"]) > 0.5
    plain = apply(keras.models.load_model(path), images, info["norm"], 8, None, (0.0, 1.0),
                  {}) > 0.5
    assert not np.array_equal(plain, expected), "the settings change this model's masks"
    got = np.stack([imread(tmp_path / "out" / f"{p.stem}_mask.png") > 0
                    for p in slices])
    np.testing.assert_array_equal(got, expected)
    assert len(table) == len(slices)


def test_watershed_splits_two_touching_cells_and_threshold_moves_the_boundary():
    from segstudy.postprocess import cells

    yy, xx = np.mgrid[:40, :60]
    two = ((yy - 20) ** 2 + (xx - 18) ** 2 < 14**2) | ((yy - 20) ** 2 + (xx - 42) ** 2 < 14**2)
    prob = np.where(two, 0.9, -0.9)[None].astype(np.float32)  # tanh scale
    rng = (-1.0, 1.0)
    from scipy import ndimage

    merged = cells(prob, rng, 0.5, 0, 0.0)
    split = cells(prob, rng, 0.5, 0, 2.0)
    assert ndimage.label(merged[0] > 0)[1] == 1 and ndimage.label(split[0] > 0)[1] == 2
    assert set(np.unique(split)) == {-1.0, 1.0}
    assert (cells(prob, rng, 0.99, 0, 0.0) == -1.0).all(), "0.9 on the scale is below 0.99"
    speck = prob.copy()
    speck[0, 0:3, 0:3] = 0.9
    assert ndimage.label(cells(speck, rng, 0.5, 20, 0.0)[0] > 0)[1] == 1


def test_thin_grows_two_cells_over_a_thick_membrane_to_a_one_pixel_border():
    from scipy import ndimage

    from segstudy.postprocess import cells, finish, pixels

    rng = (-1.0, 1.0)
    prob = np.ones((1, 20, 41))
    prob[0, :, 17:24] = np.array([0.6, 0.2, -0.2, -0.6, -0.2, 0.2, 0.6])  # valley at column 20
    thick = cells(prob, rng, 0.7, 0, 0.0)
    thinned = cells(prob, rng, 0.7, 0, 0.0, thin=True)
    assert (thick[0] == -1).sum() == 20 * 5  # columns 18–22 are below 0.7 of the scale
    assert ndimage.label(thinned[0] > 0)[1] == 2
    assert np.flatnonzero((thinned[0] == -1).all(axis=0)).tolist() == [20]
    assert (thinned[0] == -1).sum() == 20, "only the valley's column stays membrane"
    cfg = {"threshold": 0.7, "thin": True}
    np.testing.assert_array_equal(pixels(prob, None, rng, cfg), prob)  # pixel map untouched
    np.testing.assert_array_equal(finish(prob, None, rng, cfg), thinned)


def test_dihedral_averaging_of_an_equivariant_model_equals_its_plain_output():
    from segstudy.postprocess import probability

    images = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 1), np.uint8)
    norm = {"mean": [0.0], "std": [1.0]}
    plain = probability(Mirror(), images, norm, 2, False)
    np.testing.assert_allclose(probability(Mirror(), images, norm, 2, False, True), plain,
                               atol=1e-5)


def test_choose_cells_keeps_watershed_when_it_lowers_rand_error():
    from segstudy.postprocess import choose_cells

    yy, xx = np.mgrid[:40, :60]
    two = ((yy - 20) ** 2 + (xx - 18) ** 2 < 14**2) | ((yy - 20) ** 2 + (xx - 42) ** 2 < 14**2)
    images = np.where(two, 255, 0).astype(np.uint8)[None, ..., None]
    norm = {"mean": [0.0], "std": [1.0]}

    def rand_error(m):  # 0 when the two cells are apart, 1 when merged
        from scipy import ndimage

        return 0.0 if ndimage.label(m[0] > 0.5)[1] == 2 else 1.0

    chosen = choose_cells(Mirror(), images, norm, 1, (0.0, 1.0), rand_error)
    assert chosen["watershed_h"] > 0 and chosen["val_rand_error"] == 0.0
    assert chosen["tta_dihedral"] is False and chosen["min_cell"] == 0


def test_submit_writes_a_float32_membrane_probability_stack_and_never_replaces(tmp_path,
                                                                               capsys):
    import tifffile

    from segstudy.__main__ import main
    from tests.conftest import write_model

    model = write_model(tmp_path / "m", "isbi2012", 1, "tanh")
    volume = tmp_path / "test-volume.tif"
    tifffile.imwrite(volume, np.random.default_rng(0).integers(0, 256, (3, 48, 40), np.uint8))
    out = tmp_path / "sub" / "strong.tif"
    assert main(["submit", "--model", str(model), str(volume), "--out", str(out)]) == 0
    sub = tifffile.imread(out)
    assert sub.shape == (3, 48, 40) and sub.dtype == np.float32
    assert 0.0 <= sub.min() and sub.max() <= 1.0
    before = out.read_bytes()
    assert main(["submit", "--model", str(model), str(volume), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
