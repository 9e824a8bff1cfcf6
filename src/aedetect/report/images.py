"""Plots of the reference experiments that compare several models or runs.

Arrays in, a matplotlib Figure out; no files, no pyplot. Single-model plots
(histograms, sweeps, curves, image grids) are in :mod:`aedetect.report.plots`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = ["score_lines", "training_curves"]

NORMAL, ABNORMAL = "#4c72b0", "#c44e52"


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
