"""Plots: arrays in, a matplotlib Figure out. No pyplot state, no files."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "figure_png",
    "image_grid",
    "latent_scatter",
    "loss_plot",
    "pr_plot",
    "project_2d",
    "roc_plot",
    "score_histogram",
    "score_index_plot",
    "sweep_plot",
]

NORMAL, ANOMALY, THRESHOLD = "#4c72b0", "#c44e52", "#222222"


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


def project_2d(codes: np.ndarray) -> np.ndarray:
    """Codes as 2-D points: as they are when 2-D, padded when 1-D, else their first two PCs."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2:
        raise ValueError(f"project_2d needs a 2-D array of codes, got shape {codes.shape}")
    if codes.shape[1] == 2:
        return codes
    if codes.shape[1] == 1:
        return np.column_stack([codes[:, 0], np.zeros(len(codes))])
    centred = codes - codes.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def _figure(title: str, size: tuple[float, float] = (6.4, 4.4)) -> tuple[Figure, Any]:
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    return fig, ax


def _finish(ax: Any, xlabel: str, ylabel: str, x_log: bool = False, y_log: bool = False) -> None:
    """Label the axes, set log scales where asked, and draw the legend."""
    if x_log:
        ax.set_xscale("log")
    if y_log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def _log_scale(values: np.ndarray) -> bool:
    """Positive values that span more than two decades read better on a log axis."""
    v = values[np.isfinite(values)]
    return bool(v.size and v.min() > 0 and v.max() / v.min() > 100)


def loss_plot(
    train_loss: list[float],
    val_loss: list[float] | None = None,
    best_epoch: int | None = None,
    title: str = "Training loss per epoch",
) -> Figure:
    """Training (and validation) loss per epoch, with the epoch whose weights were kept."""
    fig, ax = _figure(title)
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, color=NORMAL, label="train")
    if val_loss:
        ax.plot(np.arange(1, len(val_loss) + 1), val_loss, color="#dd8452", label="validation")
    if best_epoch:
        ax.axvline(best_epoch, color=THRESHOLD, ls=":", lw=1, label=f"kept (epoch {best_epoch})")
    _finish(ax, "epoch", "loss", y_log=_log_scale(np.asarray(train_loss, dtype=float)))
    return fig


def score_histogram(
    scores: np.ndarray,
    labels: np.ndarray | None = None,
    threshold: float | None = None,
    title: str = "Score distribution",
    bins: int = 60,
) -> Figure:
    """Histogram of scores (normal vs anomalous when labels are known) and the threshold.

    Scores spanning several decades are binned on a log axis.
    """
    s = np.asarray(scores, dtype=np.float64)
    fig, ax = _figure(title)
    log = _log_scale(s)
    edges = (
        np.geomspace(s.min(), s.max(), bins + 1) if log else np.linspace(s.min(), s.max(), bins + 1)
    )
    if edges[0] == edges[-1]:
        edges = np.linspace(edges[0] - 0.5, edges[0] + 0.5, bins + 1)
    if labels is None:
        ax.hist(s, bins=edges, color=NORMAL, alpha=0.8, label=f"all rows ({len(s)})")
    else:
        y = np.asarray(labels).astype(bool)
        ax.hist(s[~y], bins=edges, color=NORMAL, alpha=0.6, label=f"normal ({(~y).sum()})")
        ax.hist(s[y], bins=edges, color=ANOMALY, alpha=0.7, label=f"anomalous ({y.sum()})")
    if threshold is not None:
        ax.axvline(threshold, color=THRESHOLD, ls="--", lw=1.2, label=f"threshold {threshold:.4g}")
    if log:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("score (higher = more anomalous)")
    ax.set_ylabel("rows")
    ax.legend(fontsize=8)
    return fig


def score_index_plot(
    scores: np.ndarray,
    threshold: float | None = None,
    labels: np.ndarray | None = None,
    title: str = "Score by row",
) -> Figure:
    """Score against row number (from 1), known anomalies (or flagged rows) in red."""
    s = np.asarray(scores, dtype=np.float64)
    fig, ax = _figure(title)
    rows = np.arange(1, len(s) + 1)
    if labels is not None:
        red = np.asarray(labels).astype(bool)
        name = "known anomaly"
    else:
        red = s > threshold if threshold is not None else np.zeros(len(s), bool)
        name = "flagged"
    size = 3 if len(s) > 2000 else 8
    ax.scatter(rows[~red], s[~red], s=size, color=NORMAL, alpha=0.5, label="normal", lw=0)
    ax.scatter(rows[red], s[red], s=size * 3, color=ANOMALY, label=f"{name} ({red.sum()})", lw=0)
    if threshold is not None:
        ax.axhline(threshold, color=THRESHOLD, ls="--", lw=1.2, label=f"threshold {threshold:.4g}")
    _finish(ax, "row", "score", y_log=_log_scale(s))
    return fig


def roc_plot(labels: np.ndarray, scores: np.ndarray, title: str = "ROC curve") -> Figure:
    """Receiver operating characteristic with its area (anomaly = positive)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    fig, ax = _figure(title, (5.2, 4.6))
    ax.plot(fpr, tpr, color=ANOMALY, label=f"AUROC {roc_auc_score(labels, scores):.3f}")
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="chance")
    ax.set_xlabel("false-positive rate (inliers flagged)")
    ax.set_ylabel("true-positive rate (outliers flagged)")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def pr_plot(
    labels: np.ndarray, scores: np.ndarray, title: str = "Precision-recall curve"
) -> Figure:
    """Precision against recall with the area under the curve and the base rate."""
    from sklearn.metrics import auc, precision_recall_curve

    precision, recall, _ = precision_recall_curve(labels, scores)
    fig, ax = _figure(title, (5.2, 4.6))
    ax.plot(recall, precision, color=ANOMALY, label=f"PR-AUC {auc(recall, precision):.3f}")
    base = float(np.mean(labels))
    ax.axhline(base, color="#999999", ls=":", lw=1, label=f"base rate {base:.3f}")
    ax.set_xlabel("recall (outliers flagged)")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def sweep_plot(sweep: Any, title: str = "Threshold sweep") -> Figure:
    """Plot reference A's sweep: outliers rejected, inliers rejected and F1 per threshold.

    ``sweep`` is the DataFrame of :func:`aedetect.metrics.threshold_sweep`.
    """
    fig, ax = _figure(title)
    t = sweep["threshold"].to_numpy()
    ax.plot(t, sweep["outliers_rejected"], color=ANOMALY, label="outliers rejected")
    ax.plot(t, sweep["inliers_rejected"], color=NORMAL, label="inliers rejected")
    ax.plot(t, sweep["f1"], color=THRESHOLD, ls="--", label="F1")
    _finish(ax, "threshold", "share", x_log=_log_scale(t))
    return fig


def image_grid(
    images: np.ndarray,
    reconstructions: np.ndarray | None = None,
    titles: list[str] | None = None,
    title: str = "Most anomalous items",
    ncols: int = 5,
) -> Figure:
    """Images in a grid, each with its reconstruction beneath when given.

    Parameters
    ----------
    images : ndarray of shape (n, h, w), (n, h, w, 3) or (n, c, h, w)
        Pixel values; each image is scaled to its own range for display.
    reconstructions : ndarray of the same shape, optional
        Drawn in the row under each image.
    titles : list of str, optional
        One caption per image.
    title : str
        Figure title.
    ncols : int, default=5
        Images per row.
    """
    images = _channels_last(np.asarray(images, dtype=np.float64))
    if reconstructions is not None:
        reconstructions = _channels_last(np.asarray(reconstructions, dtype=np.float64))
    n = len(images)
    ncols = max(1, min(ncols, n))
    per = 2 if reconstructions is not None else 1
    nrows = int(np.ceil(n / ncols)) * per
    fig = Figure(figsize=(1.7 * ncols, 1.8 * nrows + 0.4), layout="constrained")
    fig.suptitle(title)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(n):
        r, c = divmod(i, ncols)
        pairs = [(images[i], titles[i] if titles else "")]
        if reconstructions is not None:
            pairs.append((np.asarray(reconstructions[i], dtype=np.float64), "reconstruction"))
        for j, (img, text) in enumerate(pairs):
            ax = axes[r * per + j, c]
            ax.imshow(_display(img), cmap="gray" if img.ndim == 2 else None)
            ax.set_title(text, fontsize=8)
    return fig


def _channels_last(images: np.ndarray) -> np.ndarray:
    """(n, h, w) stays; (n, 1, h, w) -> (n, h, w); (n, 3, h, w) -> (n, h, w, 3)."""
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images[:, 0] if images.shape[1] == 1 else np.moveaxis(images, 1, -1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"image_grid needs (n, h, w) or (n, h, w, c) images, got {images.shape}")
    return images


def _display(img: np.ndarray) -> np.ndarray:
    lo, hi = float(img.min()), float(img.max())
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def figure_png(fig: Figure, dpi: int = 120) -> bytes:
    """Render a figure to PNG bytes (the caller decides where they go)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
