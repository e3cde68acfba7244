"""The volume steps a recipe may fix (``largest_3d``, ``hysteresis``): what they keep and grow,
how ``choose`` applies them (their params: ``test_config``)."""

from __future__ import annotations

import numpy as np
import pytest

from segstudy.metrics import binarise
from segstudy.postprocess import choose, clean, plan
from tests.conftest import Mirror

RNG = (0.0, 1.0)


def _volume() -> np.ndarray:
    prob = np.zeros((3, 24, 24), np.float32)
    prob[1, 4:10, 4:10] = 0.9     # the strong core
    prob[0, 4:10, 4:10] = 0.35    # weak, above and below it: the tumour's faint ends
    prob[2, 6:8, 6:8] = 0.35
    prob[1, 10:14, 4:10] = 0.35   # weak, touching the core in its own slice
    prob[1, 18:22, 18:22] = 0.35  # weak, touching nothing strong
    prob[2, 18:20, 18:20] = 0.9   # a second, smaller strong component
    return prob


def test_hysteresis_grows_the_largest_component_over_connected_weak_pixels_only():
    prob = _volume()
    out = clean(prob, None, RNG, 0, True, hysteresis=0.3)
    found = binarise(out, RNG) > 0
    assert found[1, 4:14, 4:10].all() and found[0, 4:10, 4:10].all() and found[2, 6:8, 6:8].all()
    assert not found[1, 18:22, 18:22].any(), "weak pixels touching no kept voxel stay out"
    assert not found[2, 18:20, 18:20].any(), "the smaller strong component is still dropped"
    assert (prob == _volume()).all(), "the input is not modified"


def test_hysteresis_puts_the_weak_level_at_the_midpoint_of_a_monotone_rescale():
    prob = _volume()
    prob[0, 0, 0] = 0.15  # below the weak level, touching nothing
    out = clean(prob, None, RNG, 0, True, hysteresis=0.3)
    assert out[0, 0, 0] == pytest.approx(0.25), "0.15 → 0.15 · 0.5 / 0.3"
    assert out[1, 4, 4] == pytest.approx(0.5 + 0.6 * 0.5 / 0.7), "0.9 → above the midpoint"
    assert out[0, 4, 4] == pytest.approx(0.5 + 0.05 * 0.5 / 0.7), "grown 0.35 → just above it"
    assert out[2, 18, 18] == 0 and out[1, 18, 18] == 0, "components not grown into → bottom"
    assert out.dtype == prob.dtype


def test_hysteresis_above_the_weak_pixels_grows_nothing_and_zero_is_off():
    prob = _volume()
    core = binarise(clean(prob, None, RNG, 0, True), RNG)
    assert (binarise(clean(prob, None, RNG, 0, True, hysteresis=0.4), RNG) == core).all()
    assert (clean(prob, None, RNG, 0, True, hysteresis=0.0) == clean(prob, None, RNG, 0,
                                                                     True)).all()


def test_hysteresis_grows_within_each_case_not_across_cases():
    prob = _volume()
    out = clean(prob, ["a", "b", "b"], RNG, 0, True, hysteresis=0.3)
    found = binarise(out, RNG) > 0
    assert not found[0].any(), "case a's weak slice is not grown from case b's core"


def test_a_recipe_spec_is_a_mode_or_a_mode_with_fixed_steps():
    assert plan("choose") == ("choose", {})
    assert plan({"mode": "choose", "largest_3d": True, "hysteresis": 0.3}) == (
        "choose", {"largest_3d": True, "hysteresis": 0.3})


def test_choose_applies_the_fixed_steps_and_scores_them_beside_its_own_choice():
    images = np.zeros((4, 16, 16, 3), np.uint8)
    images[:, 4:12, 4:12] = 255
    norm = {"mean": [0.0] * 3, "std": [1.0] * 3}
    got = choose(Mirror(), images, norm, 2, ["a"] * 4, RNG, lambda prob: 0.5,
                 {"largest_3d": True, "hysteresis": 0.3})
    assert got["largest_3d"] is True and got["hysteresis"] == 0.3
    assert got["fixed"] == ["hysteresis", "largest_3d"]
    assert "tta_flip=False,min_component=0,largest_3d=True,hysteresis=0.3" in got["tried"]
    free = choose(Mirror(), images, norm, 2, ["a"] * 4, RNG, lambda prob: 0.5)
    assert free["largest_3d"] is False and free["hysteresis"] == 0.0 and free["fixed"] == []
