"""Figures for REPORT.md, drawn from evaluation outputs (no model is run here)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from segstudy.drawing import save
from segstudy.io import read_live_series


def read_curve(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A dvclive metric series as arrays (``segstudy.io.read_live_series``)."""
    epochs, values = read_live_series(folder, name)
    return np.array(epochs), np.array(values)


CURVE_PANELS = (  # (column title, [(logged name, line style, legend text)])
    ("loss per epoch", [("loss", "-", "train"), ("g_loss", "-", "G train"),
                        ("val_loss", "--", "val (supervised)"), ("d_loss", ":", "D train")]),
    ("validation IoU", [("val_iou", "-", "val")]),
    ("D's approximation error", [("d_error", "-", "train"), ("val_d_error", "--", "val")]),
)


def curves(runs: Mapping[str, Mapping[int, Path]], path: Path, title: str) -> str:
    """Learning curves: a row per model (U-Net, control, GAN), a colour per seed; columns are
    the losses (train solid, validation dashed, D's dotted), validation IoU and, for a GAN,
    D's mean absolute error against the true quality of G's outputs."""
    rows = [(label, seeds) for label, seeds in runs.items() if seeds]
    fig, axes = plt.subplots(max(1, len(rows)), len(CURVE_PANELS),
                             figsize=(13, 2.8 * max(1, len(rows))), squeeze=False)
    for r, (label, seeds) in enumerate(rows):
        for c, (panel, series) in enumerate(CURVE_PANELS):
            ax = axes[r, c]
            for k, (seed, folder) in enumerate(sorted(seeds.items())):
                for name, style, text in series:
                    x, y = read_curve(folder, name)
                    if len(x):
                        ax.plot(x, y, style, color=f"C{k}", marker=".", markersize=3,
                                label=f"seed {seed} {text}")
            ax.set_title(f"{label}: {panel}", fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            if ax.lines:
                ax.legend(fontsize=6, ncol=2)
            else:
                ax.text(0.5, 0.5, "not logged for this model", ha="center", va="center",
                        fontsize=8, transform=ax.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def isbi_examples(image: np.ndarray, label: np.ndarray, preds: dict[str, np.ndarray],
                  path: Path, title: str) -> str:
    cols = 2 + len(preds)
    fig, axes = plt.subplots(1, cols, figsize=(3 * cols, 3.2))
    panels = [("input", image), ("label (white = interior)", label * 255)]
    panels += [(k, v) for k, v in preds.items()]
    for ax, (name, arr) in zip(axes, panels, strict=True):
        ax.imshow(arr, cmap="gray", vmin=0, vmax=255)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    return save(fig, path)


def isbi_unlabelled(images: np.ndarray, preds: dict[str, np.ndarray], path: Path) -> str:
    n = len(images)
    fig, axes = plt.subplots(n, 1 + len(preds), figsize=(3 * (1 + len(preds)), 3 * n),
                             squeeze=False)
    for r in range(n):
        for c, (name, arr) in enumerate([("test-volume input", images[r])]
                                        + [(k, v[r]) for k, v in preds.items()]):
            axes[r, c].imshow(arr, cmap="gray", vmin=0, vmax=255)
            axes[r, c].set_title(name, fontsize=8)
            axes[r, c].axis("off")
    return save(fig, path)


def lgg_examples(images: np.ndarray, masks: np.ndarray, preds: dict[str, np.ndarray],
                 titles: list[str], path: Path) -> str:
    """FLAIR channel with contours: ground truth green, each model in its own colour."""
    colours = ["red", "deepskyblue", "orange"]
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(3 * n, 3.3), squeeze=False)
    for i in range(n):
        ax = axes[0, i]
        ax.imshow(images[i][..., 1], cmap="gray")
        if masks[i].any():
            ax.contour(masks[i], levels=[0.5], colors="lime", linewidths=1)
        for p, col in zip(preds.values(), colours, strict=False):
            if (p[i] > 127).any():
                ax.contour(p[i] > 127, levels=[0.5], colors=col, linewidths=1)
        ax.set_title(titles[i], fontsize=8)
        ax.axis("off")
    names = ", ".join(f"{n} {c}" for n, c in zip(preds, colours, strict=False))
    fig.suptitle(f"FLAIR; ground truth lime, {names}", fontsize=9)
    return save(fig, path)


def per_patient_dice(scores: dict[str, dict[str, np.ndarray]], anchor: float, path: Path) -> str:
    """One dot per patient volume: ``scores[model][split]`` Dice values, the anchor dashed."""
    models = list(scores)
    splits = [s for s in ("train", "val", "test") if any(s in v for v in scores.values())]
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(splits) * len(models), 3.4))
    rng = np.random.default_rng(0)  # horizontal jitter only, for legibility
    ticks, labels = [], []
    for j, split in enumerate(splits):
        for k, model in enumerate(models):
            x = j * (len(models) + 1) + k
            values = np.asarray(scores[model].get(split, []), dtype=float)
            ax.scatter(x + rng.uniform(-0.18, 0.18, len(values)), values, s=12, alpha=0.7,
                       color=f"C{k}")
            if len(values):
                ax.hlines(np.median(values), x - 0.3, x + 0.3, color="black", linewidth=1.5)
            ticks.append(x)
            labels.append(f"{model}\n{split} (n={len(values)})")
    ax.axhline(anchor, color="grey", linestyle="--", linewidth=1)
    ax.text(ticks[-1] + 0.4, anchor, f"Buda et al. {anchor}", fontsize=7, va="bottom",
            ha="right", color="grey")
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("Dice per patient volume")
    ax.set_title("LGG: one dot per patient (bar: median)", fontsize=9)
    return save(fig, path)


def class_distribution(counts: dict[str, dict[str, int]], path: Path) -> str:
    splits = list(counts)
    tumour = [counts[s]["Tumour"] for s in splits]
    none = [counts[s]["No tumour"] for s in splits]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    xs = np.arange(len(splits))
    ax.bar(xs - 0.2, tumour, 0.4, label="Tumour")
    ax.bar(xs + 0.2, none, 0.4, label="No tumour")
    for x, t, n in zip(xs, tumour, none, strict=True):
        ax.text(x - 0.2, t, str(t), ha="center", va="bottom", fontsize=8)
        ax.text(x + 0.2, n, str(n), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs, splits)
    ax.set_ylabel("slices")
    ax.legend(fontsize=8)
    ax.set_title("LGG class distribution per split", fontsize=9)
    return save(fig, path)


def cell_errors(true_cells: np.ndarray, pred_cells: np.ndarray, min_overlap: int = 50
                ) -> tuple[np.ndarray, np.ndarray]:
    """Masks of *merges* (predicted cells that overlap two or more true cells by at least
    ``min_overlap`` pixels each) and *splits* (true cells overlapped so by two or more
    predicted cells). Label 0 (membrane) is ignored on both sides."""
    both = (true_cells > 0) & (pred_cells > 0)
    pairs, counts = np.unique(np.stack([true_cells[both], pred_cells[both]]), axis=1,
                              return_counts=True)
    big = pairs[:, counts >= min_overlap]
    merged = [p for p in np.unique(big[1]) if (big[1] == p).sum() > 1]
    split = [t for t in np.unique(big[0]) if (big[0] == t).sum() > 1]
    return np.isin(pred_cells, merged), np.isin(true_cells, split)


def isbi_cells(image: np.ndarray, label: np.ndarray, preds: dict[str, np.ndarray],
               title: str, path: Path) -> str:
    """One held-out slice: the image, the true cells and each model's cells in random colours
    (4-connected interior components), merges outlined in red and splits in yellow."""
    from skimage.color import label2rgb
    from skimage.measure import label as components
    from skimage.segmentation import find_boundaries

    truth = components(label > 0, connectivity=1)
    fig, axes = plt.subplots(1, 2 + len(preds), figsize=(4 * (2 + len(preds)), 4.4))
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title("image")
    axes[1].imshow(label2rgb(truth, bg_label=0))
    axes[1].set_title(f"true cells ({truth.max()})")
    for ax, (name, pred) in zip(axes[2:], preds.items(), strict=True):
        cells = components(pred > 0, connectivity=1)
        merged, split = cell_errors(truth, cells)
        rgb = label2rgb(cells, bg_label=0)
        rgb[find_boundaries(np.where(merged, cells, 0))] = (1.0, 0.0, 0.0)
        rgb[find_boundaries(np.where(split, truth, 0))] = (1.0, 1.0, 0.0)
        n_merge = len(np.unique(cells[merged])) if merged.any() else 0
        n_split = len(np.unique(truth[split])) if split.any() else 0
        ax.imshow(rgb)
        ax.set_title(f"{name}: {cells.max()} cells\n{n_merge} merges (red), {n_split} splits "
                     "(yellow)")
    for ax in axes:
        ax.axis("off")
    fig.suptitle(title)
    return save(fig, path)
