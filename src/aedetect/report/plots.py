"""Plots: arrays in, a matplotlib Figure out. No pyplot state, no files.

Figures are drawn at the size the report shows them (:data:`WIDTH_PX` CSS
pixels wide), with text of at least 9 pt (12 px at that size), so that they
read on a laptop and on a phone without being shrunk; :func:`figure_svg` gives
them as vector SVG with real text. One colour means one thing in every plot:
:data:`NORMAL` rows, :data:`FLAGGED` rows (score above the threshold), rings of
:data:`KNOWN` for known anomalies (labels), :data:`THRESHOLD` for the threshold.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import Any, TypeVar

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from aedetect.report.numbers import number

__all__ = [
    "COLOURS",
    "WIDTH_PX",
    "figure_png",
    "figure_svg",
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

NORMAL, FLAGGED, KNOWN, THRESHOLD, LINE = "#4c72b0", "#c44e52", "#e08a1e", "#222222", "#444444"
ANOMALY = FLAGGED  # the anomaly side of curves and sweeps
COLOURS = {
    "normal": NORMAL,
    "flagged (score above the threshold)": FLAGGED,
    "known anomaly (label)": KNOWN,
}
# Width the report shows a figure at, in CSS pixels (96 per inch), and the
# matplotlib settings that make its text 12 px or more at that width.
WIDTH_PX = 340
_WIDTH_IN = WIDTH_PX / 96
_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 10,
    "legend.framealpha": 0.85,
    "legend.borderpad": 0.3,
    "legend.handletextpad": 0.4,
    "svg.fonttype": "none",
    "svg.hashsalt": "aedetect",
    "font.family": "sans-serif",
}
_F = TypeVar("_F", bound=Callable[..., Any])


def _styled(fn: _F) -> _F:
    """Build the figure under the report's font sizes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(_RC):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


styled = _styled  # for the report's other figure modules (series)


@_styled
def latent_scatter(
    codes: np.ndarray,
    flagged: np.ndarray,
    names: list[str] | None = None,
    title: str = "Latent codes",
    known: np.ndarray | None = None,
    axes: tuple[str, str] = ("latent 1", "latent 2"),
) -> Figure:
    """Scatter of 2-D latent codes: flagged rows in red, known anomalies ringed.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, 2)
        Latent codes (project wider codes first).
    flagged : ndarray of shape (n_samples,)
        1 for rows flagged as anomalies.
    names : list of str, optional
        Text to write beside each flagged point (at most 20 are written).
    title : str
        Figure title ("" for none: the report's caption says it).
    known : ndarray of shape (n_samples,), optional
        1 for rows labelled anomalous: drawn with a ring.
    axes : tuple of str
        The axis labels (say "PC 1" when the codes were projected).
    """
    codes = np.asarray(codes, dtype=float)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"latent_scatter needs codes of shape (n, 2), got {codes.shape}")
    mask = np.asarray(flagged).astype(bool)
    fig, ax = _figure(title, 3.5)
    ax.scatter(*codes[~mask].T, s=4, alpha=0.35, color=NORMAL, label=f"normal ({(~mask).sum():,})")
    ax.scatter(*codes[mask].T, s=22, color=FLAGGED, lw=0, label=f"flagged ({mask.sum():,})")
    _ring(ax, codes[:, 0], codes[:, 1], known)
    if names is not None and mask.sum() <= 20:
        for (x, y), name in zip(codes[mask], np.asarray(names, dtype=object)[mask], strict=True):
            ax.annotate(str(name), (x, y), xytext=(3, 3), textcoords="offset points")
    _finish(ax, *axes, below=True)
    return fig


def _ring(ax: Any, x: np.ndarray, y: np.ndarray, known: np.ndarray | None) -> None:
    """Ring the known anomalies (labels), whatever their colour."""
    if known is None:
        return
    k = np.asarray(known).astype(bool)
    ax.scatter(
        x[k],
        y[k],
        s=40,
        facecolors="none",
        edgecolors=KNOWN,
        lw=1.3,
        label=f"known anomaly ({k.sum():,})",
    )


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
    points = centred @ vt[:2].T  # one row has one component: padded with zeros
    return np.column_stack([points, np.zeros((len(codes), 2 - points.shape[1]))])


def _figure(title: str, height: float = 2.7) -> tuple[Figure, Any]:
    """Make a figure WIDTH_PX wide (``height`` in inches), one axes, no title when ""."""
    fig = Figure(figsize=(_WIDTH_IN, height), layout="constrained")
    ax = fig.add_subplot()
    if title:
        ax.set_title(title)
    return fig, ax


def _finish(
    ax: Any,
    xlabel: str,
    ylabel: str,
    x_log: bool = False,
    y_log: bool = False,
    below: bool = False,
) -> None:
    """Label the axes, set log scales where asked, and draw the legend.

    Log axes get plain tick labels (``0.01``, ``1``, ``1,000``): no superscript
    exponents, whose small text would not read at the size shown. ``below`` puts
    the legend under the axes, where it hides no point of a scatter.
    """
    for log, axis, scale in ((x_log, ax.xaxis, ax.set_xscale), (y_log, ax.yaxis, ax.set_yscale)):
        if log:
            scale("log")
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v)))
            axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if below:
        ax.figure.legend(loc="outside lower center", ncols=2, frameon=False)
    else:
        ax.legend()


def _log_scale(values: np.ndarray) -> bool:
    """Positive values that span more than two decades read better on a log axis."""
    v = values[np.isfinite(values)]
    return bool(v.size and v.min() > 0 and v.max() / v.min() > 100)


def _threshold_label(threshold: float) -> str:
    return f"threshold {number(threshold)}"


@_styled
def loss_plot(
    train_loss: list[float],
    val_loss: list[float] | None = None,
    best_epoch: int | None = None,
    title: str = "Training loss per epoch",
) -> Figure:
    """Training (and validation) loss per epoch, with the epoch whose weights were kept."""
    fig, ax = _figure(title)
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, color=LINE, label="train")
    if val_loss:
        ax.plot(
            np.arange(1, len(val_loss) + 1), val_loss, color="#999999", ls="--", label="validation"
        )
    if best_epoch:
        ax.axvline(best_epoch, color=THRESHOLD, ls=":", lw=1, label=f"kept (epoch {best_epoch})")
    _finish(ax, "epoch", "loss", y_log=_log_scale(np.asarray(train_loss, dtype=float)))
    return fig


@_styled
def score_histogram(
    scores: np.ndarray,
    labels: np.ndarray | None = None,
    threshold: float | None = None,
    title: str = "Score distribution",
    bins: int = 50,
) -> Figure:
    """Histogram of scores (normal vs known anomalies when labels are known) and the threshold.

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
        ax.hist(s, bins=edges, color=NORMAL, alpha=0.8, label=f"all rows ({len(s):,})")
    else:
        y = np.asarray(labels).astype(bool)
        ax.hist(s[~y], bins=edges, color=NORMAL, alpha=0.6, label=f"normal ({(~y).sum():,})")
        ax.hist(s[y], bins=edges, color=KNOWN, alpha=0.8, label=f"known anomaly ({y.sum():,})")
    if threshold is not None:
        ax.axvline(threshold, color=THRESHOLD, ls="--", lw=1.2, label=_threshold_label(threshold))
    _finish(ax, "score (higher = more anomalous)", "rows (log scale)", x_log=log, y_log=True)
    return fig


@_styled
def score_index_plot(
    scores: np.ndarray,
    threshold: float | None = None,
    labels: np.ndarray | None = None,
    title: str = "Score by row",
    flagged: np.ndarray | None = None,
) -> Figure:
    """Score against row number (from 1): flagged rows in red, known anomalies ringed.

    ``flagged`` (a 0/1 mask) says which rows are flagged when it is not every row
    above ``threshold`` (a series flags one row per burst).
    """
    s = np.asarray(scores, dtype=np.float64)
    fig, ax = _figure(title, 3.2)
    rows = np.arange(1, len(s) + 1)
    if flagged is not None:
        red = np.asarray(flagged, dtype=bool)
    else:
        red = s > threshold if threshold is not None else np.zeros(len(s), bool)
    size = 3 if len(s) > 2000 else 6
    ax.scatter(rows[~red], s[~red], s=size, color=NORMAL, alpha=0.5, lw=0, label="normal")
    ax.scatter(rows[red], s[red], s=size * 3, color=FLAGGED, lw=0, label=f"flagged ({red.sum():,})")
    _ring(ax, rows, s, labels)
    if threshold is not None:
        ax.axhline(threshold, color=THRESHOLD, ls="--", lw=1.2, label=_threshold_label(threshold))
    _finish(ax, "row", "score", y_log=_log_scale(s), below=True)
    return fig


@_styled
def roc_plot(labels: np.ndarray, scores: np.ndarray, title: str = "ROC curve") -> Figure:
    """Receiver operating characteristic with its area (anomaly = positive)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    fig, ax = _figure(title, 3.0)
    ax.plot(fpr, tpr, color=LINE, label=f"AUROC {roc_auc_score(labels, scores):.3f}")
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.legend(loc="lower right")
    return fig


@_styled
def pr_plot(
    labels: np.ndarray, scores: np.ndarray, title: str = "Precision-recall curve"
) -> Figure:
    """Precision against recall with the area under the curve and the base rate."""
    from sklearn.metrics import auc, precision_recall_curve

    precision, recall, _ = precision_recall_curve(labels, scores)
    fig, ax = _figure(title, 3.0)
    ax.plot(recall, precision, color=LINE, label=f"PR-AUC {auc(recall, precision):.3f}")
    base = float(np.mean(labels))
    ax.axhline(base, color="#999999", ls=":", lw=1, label=f"base rate {base:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    return fig


@_styled
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


@_styled
def image_grid(
    images: np.ndarray,
    reconstructions: np.ndarray | None = None,
    titles: list[str] | None = None,
    title: str = "Most anomalous items",
    ncols: int = 4,
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
    ncols : int, default=4
        Images per row (the figure is WIDTH_PX wide whatever their number).
    """
    images = _channels_last(np.asarray(images, dtype=np.float64))
    if reconstructions is not None:
        reconstructions = _channels_last(np.asarray(reconstructions, dtype=np.float64))
    n = len(images)
    ncols = max(1, min(ncols, n))
    per = 2 if reconstructions is not None else 1
    nrows = int(np.ceil(n / ncols)) * per
    cell = _WIDTH_IN / ncols
    head = 0.3 if title else 0.0
    fig = Figure(figsize=(_WIDTH_IN, (cell + 0.2) * nrows + head), layout="constrained")
    if title:
        fig.suptitle(title)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(n):
        r, c = divmod(i, ncols)
        pairs = [(images[i], titles[i] if titles else "")]
        if reconstructions is not None:
            pairs.append((np.asarray(reconstructions[i], dtype=np.float64), ""))  # under its image
        for j, (img, text) in enumerate(pairs):
            ax = axes[r * per + j, c]
            ax.imshow(_display(img), cmap="gray" if img.ndim == 2 else None)
            ax.set_title(text)
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


def figure_png(fig: Figure, dpi: int = 200) -> bytes:
    """Render a figure to PNG bytes (the caller decides where they go)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


_ID = re.compile(r"""(\bid=")([^"]+)(")|(url\(#)([^)]+)(\))|(href="#)([^"]+)(")""")


def figure_svg(fig: Figure, prefix: str = "f") -> str:
    """Render a figure as an inline ``<svg>`` element with real text.

    Its ids get ``prefix`` so that several figures can share one page; its
    ``width`` / ``height`` stay those it was drawn at (in pt: WIDTH_PX CSS px).
    """
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # Inline in HTML: no namespaces or metadata needed; the page's CSS sets the font.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r' xmlns(:xlink)?="[^"]*"', "", text)
    text = re.sub(r"font-family: [^;\"]*;? ?", "", text)

    def rename(m: re.Match[str]) -> str:
        g = [x for x in m.groups() if x is not None]
        return f"{g[0]}{prefix}-{g[1]}{g[2]}"

    return _ID.sub(rename, text)
