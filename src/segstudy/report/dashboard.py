"""What ``dvc plots show`` draws (dvc.yaml's top-level ``plots``): copies of the report's
learning-curve and per-patient figures and of ``evaluate``'s LGG test confusion rows. Each is a
stage output in its own right, written beside ``report/``.

Why not point dvc.yaml at the files inside ``report/`` and the evaluation folders: DVC 3.67
resolves every top-level plot when ``dvc exp run`` finishes, and a plot inside a cached folder
output whose folder is not in the local cache (a fresh clone, nothing pulled) raises ``failed to
load directory`` there (``dvc/repo/plots/__init__.py: unpack_if_dir``), so ``dvc exp run <one
stage>`` failed after its stages had run. A plot that is an output itself is looked up by its
own lock entry only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from segstudy import layout
from segstudy.io import atomic_path
from segstudy.report.common import file_of

FIGURES = ("isbi_curves.png", "lgg_curves.png", "lgg_per_patient_dice.png")
CONFUSIONS = {"unet": "lgg_confusion_unet.json", "gan": "lgg_confusion_gan.json"}


def write_dashboard(fig_dir: Path, gan_metric: str, out: Path = layout.DASHBOARD) -> None:
    """Copy ``FIGURES`` from ``fig_dir`` (the report being written) and, as ``CONFUSIONS``,
    the LGG test confusion rows that ``evaluate`` wrote for DVC's ``confusion`` template."""
    sources = {name: fig_dir / name for name in FIGURES}
    sources |= {name: layout.eval_plots("lgg", file_of(mod, gan_metric)) / layout.EVAL_CONFUSION
                for mod, name in CONFUSIONS.items()}
    for name, source in sources.items():
        with atomic_path(out / name) as tmp:
            shutil.copyfile(source, tmp)
