"""Image and experiment plots: arrays in, a matplotlib Figure out. No files, no pyplot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "image_grid",
    "score_histograms",
    "score_lines",
    "threshold_sweep_plot",
    "precision_recall_plot",
    "training_curves",
]

NORMAL, ABNORMAL = "#4c72b0", "#c44e52"


def _display(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(c, h, w) -> something imshow draws: gray (h, w) or RGB (h, w, 3) in [0, 1]."""
    img = np.asarray(image, dtype=float)
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    if img.ndim == 3 and img.shape[0] == 1:
        return img[0], "gray"
    if img.ndim == 3:
        return img.transpose(1, 2, 0), None
    return img, "gray"


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    title: str = "",
    columns: int = 5,
) -> Figure:
    """Draw a grid of images (n, c, h, w) or (n, h, w), each with an optional title."""
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    cols = min(columns, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(1.7 * cols, 1.9 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        img, cmap = _display(images[k])
        ax.imshow(img, cmap=cmap, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def score_lines(
    panels: Mapping[str, np.ndarray], n_normal: int, title: str = "", ylabel: str = "loss"
) -> Figure:
    """One line per model: score against sample index, normal items first.

    ``panels`` maps a label (a model, an epoch) to its scores; the first
    ``n_normal`` items are normal, the rest abnormal (a dashed line marks it).
    """
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for name, values in panels.items():
        ax.plot(np.arange(len(values)), values, label=name, linewidth=1.2)
    ax.axvline(n_normal - 0.5, color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel(f"sample index (0..{n_normal - 1} normal, then abnormal)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def score_histograms(
    normal: np.ndarray,
    abnormal: np.ndarray,
    threshold: float | None = None,
    title: str = "",
    bins: int = 50,
) -> Figure:
    """Overlaid histograms of the scores of normal and abnormal items."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    both = np.concatenate([normal, abnormal])
    edges = np.linspace(float(both.min()), float(both.max()), bins + 1)
    ax.hist(normal, bins=edges, alpha=0.6, color=NORMAL, label=f"normal ({len(normal)})")
    ax.hist(abnormal, bins=edges, alpha=0.6, color=ABNORMAL, label=f"abnormal ({len(abnormal)})")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set_xlabel("reconstruction error (MSE)")
    ax.set_ylabel("items")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def threshold_sweep_plot(
    thresholds: np.ndarray,
    outliers_rejected: np.ndarray,
    inliers_rejected: np.ndarray,
    f1: np.ndarray,
    title: str = "",
) -> Figure:
    """Share of outliers rejected, of inliers rejected, and F1, against the threshold."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(thresholds, outliers_rejected, color=ABNORMAL, label="outliers rejected")
    ax.plot(thresholds, inliers_rejected, color=NORMAL, label="inliers rejected")
    ax.plot(thresholds, f1, color="black", linestyle="--", label="F1 (outlier = positive)")
    ax.set_xlabel("threshold")
    ax.set_ylabel("share")
    ax.set_ylim(-0.02, 1.02)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def precision_recall_plot(
    precision: np.ndarray, recall: np.ndarray, area: float, title: str = ""
) -> Figure:
    """Precision-recall curve with its area in the legend."""
    fig = Figure(figsize=(5.2, 4.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(recall, precision, color=ABNORMAL, label=f"area {area:.3f}")
    ax.set_xlabel("recall (outliers found)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.02)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def training_curves(
    curves: Mapping[str, Sequence[float]], title: str = "", notes: Mapping[str, str] | None = None
) -> Figure:
    """Training loss per epoch, one line per run; ``notes`` adds text to the labels."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for name, losses in curves.items():
        label = name + (f" ({notes[name]})" if notes and name in notes else "")
        ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (MSE)")
    ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
