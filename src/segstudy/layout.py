"""Where every artefact of the study lives, relative to the project's root: one function per
kind of file, used by the stages, ``evaluate`` and the report (``dvc.yaml`` spells the same
paths for DVC; ``tests/test_layout.py`` checks that the two agree).

``model`` is ``unet``, ``control`` or ``gan-<metric>``; ``seed`` an integer.
"""

from __future__ import annotations

from pathlib import Path

RESUME = Path(".resume")  # killed runs' state (``segstudy.training.run``); not a DVC output
REPORT = Path("report")
DASHBOARD = Path("plots") / "study"  # the study-wide plots ``dvc plots show`` draws
EVAL_CONFUSION = Path("plots") / "sklearn" / "confusion_matrix.json"  # dvclive's name for it


def raw(dataset: str) -> Path:
    return Path("data/raw") / dataset


def prepared(dataset: str, recipe: str = "paper") -> Path:
    """The paper recipe's prepared folder, or ``<dataset>-<recipe>`` for another recipe's."""
    return Path("data/prepared") / (dataset if recipe == "paper" else f"{dataset}-{recipe}")


def model(dataset: str, name: str) -> Path:
    """The published model (the first seed's), ``.keras``; its sidecar has ``.json``."""
    return Path("models") / dataset / f"{name}.keras"


def seeds_dir(primary: Path) -> Path:
    """Every seed's model of a configuration lives beside its published (first-seed) model."""
    return primary.with_name(f"{primary.stem}-seeds")


def seed_model(dataset: str, name: str, seed: int) -> Path:
    return seeds_dir(model(dataset, name)) / f"seed{seed}.keras"


def sidecar(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


DISCRIMINATOR = ".discriminator.keras"  # a GAN's D, beside its generator <model>.keras
D_VS_TRUTH = ".d_vs_truth.npz"  # a GAN's D against the true quality on val (start, kept epoch)


def discriminator(model_path: Path) -> Path:
    return model_path.with_suffix(DISCRIMINATOR)


def curves(dataset: str, name: str, seed: int) -> Path:
    """dvclive folder of one seed's learning curves."""
    return Path("plots") / dataset / name / f"seed{seed}"


def live_series(live_dir: Path, name: str) -> Path:
    """One metric's per-epoch series inside a dvclive folder (dvclive's own layout)."""
    return Path(live_dir) / "plots" / "metrics" / f"{name}.tsv"


def eval_plots(dataset: str, name: str) -> Path:
    return Path("plots") / dataset / f"{name}_eval"


def metrics_dir(dataset: str) -> Path:
    return Path("metrics") / dataset


def metrics(dataset: str, name: str) -> Path:
    return metrics_dir(dataset) / f"{name}.json"


def per_sample(dataset: str, name: str) -> Path:
    return metrics_dir(dataset) / f"{name}_per_sample.csv"


def per_seed_sample(dataset: str, name: str) -> Path:
    """Every seed's scores per slice (the report's paired verdicts over seeds × slices)."""
    return metrics_dir(dataset) / f"{name}_per_seed_sample.csv"


def predictions(dataset: str, name: str) -> Path:
    return Path("predictions") / dataset / f"{name}.npz"
