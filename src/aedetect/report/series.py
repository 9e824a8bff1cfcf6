"""Series figures: the values with the flagged rows and labelled windows, the score below.

Arrays in, Figures out. A long series gets an overview and one figure per segment
(at most :data:`MAX_SEGMENTS`), so that a burst of a few rows stays visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from aedetect.report.plots import ANOMALY, NORMAL, THRESHOLD, WIDTH_PX, styled

__all__ = ["MAX_SEGMENTS", "SEGMENT_ROWS", "SeriesView", "runs", "series_figures"]

SEGMENT_ROWS = 2000
MAX_SEGMENTS = 8
MAX_CHANNELS = 4
LABELLED = "#f2b134"


@dataclass
class SeriesView:
    """A scored series as plain data: what the series figures draw.

    ``times`` (or None: row numbers), ``values`` (one column per channel),
    ``scores`` per row (NaN before the first window), ``flags`` 0/1 per row,
    ``labels`` 0/1 per row when known, ``lines`` the series' settings in words.
    """

    times: np.ndarray | None
    values: pd.DataFrame
    scores: np.ndarray
    flags: np.ndarray
    threshold: float
    labels: np.ndarray | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) row of each run of true values in ``mask``."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _segments(n: int) -> list[tuple[int, int]]:
    if n <= SEGMENT_ROWS:
        return []
    size = max(SEGMENT_ROWS, math.ceil(n / MAX_SEGMENTS))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


@styled
def series_plot(view: SeriesView, a: int, b: int, title: str = "") -> Figure:
    """Rows ``a`` to ``b - 1``: values (flags, labelled windows) above, score below.

    Drawn at the report's figure width and font sizes (text of 11 px or more
    where it is shown; a click enlarges it); ``title`` is left to the caption.
    """
    x = np.arange(a, b) + 1 if view.times is None else view.times[a:b]
    fig = Figure(figsize=(WIDTH_PX / 96, 4.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for name in list(view.values.columns)[:MAX_CHANNELS]:
        top.plot(x, view.values[name].to_numpy()[a:b], lw=0.8, label=str(name))
    if view.labels is not None:
        for k, (s, e) in enumerate(runs(view.labels[a:b])):
            label = "labelled window" if k == 0 else None
            top.axvspan(x[s], x[e], color=LABELLED, alpha=0.3, lw=0, label=label)
    flagged = np.flatnonzero(view.flags[a:b])
    for k, i in enumerate(flagged):
        top.axvline(x[i], color=ANOMALY, lw=0.8, alpha=0.7, label="flagged" if k == 0 else None)
    if title:
        top.set_title(title)
    top.set_ylabel("value")
    s = view.scores[a:b]
    bottom.plot(x, s, color=NORMAL, lw=0.8, label="score")
    bottom.scatter(x[flagged], s[flagged], color=ANOMALY, s=14, zorder=3)
    bottom.axhline(view.threshold, color=THRESHOLD, ls="--", lw=1, label="threshold")
    bottom.set_ylabel("score")
    bottom.set_xlabel("row" if view.times is None else "time")
    if view.times is not None:
        locator = mdates.AutoDateLocator(minticks=2, maxticks=4)
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        bottom.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    handles, labels = [], []
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False)
    return fig


def series_figures(view: SeriesView) -> dict[str, Figure]:
    """Return the overview figure and, for a long series, one per segment."""
    n = len(view.scores)
    figures = {"Series, flagged rows and score": series_plot(view, 0, n)}
    for k, (a, b) in enumerate(_segments(n)):
        name = f"Series rows {a + 1}-{b} (segment {k + 1})"
        figures[name] = series_plot(view, a, b)
    return figures
