"""Small synthetic data sets made on the fly, in the publishers' layouts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]
# Every build_unet / build_discriminator argument (the builders have no defaults): tiny models.
TINY_UNET = {"base_filters": 2, "depth": 2, "convs_per_block": 1, "batchnorm": True,
             "head": "conv_bn_lrelu", "dropout": 0.0, "leaky_alpha": 0.01,
             "output_activation": "sigmoid"}
TINY_D = {"base_filters": 4, "depth": 2, "convs_per_block": 1, "batchnorm": False,
          "extra_convs": 2, "dense_units": 8, "leaky_alpha": 0.2}
SHARED_DATA = ROOT.parent / "shared" / "data"


def load_benchmark(name: str):
    """``benchmarks/<name>.py`` imported as module ``name`` (the probes import each other by
    their bare names, as ``PYTHONPATH=benchmarks`` would let them)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def square_mask(size: int = 64, lo: int = 16, hi: int = 48) -> np.ndarray:
    """One (1, size, size, 1) float32 mask: a square of ones on rows and columns lo..hi-1."""
    mask = np.zeros((1, size, size, 1), np.float32)
    mask[:, lo:hi, lo:hi] = 1
    return mask


def write_isbi(folder: Path, n: int = 30, size: int = 512, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    vol = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    labels = np.where(rng.random((n, size, size)) < 0.8, 255, 0).astype(np.uint8)
    tifffile.imwrite(folder / "train-volume.tif", vol)
    tifffile.imwrite(folder / "train-labels.tif", labels)
    tifffile.imwrite(folder / "test-volume.tif", vol[::-1].copy())
    return folder


def write_lgg(folder: Path, cases: int = 4, slices: int = 5, size: int = 32, seed: int = 0) -> Path:
    """A ``kaggle_3m`` folder: ``cases`` patients of ``slices`` slices, some with tumour."""
    rng = np.random.default_rng(seed)
    root = folder / "kaggle_3m"
    for c in range(cases):
        case = f"TCGA_XX_{1000 + c}_2000010{c}"
        (root / case).mkdir(parents=True, exist_ok=True)
        for s in range(1, slices + 1):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            mask = np.zeros((size, size), np.uint8)
            if s % 2 == 0:
                mask[size // 4 : size // 2, size // 4 : size // 2] = 255
            tifffile.imwrite(root / case / f"{case}_{s}.tif", img)
            tifffile.imwrite(root / case / f"{case}_{s}_mask.tif", mask)
    return root


@pytest.fixture
def isbi_dir(tmp_path: Path) -> Path:
    return write_isbi(tmp_path / "isbi2012")


@pytest.fixture
def lgg_dir(tmp_path: Path) -> Path:
    return write_lgg(tmp_path / "lgg")


def write_model(folder: Path, dataset: str, channels: int, activation: str,
                input_size: int | None = None, min_area: int | None = None) -> Path:
    """A tiny untrained U-Net with a complete sidecar, as training writes it."""
    import json

    from segstudy.models.unet import build_unet

    folder.mkdir(parents=True, exist_ok=True)
    model = build_unet(channels, **{**TINY_UNET, "output_activation": activation})
    path = folder / "unet.keras"
    model.save(path)
    info = {"dataset": dataset, "seed": 42, "in_channels": channels,
            "mask_range": [-1.0, 1.0] if activation == "tanh" else [0.0, 1.0],
            "norm": {"mean": [127.5] * channels, "std": [127.5] * channels},
            "input_size": input_size,
            "decision": None if min_area is None else {"min_area": min_area, "chosen_on": "val"}}
    path.with_suffix(".json").write_text(json.dumps(info))
    return path


def mirror_lgg_split_counts() -> dict[str, int]:
    """The slice split the pipeline must make of the mirror's LGG set: ``params.yaml``'s
    paper counts scaled to the number of slices the mirror holds (73 patients, 2649 slices:
    2145 / 443 / 61), so a test follows the data rather than a count from an older mirror."""
    import yaml

    from segstudy.data.split import scale_counts

    counts = yaml.safe_load((ROOT / "params.yaml").read_text())["prepare"]["lgg"]["split"]["counts"]
    slices = sum(1 for _ in (SHARED_DATA / "lgg" / "kaggle_3m").glob("*/*_mask.tif"))
    return dict(zip(("train", "val", "test"), scale_counts(slices, counts), strict=True))


@pytest.fixture(scope="module")
def lgg_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny untrained LGG model (32² input, Tumour rule at 3 pixels) shared by a module's
    ``predict`` tests (a module may define its own)."""
    return write_model(tmp_path_factory.mktemp("m") / "lgg", "lgg", 3, "sigmoid",
                       input_size=32, min_area=3)


class Mirror:
    """A 'model' whose output is the image's first channel scaled to [0, 1]."""

    def __call__(self, x, training=False):
        return (x[..., :1] - x[..., :1].min()) / (np.ptp(x[..., :1]) + 1e-9)

    def predict(self, x, batch_size, verbose=0):  # as keras.Model.predict: batch by batch
        return np.concatenate([self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
