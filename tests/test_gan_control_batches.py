"""The GAN and its control differ in the objective only: the two stages, as they build their
configurations from params.yaml, hand their trainers the very same batches."""

from __future__ import annotations

import runpy

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.test_training import _project


class _Stop(Exception):
    pass


def _first_batches(monkeypatch, stage: str, argv: list[str], n: int = 3) -> list:
    from segstudy.training import run

    seen: list = []

    def capture(self, model, batches, *args, **kwargs):
        seen.extend(batches[i] for i in range(min(n, len(batches))))
        seen.append(("steps", len(batches)))
        raise _Stop

    monkeypatch.setattr(run.Run, "fit", capture)
    main = runpy.run_path(str(ROOT / "stages" / f"{stage}.py"), run_name="imported")["main"]
    with pytest.raises(_Stop):
        main(argv)
    return seen


def test_the_gan_and_its_control_draw_identical_batches(tmp_path, monkeypatch):
    proj = _project(tmp_path)
    monkeypatch.chdir(proj)
    train = runpy.run_path(str(ROOT / "stages" / "train_unet.py"), run_name="imported")["main"]
    from segstudy.params import load_params

    params = load_params()
    params["train"]["lgg"].update(epochs=1, steps_per_epoch=2)
    import yaml

    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    train(["lgg"])  # the seed models both start from
    gan = _first_batches(monkeypatch, "train_gan", ["lgg", "iou"])
    control = _first_batches(monkeypatch, "train_control", ["lgg"])
    assert gan[-1] == control[-1] and gan[-1][1] > 0  # the same number of steps per epoch
    assert len(gan) == len(control) == 4
    for (gx, gy), (cx, cy) in zip(gan[:-1], control[:-1], strict=True):
        np.testing.assert_array_equal(gx, cx)
        np.testing.assert_array_equal(gy, cy)
