"""``per_volume`` normalisation: one scale per patient volume, in prepare and predict alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segstudy import SegstudyError
from segstudy.data.prepared import normalise, standardise_volumes


def _volume(seed: int, n: int = 6, size: int = 32) -> np.ndarray:
    """Slices with a zero background and a 'tissue' disc of random intensities."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2
    images = rng.integers(40, 100, (n, size, size, 3)).astype(np.uint8)
    images[:, ~disc] = 0
    return images


def test_each_volumes_tissue_is_centred_at_128_with_32_levels_per_std_and_background_0():
    vol = _volume(1)
    out = standardise_volumes(vol, np.zeros(len(vol)))
    tissue = (vol != 0).any(axis=-1)
    assert out.dtype == np.uint8 and (out[~tissue] == 0).all() and (out[tissue] >= 1).all()
    values = out[tissue].astype(float)
    np.testing.assert_allclose(values.mean(axis=0), 128.0, atol=0.5)
    np.testing.assert_allclose(values.std(axis=0), 32.0, rtol=0.02)


def test_a_patients_gain_and_offset_do_not_change_the_standardised_volume():
    vol = _volume(2)
    brighter = vol.copy()
    brighter[vol != 0] = vol[vol != 0] * 2 + 5  # another scanner's gain and offset
    both = standardise_volumes(np.concatenate([vol, brighter]), ["a"] * 6 + ["b"] * 6)
    assert np.abs(both[:6].astype(int) - both[6:].astype(int)).max() <= 1  # rounding


def test_a_large_tumour_shifts_its_slice_under_per_image_but_hardly_under_per_volume():
    vol = _volume(3, n=12)
    vol[5, 8:20, 8:24] = 250  # a bright tumour: about a third of that slice's tissue
    healthy = (vol != 0).any(axis=-1) & (vol != 250).all(axis=-1)
    per_image = normalise(vol, {"mode": "per_image"})
    per_volume = standardise_volumes(vol, np.zeros(12)).astype(float) / 32.0  # in std units

    def shift(z: np.ndarray) -> float:  # healthy tissue's level, tumour slice vs its neighbour
        return abs(z[5][healthy[5]].mean() - z[4][healthy[4]].mean())

    assert shift(per_image) > 0.5, "the tumour pulls its own slice's statistics"
    assert shift(per_volume) < 0.1, "a volume's statistics hardly move"


def test_bad_input_to_standardise_volumes_is_refused_with_one_line():
    with pytest.raises(SegstudyError, match="one case per image"):
        standardise_volumes(np.zeros((2, 4, 4, 3), np.float32), [0, 0])


def test_prepare_gives_per_volume_a_training_mean_and_std(tmp_path):
    import json

    from segstudy.data.prepare import normalisation
    from segstudy.inference import read_sidecar

    vol = standardise_volumes(_volume(4), np.zeros(6))
    norm = normalisation(vol, np.ones(6, bool), "per_volume")
    assert norm["mode"] == "per_volume" and len(norm["mean"]) == len(norm["std"]) == 3
    info = {"dataset": "lgg", "in_channels": 3, "mask_range": [0.0, 1.0], "norm": norm,
            "input_size": 32, "decision": None}
    (tmp_path / "m.json").write_text(json.dumps(info))
    (tmp_path / "m.keras").write_bytes(b"")  # only the sidecar is read
    assert read_sidecar(tmp_path / "m.keras")["norm"]["mode"] == "per_volume"


def test_predict_standardises_each_case_folder_as_one_volume(monkeypatch):
    from segstudy import postprocess
    from segstudy.predict_inputs import Item
    from segstudy.predict_write import segment

    seen = []

    def fake_apply(model, images, norm, batch_size, cases, rng, cfg):
        seen.append((images.copy(), list(cases)))
        return np.zeros(images.shape[:3], np.float32)

    monkeypatch.setattr(postprocess, "apply", fake_apply)
    vol = _volume(5)
    brighter = vol.copy()
    brighter[vol != 0] = vol[vol != 0] * 2 + 5
    items = [Item(Path(f"{case}/s{i}.tif"), f"{case}/s{i}", v[i : i + 1], False)
             for case, v in (("a", vol), ("b", brighter)) for i in range(6)]
    info = {"input_size": 32, "mask_range": [0.0, 1.0], "norm": {"mode": "per_volume"}}
    list(segment(None, info, items, 8, progress=False))
    images, cases = seen[0]
    np.testing.assert_array_equal(images[:6], standardise_volumes(vol, np.zeros(6)))
    assert np.abs(images[:6].astype(int) - images[6:].astype(int)).max() <= 1
    assert cases == ["a"] * 6 + ["b"] * 6
