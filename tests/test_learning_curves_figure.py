"""The report's learning-curve figure: a row per model, a line per seed and logged series."""

from __future__ import annotations

from pathlib import Path

import pytest

from segstudy.report import figures


def _dvclive(folder: Path, series: dict[str, list[float]]) -> Path:
    metrics = folder / "plots" / "metrics"
    metrics.mkdir(parents=True)
    for name, values in series.items():
        rows = "".join(f"{step}\t{v}\n" for step, v in enumerate(values))
        (metrics / f"{name}.tsv").write_text(f"step\t{name}\n{rows}")
    return folder


@pytest.fixture()
def drawn(tmp_path: Path, monkeypatch) -> dict:
    unet = {"loss": [0.5, 0.3], "val_loss": [0.6, 0.4], "val_iou": [0.7, 0.8]}
    gan = {"g_loss": [1.0, 0.9], "d_loss": [0.2, 0.1], "d_error": [0.3, 0.2],
           "val_loss": [0.4, 0.4], "val_iou": [0.8, 0.81], "val_d_error": [0.3, 0.25]}
    runs = {"U-Net alone": {s: _dvclive(tmp_path / f"unet{s}", unet) for s in (42, 43)},
            "U-Net in the GAN": {42: _dvclive(tmp_path / "gan42", gan)}}
    seen = {}
    monkeypatch.setattr(figures, "save", lambda fig, path: seen.update(fig=fig) or path.name)
    assert figures.curves(runs, tmp_path / "curves.png", "t") == "curves.png"
    return seen["fig"]


def test_every_seed_gets_its_train_and_validation_loss(drawn):
    axes = drawn.axes
    labels = {line.get_label() for line in axes[0].lines}
    assert labels == {"seed 42 train", "seed 42 val (supervised)", "seed 43 train",
                      "seed 43 val (supervised)"}
    assert axes[0].get_title() == "U-Net alone: loss per epoch"


def test_the_gan_row_shows_g_d_and_the_discriminators_error(drawn):
    axes = drawn.axes
    gan_losses, gan_error = axes[3], axes[5]
    assert {line.get_label() for line in gan_losses.lines} == {
        "seed 42 G train", "seed 42 val (supervised)", "seed 42 D train"}
    assert {line.get_label() for line in gan_error.lines} == {"seed 42 train", "seed 42 val"}


def test_a_model_without_a_discriminator_says_so_instead_of_an_empty_panel(drawn):
    unet_error = drawn.axes[2]
    assert not unet_error.lines
    assert [t.get_text() for t in unet_error.texts] == ["not logged for this model"]
