"""What ``dvc plots show`` draws (dvc.yaml's top-level ``plots``): copies of the report's
learning-curve and per-patient figures, and the LGG test confusion matrices as rows for DVC's
``confusion`` template. Each is a stage output in its own right, written beside ``report/``.

Why not point dvc.yaml at files inside ``report/``: DVC 3.67 resolves every top-level plot when
``dvc exp run`` finishes, and a plot inside a cached folder output whose folder is not in the
local cache (a fresh clone, nothing pulled) raises ``failed to load directory`` there
(``dvc/repo/plots/__init__.py: unpack_if_dir``), so ``dvc exp run <one stage>`` failed after
its stages had run. A plot that is an output itself is looked up by its own lock entry only.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from segstudy import layout
from segstudy.io import atomic_path, write_json
from segstudy.report.common import file_of, load_json

# Not in layout.py (where paths belong) only because layout.py is a dependency of every
# training stage: moving this there retrains the study; do it with the next retraining.
DASHBOARD = Path("plots") / "study"
FIGURES = ("isbi_curves.png", "lgg_curves.png", "lgg_per_patient_dice.png")
CONFUSIONS = {"unet": "lgg_confusion_unet.json", "gan": "lgg_confusion_gan.json"}
TUMOUR, NO_TUMOUR = "Tumour", "No tumour"


def confusion_rows(counts: Mapping[str, int]) -> list[dict[str, str]]:
    """One ``{"actual", "predicted"}`` row per test slice, from the TP/FN/FP/TN counts that
    ``evaluate`` stored; DVC's ``confusion`` template counts them back into the matrix."""
    cells = {"tp": (TUMOUR, TUMOUR), "fn": (TUMOUR, NO_TUMOUR),
             "fp": (NO_TUMOUR, TUMOUR), "tn": (NO_TUMOUR, NO_TUMOUR)}
    return [{"actual": actual, "predicted": predicted}
            for key, (actual, predicted) in cells.items() for _ in range(int(counts[key]))]


def write_dashboard(fig_dir: Path, gan_metric: str, out: Path = DASHBOARD) -> list[Path]:
    """Copy ``FIGURES`` from ``fig_dir`` (the report being written) and write ``CONFUSIONS``
    from the LGG metrics; return the paths written."""
    written = []
    for name in FIGURES:
        with atomic_path(out / name) as tmp:
            shutil.copyfile(fig_dir / name, tmp)
        written.append(out / name)
    for mod, name in CONFUSIONS.items():
        result = load_json(layout.metrics("lgg", file_of(mod, gan_metric)))
        write_json(out / name, confusion_rows(result["detection"]["test"]))
        written.append(out / name)
    return written
