"""The per-target table: every discriminator target beside the U-Net and the control, mean ±
standard deviation over seeds, with the verdicts against the seed spread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segstudy.config import METRIC_NAMES
from segstudy.report.common import MODEL_NAMES
from segstudy.report.verdict import verdict

SWEEP_COLS = {
    "isbi2012": (("module", "module ↓"), ("squaring", "squaring ↓"), ("percent", "percent ↑"),
                 ("iou", "IoU ↑"), ("dice", "Dice ↑"), ("rand_error", "adapted Rand error ↓"),
                 ("vi", "VI ↓")),
    "lgg": (("module", "module ↓"), ("squaring", "squaring ↓"), ("percent", "percent ↑"),
            ("iou", "IoU ↑"), ("dice", "Dice ↑"), ("iou_tumour_slices", "IoU, tumour slices ↑"),
            ("iou_per_patient", "IoU per patient ↑"), ("dice_per_patient", "Dice per patient ↑")),
}


def mean_std(mean: float | None, std: float | None, nd: int = 3) -> str:
    if mean is None:
        return "–"
    return f"{mean:.{nd}f}" + (f" ± {std:.{nd}f}" if std is not None else "")


def seed_verdict(a: Mapping[str, Any], b: Mapping[str, Any], col: str = "iou",
                 higher_is_better: bool = True) -> str:
    """Two configurations' test ``col`` paired by seed (``evaluate``'s ``over_seeds``), judged
    by the report's one rule (``segstudy.report.verdict``)."""
    seeds = sorted(set(a["per_seed"]) & set(b["per_seed"]), key=int)
    return verdict([a["per_seed"][s]["test"][col] for s in seeds],
                   [b["per_seed"][s]["test"][col] for s in seeds],
                   "seeds", higher_is_better=higher_is_better)


def info_over_seeds(info: Mapping, key: str) -> tuple[float | None, float | None]:
    values = [s.get(key) for s in info.get("seeds", [info])]
    values = [float(v) for v in values if v is not None]
    if not values:
        return None, None
    return float(np.mean(values)), (float(np.std(values, ddof=1)) if len(values) > 1 else None)


def sweep_section(ds: str, m: Mapping, info: Mapping, sweep: list[str],
                  params: Mapping[str, Any]) -> str:
    """Every discriminator target beside the U-Net and the control, mean ± std over seeds."""
    rows = ["unet", "control", *sweep]
    n = m[ds, "unet"]["over_seeds"]["n"]
    cols = SWEEP_COLS[ds]
    head = ["model", *(c[1] for c in cols), "train − test IoU", "D error (val, final)",
            "wall time per seed (s)"]
    out = [f"### Every discriminator target, {n} seed{'s' if n != 1 else ''} "
           f"({', '.join(str(x) for x in m[ds, 'unet']['over_seeds']['seeds'])}), test split\n",
           "Mean ± sample standard deviation over seeds. The control starts from the same U-Net "
           "and trains with the generator's schedule (epochs, steps, batch, learning rate, "
           "warm-up hold, selection), on the soft IoU itself instead of D's estimate of the "
           "quality. D error = mean |D − true quality| on validation at the GAN's last epoch "
           "(quality units 0..1).\n",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mod in rows:
        o = m[ds, mod]["over_seeds"]
        label = MODEL_NAMES.get(mod) or f"GAN, target {mod.removeprefix('gan-')}" + (
            f"^{params['gan']['metric_power'][mod.removeprefix('gan-')]}"
            if params["gan"]["metric_power"].get(mod.removeprefix("gan-"), 1) != 1 else "")
        cells = [mean_std(o["mean"]["test"].get(c), o["std"]["test"].get(c),
                          1 if c == "percent" else 3) for c, _ in cols]
        cells.append(mean_std(o["mean"]["gap_iou"], o["std"]["gap_iou"]))
        cells.append(mean_std(*info_over_seeds(info[ds, mod], "final_val_d_error"))
                     if mod.startswith("gan-") else "–")
        cells.append(mean_std(*info_over_seeds(info[ds, mod], "wall_seconds_this_run"), nd=0))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"**Verdicts ({ds}, test IoU over seeds):**\n")
    ref = {k: m[ds, k]["over_seeds"] for k in ("unet", "control")}
    ctrl = seed_verdict(ref["control"], ref["unet"])
    out.append(f"- control vs U-Net alone: {ctrl}.")
    for mod in sweep:
        o = m[ds, mod]["over_seeds"]
        parts = [f"vs {name}: " + seed_verdict(o, ref[k])
                 for k, name in (("unet", "U-Net alone"), ("control", "control"))]
        out.append(f"- GAN, target {mod.removeprefix('gan-')}: " + "; ".join(parts) + ".")
    missing = [t for t in METRIC_NAMES if f"gan-{t}" not in sweep]
    if missing:
        out.append(f"- Not trained here (`gan.metrics`): {', '.join(missing)}. All of them: "
                   f"`dvc exp run -S 'gan.metrics=[{','.join(METRIC_NAMES)}]'`.")
    out.append("")
    return "\n".join(out) + "\n"
