"""End to end: `make quick` (tiny settings, DVC experiment) on the shared data mirror.

Runs in a throw-away copy of the repository so the developer's workspace is not touched.
Skipped, with the reason, when ../shared/data is absent (a user's clone without the mirror).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from segstudy.params import load_params
from tests.conftest import SHARED_DATA, mirror_lgg_split_counts
from tests.quick_project import locked_stages
from tests.quick_project import quick_copy as _quick_copy
from tests.quick_project import run as _run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED_DATA / "isbi2012").is_dir(),
                       reason=f"data mirror {SHARED_DATA} not present"),
]


@pytest.fixture(scope="module")
def quick_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    proj = tmp_path_factory.mktemp("e2e") / "segstudy"
    return proj, _quick_copy(proj)


def _dag_edges(proj: Path, env: dict[str, str]) -> set[tuple[str, str]]:
    """Edges of ``dvc dag --md`` (mermaid): nodeN["name"] lines, then nodeA-->nodeB lines."""
    md = _run(["dvc", "dag", "--md"], proj, env)
    names = dict(re.findall(r'(node\d+)\["([^"]+)"\]', md))
    return {(names[a], names[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", md)}


def _last_run_gan(proj: Path) -> dict:
    """The ``gan`` params the workspace's report was made with."""
    return locked_stages(proj)["report"]["params"]["params.yaml"]["gan"]


def test_dag_runs_download_to_report_with_one_gan_node_per_data_set_and_metric(quick_project):
    proj, env = quick_project
    edges = _dag_edges(proj, env)
    nodes = {n for e in edges for n in e}
    metrics = load_params(proj / "params.yaml")["gan"]["metrics"]
    assert {n for n in nodes if n.startswith("train_gan@")} == {
        f"train_gan@{ds}-{m}" for ds in ("isbi2012", "lgg") for m in metrics}
    for ds in ("isbi2012", "lgg"):
        for a, b in (("download", "prepare"), ("prepare", "train_unet"),
                     ("train_unet", "train_control")):
            assert (f"{a}@{ds}", f"{b}@{ds}") in edges, f"{a} → {b} for {ds}"
        for m in metrics:
            assert (f"train_unet@{ds}", f"train_gan@{ds}-{m}") in edges
            assert (f"train_gan@{ds}-{m}", f"evaluate_gan@{ds}-{m}") in edges
            assert (f"evaluate_gan@{ds}-{m}", "report") in edges
        assert (f"train_control@{ds}", f"evaluate@{ds}-control") in edges
        assert (f"evaluate@{ds}-unet", "report") in edges
    fair = load_params(proj / "params.yaml")["gan"]["fair_metrics"]
    for m in fair:  # the fair recipe: ISBI only, from the same U-Net seeds
        assert ("train_unet@isbi2012", f"train_gan_fair@isbi2012-{m}") in edges
        assert (f"train_gan_fair@isbi2012-{m}", f"evaluate_gan_fair@isbi2012-{m}") in edges
        assert (f"evaluate_gan_fair@isbi2012-{m}", "report") in edges
    assert not any(n.startswith("train_gan_fair@lgg") for n in nodes)


def test_quick_models_load_and_predict_masks_of_the_input_size(quick_project):
    proj, _ = quick_project
    for ds, ch in (("isbi2012", 1), ("lgg", 3)):  # quick trains the targets percent and iou
        for name in ("unet", "control", "gan-iou", "gan-percent", "unet-seeds/seed42"):
            model = keras.models.load_model(proj / "models" / ds / f"{name}.keras", safe_mode=True)
            out = model(np.zeros((1, 48, 64, ch), "float32"))
            assert out.shape == (1, 48, 64, 1)
    assert (proj / "models/isbi2012/gan-iou-seeds/seed43.keras").is_file()


def test_a_quick_lgg_model_predicts_mirror_scans_with_its_own_tumour_rule(quick_project,
                                                                          tmp_path):
    import json

    import pandas as pd

    proj, env = quick_project
    info = json.loads((proj / "models/lgg/unet.json").read_text())
    assert info["input_size"] == 64 and info["decision"]["chosen_on"] == "val"
    case = SHARED_DATA / "lgg/kaggle_3m/TCGA_CS_4941_19960909"
    _run([sys.executable, "-m", "segstudy", "predict", "--no-progress", "--model",
          str(proj / "models/lgg/unet.keras"), str(case), "--out", str(tmp_path / "o")],
         tmp_path, env)
    table = pd.read_csv(tmp_path / "o" / "predictions.csv")
    assert len(table) == len(list(case.glob("*_mask.tif")))
    assert set(table["decision"]) <= {"Tumour", "No tumour"}


def test_report_prints_the_papers_numbers_beside_ours_and_its_figures_exist(quick_project):
    proj, _ = quick_project
    report = (proj / "report" / "REPORT.md").read_text()
    for number in ("0.855", "0.89", "0.812", "| TP | ", "| 25 |", "| 57 |", "| 7 |", "| 1 |"):
        assert number in report, number
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(links) >= 6
    for link in links:
        assert (proj / "report" / link).is_file(), link


def test_split_csv_covers_every_slice(quick_project):
    import pandas as pd

    proj, _ = quick_project
    lgg = pd.read_csv(proj / "data/prepared/lgg/split.csv")
    assert lgg["split"].value_counts().to_dict() == mirror_lgg_split_counts()
    assert len(pd.read_csv(proj / "data/prepared/isbi2012/split.csv")) == 30


def test_a_second_quick_run_gives_the_same_split_and_metrics(quick_project, tmp_path_factory):
    """Determinism: same params and seed → identical split.csv; U-Net metrics equal within
    1e-4 (CPU; the stated tolerance for thread-order float differences)."""
    import json

    proj, _ = quick_project
    second = tmp_path_factory.mktemp("e2e-second") / "segstudy"
    _quick_copy(second, "evaluate@isbi2012-unet", "evaluate@lgg-unet")
    for ds in ("isbi2012", "lgg"):
        split = f"data/prepared/{ds}/split.csv"
        assert (proj / split).read_bytes() == (second / split).read_bytes()
        a = json.loads((proj / f"metrics/{ds}/unet.json").read_text())
        b = json.loads((second / f"metrics/{ds}/unet.json").read_text())
        for split_name in ("train", "val", "test"):
            for col in ("module", "squaring", "percent", "iou"):
                assert a[split_name][col] == pytest.approx(b[split_name][col], abs=1e-4)


def test_metrics_diff_lists_the_papers_columns(quick_project):
    proj, env = quick_project
    shown = _run(["dvc", "metrics", "show", "--json"], proj, env)
    for col in ("module", "squaring", "percent", "iou"):
        assert f'"{col}"' in shown


def test_report_has_the_per_target_table_with_mean_std_and_verdicts(quick_project):
    proj, _ = quick_project
    report = (proj / "report" / "REPORT.md").read_text()
    for ds in ("isbi2012", "lgg"):
        assert f"**Verdicts ({ds}, test IoU over seeds):**" in report
    sweep = report.split("### Every discriminator target, 2 seeds (42, 43)")[1].split("###")[0]
    for row in ("U-Net alone", "control", "target percent", "target iou^2"):
        assert row in sweep, row
    assert " ± " in sweep
    assert "no interval, so **no verdict**" in report  # LGG runs one seed


def test_changing_gan_metric_retrains_nothing_and_retitles_table_2(quick_project):
    proj, env = quick_project
    before = (proj / "report" / "REPORT.md").read_text()
    assert "discriminator target: iou^2" in before
    table1 = before.split("### Table 2")[0].split("### Table 1")[1]
    for metric in ("percent", "iou"):  # the two quick trains; there and back
        out = _run([sys.executable, "-m", "segstudy.quick", f"gan.metric={metric}"], proj, env)
        assert "Running stage 'train_" not in out and "Running stage 'evaluate" not in out, out
        # back at a target seen before, DVC's run-cache restores that report instead of rerunning
        assert "Running stage 'report'" in out or "Stage 'report' is cached" in out, out
        after = (proj / "report" / "REPORT.md").read_text()
        title = "discriminator target: iou^2)" if metric == "iou" else f"target: {metric})"
        assert title in after
        assert table1 == after.split("### Table 2")[0].split("### Table 1")[1], "Table 1 kept"


def test_metrics_diff_between_two_experiments_lists_every_models_columns(quick_project):
    import json

    proj, env = quick_project
    names = _run(["dvc", "exp", "list", "--name-only"], proj, env).split()
    assert len(names) >= 2
    proc = subprocess.run(["dvc", "metrics", "diff", names[0], names[1], "--all", "--json"],
                          cwd=proj, env=env, capture_output=True, text=True, check=True)
    diff = json.loads(proc.stdout)
    for model in ("unet", "control", "gan-percent", "gan-iou"):
        cols = diff[f"metrics/isbi2012/{model}.json"]
        for col in ("module", "squaring", "percent", "iou", "dice", "rand_error", "vi"):
            assert f"test.{col}" in cols, (model, col)
            assert f"over_seeds.mean.test.{col}" in cols, (model, col)


def test_bogus_gan_metric_fails_the_experiment_with_the_valid_names(quick_project):
    proj, env = quick_project
    proc = subprocess.run([sys.executable, "-m", "segstudy.quick", "gan.metric=bogus"], cwd=proj,
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode != 0
    assert "gan.metric: expected one of module, squaring, percent, iou" in proc.stdout + proc.stderr


def test_narrowing_gan_metrics_trains_only_what_is_missing(quick_project):
    proj, env = quick_project
    out = _run([sys.executable, "-m", "segstudy.quick", "gan.metrics=[percent]"], proj, env)
    assert "Running stage 'train_" not in out, "percent was trained already"
    report = (proj / "report" / "REPORT.md").read_text()
    assert "`gan.metric=iou` was not trained" in report and "target percent" in report
    assert "| GAN, target iou" not in report and "paper GAN, target iou" not in report


def test_report_has_the_fair_recipe_table_with_verdicts_over_seeds_and_slices(quick_project):
    proj, _ = quick_project
    report = (proj / "report" / "REPORT.md").read_text()
    fair = report.split("## Study A under a fair recipe (MetricGAN+)")[1].split("\n## ")[0]
    gan = _last_run_gan(proj)  # the targets of the last quick run, which wrote the report
    paper, fair_targets = gan["metrics"], gan["fair_metrics"]
    for row in ("U-Net alone", "control", *(f"paper GAN, target {t}" for t in paper),
                *(f"fair GAN, target {t}" for t in fair_targets), "over seeds Δ", "over slices Δ",
                "test slices (mean over 2 seeds)", "isbi_d_vs_truth.png"):
        assert row in fair, row
    pairs = np.load(proj / "models" / "isbi2012" / f"gan-fair-{fair_targets[-1]}-seeds" /
                    "seed42.d_vs_truth.npz")
    assert pairs["judged_kept"].shape == pairs["truth_kept"].shape == (4,)  # 4 val slices


def test_a_fair_recipe_change_retrains_only_the_fair_gans(quick_project):
    proj, env = quick_project
    out = _run([sys.executable, "-m", "segstudy.quick", "gan.fair.replay.fraction=0.2"], proj, env)
    ran = set(re.findall(r"Running stage '([^']+)'", out))
    assert ran and all(s.startswith(("train_gan_fair@", "evaluate_gan_fair@", "report"))
                       for s in ran), ran
    fair_targets = _last_run_gan(proj)["fair_metrics"]
    assert {f"train_gan_fair@isbi2012-{t}" for t in fair_targets} <= ran
