"""Study A under MetricGAN+'s recipe (``gan.fair``, issue 37): each target's fair GAN beside the
U-Net it starts from, the soft-IoU control and the paper-recipe GAN, on pixels (IoU) and on
cells (adapted Rand error, VI); verdicts by the report's one rule; and whether D learnt the
metric (its verdicts against the true quality of G's outputs on validation).

Two pairings, both with the t-interval of ``segstudy.report.verdict``: over seeds (each seed's
mean over the test slices; 3 pairs) and over test slices (each slice's mean over the seeds; 6
pairs). The slice pairing resolves smaller effects when the slices agree, because the
seed-to-seed noise of a fine-tune is averaged inside each pair; a difference is called only
when the interval excludes 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from segstudy import layout
from segstudy.drawing import save
from segstudy.io import read_live_series
from segstudy.recipes import GAN_FAIR, gan_config, gan_model_name
from segstudy.report.common import MODEL_NAMES, load_json
from segstudy.report.sweep import mean_std, seed_verdict
from segstudy.report.verdict import verdict

DS = "isbi2012"
COLS = (("iou", "IoU ↑", True), ("rand_error", "adapted Rand error ↓", False),
        ("vi", "VI ↓", False))


def slice_verdict(a: pd.DataFrame, b: pd.DataFrame, col: str, higher_is_better: bool) -> str:
    """Table ``a`` against table ``b`` (``evaluate``'s per-seed, per-slice tables) on ``col``,
    paired over test slices, each slice's mean over the seeds both tables have."""
    test = [t[t["split"] == "test"].pivot(index="sample_id", columns="seed", values=col)
            for t in (a, b)]
    seeds = sorted(set(test[0].columns) & set(test[1].columns))
    rows = test[0].index.intersection(test[1].index)
    means = [t.loc[rows, seeds].mean(axis=1).to_numpy() for t in test]
    return verdict(means[0], means[1], f"test slices (mean over {len(seeds)} seeds)",
                   higher_is_better=higher_is_better)


def d_at_kept(name: str, info: Mapping[str, Any]) -> dict[str, tuple[float | None, float | None]]:
    """D's val error, the sd of G's true quality and their correlation at each seed's kept
    epoch, mean ± sd over seeds."""
    out: dict[str, list[float]] = {"d_error": [], "quality_sd": [], "d_corr": []}
    for s in info.get("seeds") or [info]:
        folder = layout.curves(DS, name, int(s["seed"]))
        for key in out:
            epochs, values = read_live_series(folder, f"val_{key}")
            if s.get("best_epoch") in epochs:
                out[key].append(values[epochs.index(s["best_epoch"])])
    return {k: (float(np.mean(v)) if v else None,
                float(np.std(v, ddof=1)) if len(v) > 1 else None) for k, v in out.items()}


def d_vs_truth_figure(names: list[str], path: Path) -> str:
    """A panel per GAN: D's verdict against the true quality of G's val outputs, every seed,
    at the start (end of D's warm-up, G not yet moved: grey) and at the kept epoch (colour);
    the diagonal is a D that has learnt the metric."""
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        files = sorted(layout.seeds_dir(layout.model(DS, name)).glob(f"seed*{layout.D_VS_TRUTH}"))
        lo, hi = 1.0, 0.0
        for k, f in enumerate(files):
            with np.load(f) as z:
                ax.scatter(z["truth_first"], z["judged_first"], s=8, color="0.7", marker="x",
                           label="start (G not yet moved)" if k == 0 else None)
                ax.scatter(z["truth_kept"], z["judged_kept"], s=10, color=f"C{k}",
                           label=f"{f.name.split('.')[0]}, kept epoch")
                both = np.concatenate([z["truth_first"], z["truth_kept"], z["judged_first"],
                                       z["judged_kept"]])
                lo, hi = min(lo, both.min()), max(hi, both.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel("true quality of G's val output")
        ax.set_ylabel("D's verdict")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return save(fig, path)


VRAND_NOTE = ("Target `vrand` = 1 − adapted Rand error of the cells: no loss can be written "
              "for it, so D's estimate is G's only gradient.")
VRAND_QUEUED = ("The cell-level target `vrand` (1 − adapted Rand error, no loss can be written "
                "for it) is a queued experiment outside the default's time budget: `dvc exp run "
                "--queue -S 'gan.fair_metrics=[iou,vrand]'`, then `dvc queue start`.")


def replay_phrase(replay: Mapping[str, Any]) -> str:
    """How D remembers G's past outputs under ``gan.<recipe>.replay``, in words."""
    if float(replay["fraction"]) > 0 and int(replay["capacity"]) > 0:
        return (f"a replay set of {replay['capacity']} past outputs of G with their true scores "
                f"({replay['batch']} of them in every D step)")
    return "no replay set (`replay.fraction` 0: D sees only this step's outputs)"


def fair_section(params: Mapping[str, Any], fig_dir: Path) -> str:
    """The fair recipe's table, verdicts and D-vs-truth figure ('' without ``gan.fair``)."""
    if not params["gan"].get(GAN_FAIR) or not params["gan"].get("fair_metrics"):
        return ""
    paper_gans = [gan_model_name(t) for t in params["gan"]["metrics"]]
    fair_gans = [gan_model_name(t, GAN_FAIR) for t in params["gan"]["fair_metrics"]]
    rows = ["unet", "control", *paper_gans, *fair_gans]
    m = {r: load_json(layout.metrics(DS, r)) for r in rows}
    info = {r: load_json(layout.sidecar(layout.model(DS, r))) for r in rows}
    tables = {r: pd.read_csv(layout.per_seed_sample(DS, r)) for r in ("unet", "control",
                                                                       *fair_gans)}
    cfg = gan_config(params, DS, params["gan"]["fair_metrics"][0], GAN_FAIR)
    updates = int(cfg["epochs"]) * int(cfg["steps_per_epoch"]) - int(cfg["d_warmup_steps"])
    memory = replay_phrase(cfg["replay"])
    vrand = VRAND_NOTE if "vrand" in params["gan"]["fair_metrics"] else VRAND_QUEUED
    out = ["## Study A under a fair recipe (MetricGAN+)\n",
           f"The paper's recipe gives D one step per G step and no memory. This one (`gan.fair`): "
           f"{cfg['d_steps']} D steps per G step, {memory}, spectral norm in D: "
           f"{cfg['discriminator']['spectral_norm']}, {updates} G updates at "
           f"{cfg['g_learning_rate']:g} after {cfg['d_warmup_steps']} steps of D alone. G starts "
           f"from the same U-Net seeds as the paper's GAN and the control. {vrand} "
           "Cell scores are of the raw output (no cell post-processing, for every row). Test "
           "split, mean ± sd over seeds.\n",
           "| model | " + " | ".join(c[1] for c in COLS)
           + " | D error, val (kept epoch) | sd of G's true quality (val) | D–truth correlation"
           " | wall per seed (s) |", "|" + "---|" * (len(COLS) + 5)]
    for r in rows:
        o = m[r]["over_seeds"]
        label = MODEL_NAMES.get(r) or (f"fair GAN, target {r.removeprefix('gan-fair-')}"
                                       if r in fair_gans else
                                       f"paper GAN, target {r.removeprefix('gan-')}")
        cells = [mean_std(o["mean"]["test"].get(c), o["std"]["test"].get(c)) for c, _, _ in COLS]
        d = d_at_kept(r, info[r]) if r.startswith("gan-") else None
        cells += [mean_std(*d[k]) if d else "–" for k in ("d_error", "quality_sd", "d_corr")]
        walls = [s.get("wall_seconds_this_run") for s in info[r].get("seeds") or [info[r]]]
        cells.append(f"{np.mean([w for w in walls if w is not None]):.0f}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("\n**Verdicts (fair GAN − reference; IoU higher is better, cell errors lower):**\n")
    for g in fair_gans:
        for ref, ref_name in (("unet", "U-Net alone"), ("control", "control")):
            for col, title, up in COLS[:2]:
                out.append(f"- {g} vs {ref_name}, {title[:-2]}: over seeds "
                           f"{seed_verdict(m[g]['over_seeds'], m[ref]['over_seeds'], col, up)}; "
                           f"over slices {slice_verdict(tables[g], tables[ref], col, up)}.")
    figure = d_vs_truth_figure([*paper_gans, *fair_gans], fig_dir / "isbi_d_vs_truth.png")
    out.append(f"\n![D against the truth]({Path(figure).name})\n")
    out.append("*D's verdict against the true quality of G's validation outputs at the start "
               "(D warmed up, G not yet moved: grey) and at the kept epoch (colour), every "
               "seed. On the diagonal D has learnt the metric; a D error above the spread of "
               "G's quality cannot rank G's outputs.*\n")
    return "\n".join(out) + "\n"
