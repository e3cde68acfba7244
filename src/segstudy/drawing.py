"""The figures the library itself writes (``evaluate``'s confusion matrix), and the one way
a figure is saved; the report (``segstudy.report.figures``) draws with the same two, so a
stage below the report never imports it. Headless (Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from segstudy.detection import CLASSES
from segstudy.io import atomic_path


def save(fig: Any, path: Path) -> str:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name


def confusion(counts: dict[str, int], path: Path, title: str) -> str:
    m = np.array([[counts["tp"], counts["fn"]], [counts["fp"], counts["tn"]]])
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(m, cmap="Blues")
    for (r, c), v in np.ndenumerate(m):
        ax.text(c, r, str(v), ha="center", va="center",
                color="white" if v > m.max() / 2 else "black")
    ax.set_xticks([0, 1], list(CLASSES))
    ax.set_yticks([0, 1], list(CLASSES))
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title, fontsize=8)
    return save(fig, path)
