"""Plots: arrays in, a matplotlib Figure out. No pyplot state, no files."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

__all__ = ["figure_png", "latent_scatter"]


def latent_scatter(
    codes: np.ndarray,
    flagged: np.ndarray,
    names: list[str] | None = None,
    title: str = "Latent codes",
) -> Figure:
    """Scatter of 2-D latent codes, flagged rows in red and labelled when few.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, 2)
        Latent codes (project wider codes first).
    flagged : ndarray of shape (n_samples,)
        1 for rows flagged as anomalies.
    names : list of str, optional
        Text to write beside each flagged point (at most 20 are written).
    title : str
        Figure title.
    """
    codes = np.asarray(codes, dtype=float)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"latent_scatter needs codes of shape (n, 2), got {codes.shape}")
    mask = np.asarray(flagged).astype(bool)
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(*codes[~mask].T, s=4, alpha=0.35, color="#4c72b0", label=f"normal ({(~mask).sum()})")
    ax.scatter(
        *codes[mask].T, s=40, color="#c44e52", edgecolor="black", label=f"flagged ({mask.sum()})"
    )
    if names is not None and mask.sum() <= 20:
        for (x, y), name in zip(codes[mask], np.asarray(names, dtype=object)[mask], strict=True):
            ax.annotate(str(name), (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set_xlabel("latent 1")
    ax.set_ylabel("latent 2")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return fig


def figure_png(fig: Figure, dpi: int = 120) -> bytes:
    """Render a figure to PNG bytes (the caller decides where they go)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
