"""What ``dvc plots show`` draws is safe to collect in a fresh clone, and the confusion data
counts back into the matrix ``evaluate`` stored."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from segstudy import layout
from segstudy.layout import DASHBOARD, EVAL_CONFUSION
from segstudy.report.dashboard import CONFUSIONS, FIGURES, write_dashboard
from tests.conftest import ROOT


def _spec() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def _out_patterns(spec: dict) -> list[re.Pattern]:
    outs = []
    for stage in spec["stages"].values():
        body = stage.get("do", stage)
        for out in body.get("outs", []) + body.get("plots", []):
            path = out if isinstance(out, str) else next(iter(out))
            outs.append(re.compile(re.sub(r"\\\$\\\{[^}]+\\\}", "[^/]+", re.escape(path))))
    return outs


def _top_level_plots(spec: dict) -> list[str]:
    return [p if isinstance(p, str) else next(iter(p)) for p in spec["plots"]]


def test_every_top_level_plot_is_an_output_itself_not_a_file_inside_a_folder_output():
    """DVC fails at the end of ``dvc exp run <stage>`` in a clone without cache when a plot
    lies inside a cached folder output (``report/dashboard.py`` has the details)."""
    spec = _spec()
    outs = _out_patterns(spec)
    for plot in _top_level_plots(spec):
        assert any(o.fullmatch(plot) for o in outs), f"{plot}: not a stage output itself"
        inside = [o.pattern for o in outs if not o.fullmatch(plot)
                  and any(o.fullmatch("/".join(plot.split("/")[:i]))
                          for i in range(1, plot.count("/") + 1))]
        assert not inside, f"{plot} lies inside folder output(s) {inside}"


def test_the_dashboard_is_what_dvc_yaml_plots_and_the_report_stage_writes():
    spec = _spec()
    expected = {str(DASHBOARD / n) for n in (*FIGURES, *CONFUSIONS.values())}
    assert set(_top_level_plots(spec)) == expected
    assert expected <= set(spec["stages"]["report"]["outs"])


def test_the_dashboard_confusion_rows_count_back_to_the_stored_matrix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The dashboard copies evaluate's confusion rows (no second writer of them)."""
    monkeypatch.chdir(tmp_path)
    counts = {"tp": 3, "fn": 2, "fp": 1, "tn": 0}
    cells = {"tp": ("Tumour", "Tumour"), "fn": ("Tumour", "No tumour"),
             "fp": ("No tumour", "Tumour"), "tn": ("No tumour", "No tumour")}
    stored = [{"actual": a, "predicted": p} for k, (a, p) in cells.items()
              for _ in range(counts[k])]
    for name in ("unet", "gan-iou"):
        path = layout.eval_plots("lgg", name) / EVAL_CONFUSION
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(stored))
    fig_dir = tmp_path / "report"
    fig_dir.mkdir()
    for name in FIGURES:
        (fig_dir / name).write_bytes(b"png")
    write_dashboard(fig_dir, "iou")
    for name in CONFUSIONS.values():
        rows = json.loads((DASHBOARD / name).read_text())
        got = Counter((r["actual"], r["predicted"]) for r in rows)
        assert got == {("Tumour", "Tumour"): 3, ("Tumour", "No tumour"): 2,
                       ("No tumour", "Tumour"): 1}
        assert len(rows) == sum(counts.values())
    assert all((DASHBOARD / name).read_bytes() == b"png" for name in FIGURES)
