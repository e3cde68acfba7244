"""The bad-input table the tests in ``test_bad_inputs.py`` run: a scratch project
(``Project``: the project's params, a tiny LGG model, some scans), one row per case (its
set-up, the command line, the one error line it must print, the exit code), and the tree
digest that proves a failed run changed nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tifffile
import yaml

from tests.conftest import ROOT, write_isbi, write_lgg


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under ``root``: a file's sha256, a link's target, or "dir"."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _set(params_file: Path, dotted: str, value: object) -> None:
    params = yaml.safe_load(params_file.read_text())
    *parents, last = dotted.split(".")
    node = params
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    params_file.write_text(yaml.safe_dump(params))


_DELETE = object()


class Project:
    """A scratch copy of the project's params, with a tiny LGG model and some scans."""

    def __init__(self, root: Path, models: Path):
        self.root = root
        shutil.copy(ROOT / "params.yaml", root / "params.yaml")
        shutil.copytree(models, root / "models")
        self.scans = write_lgg(root / "scans", cases=1, slices=2, size=32)
        self.case = next(self.scans.iterdir())
        self.model = "models/lgg/unet.keras"

    def param(self, dotted: str, value: object) -> list[str]:
        _set(self.root / "params.yaml", dotted, value)
        return []  # so a case reads `p.param(...) + stage(...)`

    def predict(self, *args: str, inputs: tuple[str, ...] | None = None) -> list[str]:
        given = list(inputs) if inputs is not None else [str(self.case.relative_to(self.root))]
        return ["-m", "segstudy", "predict", "--no-progress", *args, *given]

    def predict_to_o(self, *args: str, inputs: tuple[str, ...] | None = None) -> list[str]:
        """``predict`` with the tiny model and ``--out o``: a case that varies something else."""
        return self.predict("--model", self.model, "--out", "o", *args, inputs=inputs)

    def sidecar(self, edit: Callable[[dict], object]) -> None:
        path = self.root / "models" / "lgg" / "unet.json"
        info = json.loads(path.read_text())
        edit(info)
        path.write_text(json.dumps(info))


def then(*steps: object) -> list[str]:
    """The last argument (the command line), after the others (set-up steps) were evaluated."""
    return steps[-1]  # type: ignore[return-value]


def stage(name: str, *args: str) -> list[str]:
    return [str(ROOT / "stages" / f"{name}.py"), *args]


def _tif(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, arr)
    return path


def _rgb(n: int = 32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, n, 3), np.uint8)


# (name, setup(project) -> argv after the interpreter, expected message, exit code)
CASES: list[tuple[str, Callable[[Project], list[str]], str, int]] = [
    # --- predict: where the outputs may go -------------------------------------------------
    ("predict --out is a file",
     lambda p: then((p.root / "notes.txt").write_text("mine"),
                    p.predict("--model", p.model, "--out", "notes.txt")),
     r"--out notes\.txt: is a file", 2),
    ("predict --out is a user's folder",
     lambda p: then(_tif(p.root / "mine" / "a.tif", _rgb()),
                    p.predict("--model", p.model, "--out", "mine")),
     r"--out mine: exists and holds files predict did not write", 2),
    ("predict --out is the inputs' folder",
     lambda p: p.predict("--model", p.model, "--out", str(p.case.relative_to(p.root))),
     r"contains the input", 2),
    ("predict --out is the working directory",
     lambda p: p.predict("--model", p.model, "--out", "."), r"--out \.: is \(or contains\) the "
     r"working directory", 2),
    ("predict --out is a parent of the inputs",
     lambda p: p.predict("--model", p.model, "--out", "scans"), r"--out scans: contains the "
     r"input", 2),
    ("predict --out inside the input folder",
     lambda p: p.predict("--model", p.model, "--out", str(p.case.relative_to(p.root) / "pred")),
     r"lies inside the input folder", 2),
    ("predict --out contains the model",
     lambda p: p.predict("--model", p.model, "--out", "models",
                         inputs=(str(p.case.relative_to(p.root)),)),
     r"--out models: contains the input models/lgg/unet\.keras", 2),
    ("predict --out under a file",
     lambda p: then((p.root / "f.txt").write_text("x"),
                    p.predict("--model", p.model, "--out", "f.txt/pred")),
     r"--out f\.txt/pred: cannot write there", 2),
    ("predict --out with an unreadable marker",
     lambda p: then((p.root / "old").mkdir(), (p.root / "old/.segstudy-predict.json").write_text(
         "{"), p.predict("--model", p.model, "--out", "old")),
     r"\.segstudy-predict\.json: unreadable marker", 2),
    # --- predict: flags ----------------------------------------------------------------------
    ("predict --batch-size 0", lambda p: p.predict_to_o("--batch-size", "0"),
     r"--batch-size: expected a positive integer, got 0", 2),
    ("predict --batch-size -3", lambda p: p.predict_to_o("--batch-size=-3"),
     r"--batch-size: expected a positive integer, got -3", 2),
    ("predict --batch-size not a number", lambda p: p.predict_to_o("--batch-size", "many"),
     r"--batch-size: expected an integer, got 'many'", 2),
    ("predict --min-area negative", lambda p: p.predict_to_o("--min-area=-5"),
     r"--min-area: expected a positive number of pixels, got -5", 2),
    ("predict --min-area 0", lambda p: p.predict_to_o("--min-area", "0"),
     r"--min-area: expected a positive number of pixels, got 0", 2),
    ("predict without --out", lambda p: p.predict("--model", p.model),
     r"the following arguments are required: --out", 2),
    ("unknown subcommand", lambda p: ["-m", "segstudy", "train"], r"invalid choice: 'train'", 2),
    # --- predict: the model ------------------------------------------------------------------
    ("predict model missing", lambda p: p.predict("--model", "models/none.keras", "--out", "o"),
     r"models/none\.keras: no such model; train it first", 2),
    ("predict sidecar missing",
     lambda p: then((p.root / "models/lgg/unet.json").unlink(),
                    p.predict_to_o()),
     r"unet\.json: the model's sidecar is missing", 2),
    ("predict sidecar not JSON",
     lambda p: then((p.root / "models/lgg/unet.json").write_text("{oops"),
                    p.predict_to_o()), r"unet\.json: not valid JSON", 2),
    ("predict sidecar from an older version",
     lambda p: then(p.sidecar(lambda i: i.pop("input_size")),
                    p.predict_to_o()),
     r"unet\.json: missing input_size; .*retrain", 2),
    ("predict sidecar channels nonsense",
     lambda p: then(p.sidecar(lambda i: i.update(in_channels="three")),
                    p.predict_to_o()),
     r"in_channels: expected 1 or 3, got 'three'", 2),
    ("predict sidecar zero std",
     lambda p: then(p.sidecar(lambda i: i.update(norm={"mean": [0], "std": [0]})),
                    p.predict_to_o()), r"unet\.json: norm: expected", 2),
    ("predict sidecar negative min_area",
     lambda p: then(p.sidecar(lambda i: i.update(decision={"min_area": -1})),
                    p.predict_to_o()),
     r"unet\.json: decision: expected", 2),
    ("predict model file corrupt",
     lambda p: then((p.root / "models/lgg/unet.keras").write_bytes(b"PK\x03\x04junk"),
                    p.predict_to_o()),
     r"unet\.keras: cannot load this model", 2),
    # --- predict: the inputs -----------------------------------------------------------------
    ("predict input missing", lambda p: p.predict_to_o(inputs=("nowhere.tif",)),
     r"nowhere\.tif: no such file or folder", 2),
    ("predict empty folder", lambda p: then((p.root / "empty").mkdir(), p.predict(
        "--model", p.model, "--out", "o", inputs=("empty",))),
     r"empty: folder holds no \.tif/\.tiff/\.png images", 2),
    ("predict JPEG input", lambda p: then((p.root / "x.jpg").write_bytes(b"\xff\xd8"), p.predict(
        "--model", p.model, "--out", "o", inputs=("x.jpg",))), r"x\.jpg: not a \.tif", 2),
    ("predict corrupt TIFF", lambda p: then((p.root / "c.tif").write_bytes(b"II*\x00junk"),
     p.predict_to_o(inputs=("c.tif",))),
     r"c\.tif: not a readable TIFF", 2),
    ("predict corrupt PNG", lambda p: then((p.root / "c.png").write_bytes(
        b"\x89PNG\r\n\x1a\njunk"), p.predict_to_o(inputs=("c.png",))),
     r"c\.png: not a readable PNG", 2),
    ("predict 16-bit image", lambda p: then(_tif(p.root / "w.tif", np.zeros((32, 32), np.uint16)),
     p.predict_to_o(inputs=("w.tif",))),
     r"w\.tif: dtype uint16", 2),
    ("predict 2-channel stack for an RGB model",
     lambda p: then(_tif(p.root / "s.tif", np.zeros((2, 32, 32, 2), np.uint8)), p.predict(
         "--model", p.model, "--out", "o", inputs=("s.tif",))), r"model expects 3", 2),
    ("predict 4x4 image", lambda p: then(_tif(p.root / "t.tif", np.zeros((4, 4, 3), np.uint8)),
     p.predict_to_o(inputs=("t.tif",))), r"too small to segment", 2),
    ("predict .tif beside .png of one name",
     lambda p: then(_tif(p.root / "d" / "a.tif", _rgb()), _tif(p.root / "d" / "a.png", _rgb()),
                    p.predict_to_o(inputs=("d",))),
     r"cannot be told apart", 2),
    ("predict the same file twice",
     lambda p: p.predict_to_o(inputs=(
         str(p.case.relative_to(p.root)), str(p.case.relative_to(p.root) / f"{p.case.name}_1.tif")
     )), r"the same file as", 2),
    ("predict symlink loop",
     lambda p: then((p.case / "loop").symlink_to(p.case, target_is_directory=True),
                    p.predict_to_o()),
     r"reached twice through symlinks", 2),
    # --- params.yaml, through the stages -----------------------------------------------------
    ("params.yaml missing", lambda p: then((p.root / "params.yaml").unlink(),
                                           stage("prepare", "lgg")),
     r"params\.yaml: not found", 2),
    ("params.yaml not YAML", lambda p: then((p.root / "params.yaml").write_text("a: ["),
                                            stage("prepare", "lgg")),
     r"params\.yaml: not valid YAML", 2),
    ("learning rate 'fast'", lambda p: p.param("train.lgg.learning_rate", "fast") +
     stage("train_unet", "lgg"),
     r"params\.yaml: train\.lgg\.learning_rate: expected a positive number, got 'fast'", 2),
    ("batch size 0", lambda p: p.param("train.lgg.batch_size", 0) + stage("train_unet", "lgg"),
     r"train\.lgg\.batch_size: expected a positive integer, got 0", 2),
    ("epochs 2.5", lambda p: p.param("train.isbi2012.epochs", 2.5) +
     stage("train_unet", "isbi2012"), r"train\.isbi2012\.epochs: expected a positive integer", 2),
    ("repeated seed", lambda p: p.param("train.lgg.seeds", [1, 1]) + stage("train_unet", "lgg"),
     r"train\.lgg\.seeds: expected no repeated items", 2),
    ("unknown loss", lambda p: p.param("train.lgg.loss", "l1") + stage("train_unet", "lgg"),
     r"train\.lgg\.loss: expected one of mse, bce, dice", 2),
    ("misspelt key", lambda p: p.param("train.lgg.learning_rte", 0.1) + stage("train_unet", "lgg"),
     r"train\.lgg\.learning_rte: unknown setting", 2),
    ("missing key", lambda p: p.param("train.lgg.epochs", _DELETE) + stage("train_unet", "lgg"),
     r"train\.lgg\.epochs: missing", 2),
    ("resize_to true", lambda p: p.param("prepare.lgg.resize_to", True) + stage("prepare", "lgg"),
     r"prepare\.lgg\.resize_to: expected a positive integer or null, got True", 2),
    ("resize_to negative", lambda p: p.param("prepare.lgg.resize_to", -64) +
     stage("prepare", "lgg"), r"prepare\.lgg\.resize_to: expected a positive integer", 2),
    ("split by kfold", lambda p: p.param("prepare.lgg.split", {"by": "kfold", "counts": [1, 1, 1]})
     + stage("prepare", "lgg"), r"prepare\.lgg\.split\.by: expected one of slice, patient", 2),
    ("output activation relu", lambda p: p.param("model.lgg.output_activation", "relu") +
     stage("train_unet", "lgg"), r"model\.lgg\.output_activation: expected one of tanh", 2),
    ("GAN target unknown", lambda p: p.param("gan.metric", "bogus") +
     stage("train_gan", "isbi2012", "iou"), r"gan\.metric: expected one of module", 2),
    ("empty_iou 2", lambda p: p.param("evaluate.empty_iou", 2) + stage("evaluate", "lgg", "unet"),
     r"evaluate\.empty_iou: expected a number in \[0, 1\], got 2", 2),
    ("unknown data set in datasets", lambda p: p.param("datasets", ["mnist"]) +
     stage("download", "lgg"), r"datasets: item 'mnist': expected one of isbi2012, lgg", 2),
    # --- stages: their inputs and outputs ----------------------------------------------------
    ("download of an unknown data set", lambda p: stage("download", "mnist"),
     r"unknown dataset 'mnist'; choose one of isbi2012, lgg", 2),
    ("download into a user's folder",
     lambda p: then(_tif(p.root / "data/raw/isbi2012/mine.tif", _rgb()),
                    (p.root / "mirror").mkdir(),
                    stage("download", "isbi2012")),
     r"data/raw/isbi2012: exists and holds files this project did not write", 2),
    ("download from a corrupt mirror",
     lambda p: then(write_isbi(p.root / "mirror/isbi2012", n=2, size=8),
                    stage("download", "isbi2012")),
     r"train-volume\.tif: checksum mismatch", 2),
    ("prepare without raw data", lambda p: stage("prepare", "lgg"),
     r"data/raw/lgg: missing; run the download stage first", 2),
    ("train without prepared data", lambda p: stage("train_unet", "lgg"),
     r"data/prepared/lgg: no split\.csv; run the prepare stage first", 2),
    ("evaluate an unknown model", lambda p: stage("evaluate", "lgg", "best"),
     r"unknown model 'best'", 2),
    ("evaluate without prepared data", lambda p: stage("evaluate", "lgg", "unet"),
     r"data/prepared/lgg: no split\.csv; run the prepare stage first", 2),
]
