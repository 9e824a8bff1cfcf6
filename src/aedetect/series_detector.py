"""SeriesDetector: a windowed autoencoder over a time series, scored causally per row.

The series (one or more channels, in time order) is standardised per channel and
cut into windows (:func:`aedetect.data.series.sliding_windows`); an
:class:`~aedetect.AutoencoderDetector` (``model`` ``ae``, ``conv1d`` or ``lstm``)
learns to rebuild them. Each window gets two errors, its last row's and its mean;
each becomes a z-score against the same error of the ``history`` windows before it
(causal: nothing after the window's end is used), and the window's score is the
larger (``error="both"``). Row ``t`` gets the score of the latest window ending at or
before ``t``; the first ``window - 1`` rows of a series get none (NaN).

A window whose newest row leaves the range of every value seen before it (by more
than ``range_tolerance`` of the range's width) scores at least :data:`RANGE_SCORE`.
A row is flagged when its score is above the threshold (a rule fitted on the
training rows' scores, as for tables) and above every score of the ``suppress``
windows before it: one alarm per burst. The defaults were chosen on NAB
(BENCHMARKS.md).

Scoring goes through :class:`SeriesStream`, which carries the last ``window - 1``
rows, the recent errors and scores across calls: scoring a series in chunks gives
the same scores, bit for bit, as scoring it whole; and a fitted detector keeps the
stream's state at the end of its training series (``state_``), so it scores a
continuation of that series as if it had never stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.series import (
    WindowStream,
    causal_scores,
    default_window,
    new_highs,
    range_exits,
    rolling_z,
    series_values,
    sliding_windows,
)
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import ConfigError, DataError, NotFittedError
from aedetect.params import DEFAULTS, refuse_unused_by_series
from aedetect.thresholds import fit_rule, threshold_rule
from aedetect.training import EpochCallback

__all__ = ["SERIES_DEFAULTS", "SeriesDetector", "SeriesScores", "SeriesStream", "series_model"]

#: The window model's settings where the caller left the table defaults (measured on
#: NAB: BENCHMARKS.md): a small dense network, 60 epochs, every window trained on.
SERIES_DEFAULTS: dict[str, Any] = {
    "hidden": (16, 4),
    "epochs": 60,
    "scaling": "pooled",
    "clip": None,
    "validation_fraction": 0.0,
    "members": 1,  # windows are numbers, but the measured setting is one network
}
ERRORS = ("both", "last", "window")
_BATCH = 64
#: Score of a window whose new rows leave the range seen so far (``range_tolerance``).
RANGE_SCORE = 50.0
log = logging.getLogger("aedetect")


def series_model(detector: AutoencoderDetector | None = None) -> AutoencoderDetector:
    """Return the window model: ``detector``'s parameters, :data:`SERIES_DEFAULTS` if default."""
    params = (detector or AutoencoderDetector()).get_params(deep=False)
    for key, value in SERIES_DEFAULTS.items():
        if params[key] == DEFAULTS[key]:
            params[key] = value
    return AutoencoderDetector(**params)


@dataclass
class SeriesScores:
    """Scores of a stretch of rows.

    Attributes
    ----------
    scores : ndarray of shape (n_rows,)
        Per-row score (NaN before the first window of a fresh series).
    alarms : ndarray of bool, shape (n_rows,)
        Rows that end a window whose score beats the ``suppress`` windows before it.
    ends : ndarray of int
        Row index (0-based, counted from the start of the whole series) of each window end.
    window_scores : ndarray
        Each window's score.
    """

    scores: np.ndarray
    alarms: np.ndarray
    ends: np.ndarray
    window_scores: np.ndarray


class SeriesStream:
    """Scores a series that arrives in chunks; the concatenated scores equal the whole's.

    Parameters
    ----------
    det : SeriesDetector
        A fitted detector.
    state : dict, optional
        Where to resume (:meth:`state`); None starts a fresh series.
    """

    def __init__(self, det: SeriesDetector, state: dict[str, Any] | None = None) -> None:
        det._check_fitted()
        self.det = det
        self.windows = WindowStream(det.window_, det.stride_)
        self.errors = {k: np.empty(0) for k in det._kinds()}
        self.recent = np.empty(0)
        self.previous = np.nan
        # the range seen so far: the training series', then every row scored
        self.low, self.high = det.range_low_.copy(), det.range_high_.copy()
        self.pending = False  # a row beyond the range since the last window end
        if state is not None:
            self.windows.seen = int(state["seen"])
            tail = np.asarray(state["tail"], dtype=np.float64).reshape(-1, len(det.channels_))
            self.windows.tail = tail
            self.errors = {k: np.asarray(v, dtype=np.float64) for k, v in state["errors"].items()}
            self.recent = np.asarray(state["recent"], dtype=np.float64)
            self.previous = np.nan if state["previous"] is None else float(state["previous"])
            if "low" in state:
                self.low = np.asarray(state["low"], dtype=np.float64)
                self.high = np.asarray(state["high"], dtype=np.float64)
                self.pending = bool(state["pending"])

    def state(self) -> dict[str, Any]:
        """Return the stream's position as plain JSON-ready data."""
        tail = self.windows.tail
        prev = None if np.isnan(self.previous) else float(self.previous)
        return {
            "seen": int(self.windows.seen),
            "tail": [] if tail is None else tail.ravel().tolist(),
            "errors": {k: v.tolist() for k, v in self.errors.items()},
            "recent": self.recent.tolist(),
            "previous": prev,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "pending": self.pending,
        }

    def _new_range(self, x: np.ndarray, ends: np.ndarray, tolerance: float) -> np.ndarray:
        """Per window: whether a row since the previous window left the range seen before it.

        A row leaves the range when it is more than ``tolerance`` times the range's
        width above its highest or below its lowest earlier value (any channel).
        """
        beyond, self.low, self.high = range_exits(x, self.low, self.high, tolerance)
        count = int(self.pending) + np.cumsum(beyond)  # rows beyond the range, so far
        before = np.where(ends >= self.det.stride_, count[ends - self.det.stride_], 0)
        fresh = count[ends] > before if len(ends) else np.zeros(0, dtype=bool)
        last = int(ends[-1]) if len(ends) else -1
        if len(x):
            self.pending = bool(count[-1] - (count[last] if last >= 0 else 0) > 0)
        return fresh

    def push(self, chunk: Any) -> SeriesScores:
        """Score the next rows of the series."""
        det = self.det
        values, _ = series_values(chunk)
        if values.shape[1] != len(det.channels_):
            raise DataError(
                f"the series has {values.shape[1]} value columns, the model "
                f"{len(det.channels_)} ({', '.join(det.channels_)})"
            )
        start = self.windows.seen
        windows, ends = self.windows.push(det._scaled(values))
        per_kind = det._window_errors(windows)
        zs = []
        for kind, err in per_kind.items():
            past = self.errors[kind]
            zs.append(rolling_z(err, past, det.history) if det.history else err)
            self.errors[kind] = np.concatenate([past, err])[-max(det.history, 1) :]
        window_scores = np.max(zs, axis=0) if len(windows) else np.empty(0)
        if det.range_tolerance is not None:
            fresh = self._new_range(det._scaled(values), ends - start, det.range_tolerance)
            window_scores = np.where(fresh, np.maximum(window_scores, RANGE_SCORE), window_scores)
        high = new_highs(window_scores, self.recent, det.suppress)
        self.recent = np.concatenate([self.recent, window_scores])[-max(det.suppress, 1) :]
        scores = causal_scores(window_scores, ends, len(values), start, self.previous)
        alarms = np.zeros(len(values), dtype=bool)
        alarms[ends - start] = high
        if len(values):
            self.previous = float(scores[-1])
        return SeriesScores(scores, alarms, ends, window_scores)


class SeriesDetector:
    """Anomalies in a time series: a windowed autoencoder with causal per-row scores.

    **Higher score = more anomalous**; :meth:`predict` returns 1 for a flagged row.

    Parameters
    ----------
    detector : AutoencoderDetector, optional
        The window model's parameters (``model="ae"``, ``"conv1d"`` or ``"lstm"``);
        those left at their defaults take :data:`SERIES_DEFAULTS`. Its ``threshold``
        / ``contamination`` set the rule for the per-row scores.
    window : int, optional
        Rows per window. None: the dominant period by autocorrelation, in 8..256
        (:func:`aedetect.data.series.default_window`), at most half the series.
    stride : int, default=1
        Rows between window starts.
    error : {"both", "last", "window"}, default="both"
        Which window error makes the score: the last row's, the window's mean, or
        the larger z-score of the two.
    history : int, default=3000
        Earlier windows each error is standardised against; 0 scores raw errors.
    suppress : int, default=100
        A row is flagged only when its score beats the scores of this many windows
        before it (one alarm per burst); 0 flags every row above the threshold.
    range_tolerance : float or None, default=0.02
        A window whose new rows leave the range of every value seen before them (the
        training series' and the rows scored since) by more than this share of the
        range's width scores at least :data:`RANGE_SCORE` (as NAB's HTM detector's
        "spatial anomaly", which uses 0.05). None: off.

    Attributes
    ----------
    detector_ : AutoencoderDetector
        The fitted window model.
    window_, stride_ : int
        The window length and stride used.
    window_source_ : str
        ``"given"`` or how the window was chosen from the data.
    channels_ : list of str
        The value columns.
    decision_scores_ : ndarray
        Per-row scores of the training series.
    threshold_ : float
        Per-row scores above it (and new highs) are flagged.
    state_ : dict
        The scoring stream at the end of the training series (for a continuation).
    """

    def __init__(
        self,
        detector: AutoencoderDetector | None = None,
        window: int | None = None,
        stride: int = 1,
        error: str = "both",
        history: int = 3000,
        suppress: int = 100,
        range_tolerance: float | None = 0.02,
    ) -> None:
        self.detector = detector
        self.window = window
        self.stride = stride
        self.error = error
        self.history = history
        self.suppress = suppress
        self.range_tolerance = range_tolerance

    @property
    def epochs(self) -> int | str:
        """The window model's epochs (for a progress bar)."""
        return series_model(self.detector).epochs

    def check_params(self) -> None:
        """Validate the parameters; raise ConfigError naming the first bad one."""
        checks = [
            ("window", self.window, self.window is None or _int_at_least(self.window, 2), 2),
            ("stride", self.stride, _int_at_least(self.stride, 1), 1),
            ("history", self.history, _int_at_least(self.history, 0), 0),
            ("suppress", self.suppress, _int_at_least(self.suppress, 0), 0),
        ]
        for name, value, ok, low in checks:
            if not ok:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.history and self.history < 2:
            raise ConfigError(f"history must be 0 or >= 2, got {self.history}")
        tol = self.range_tolerance
        if tol is not None and not (isinstance(tol, int | float) and 0 <= tol < np.inf):
            raise ConfigError(f"range_tolerance must be a number >= 0 or None, got {tol!r}")
        if self.error not in ERRORS:
            raise ConfigError(f"error must be one of {', '.join(ERRORS)}, got {self.error!r}")
        model = series_model(self.detector)
        refuse_unused_by_series(model.get_params(deep=False))
        if model.series_shape is None:  # set at fit; a placeholder for the check
            model.set_params(series_shape=(2, 1))
        model.check_params()

    def _check_fitted(self) -> None:
        if not hasattr(self, "detector_"):
            raise NotFittedError("This SeriesDetector instance is not fitted yet: call fit first")

    def _kinds(self) -> tuple[str, ...]:
        return ("last", "window") if self.error == "both" else (self.error,)

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean_) / self.scale_

    def _window_errors(self, windows: np.ndarray) -> dict[str, np.ndarray]:
        if not len(windows):
            return {k: np.empty(0) for k in self._kinds()}
        # Always in batches of exactly _BATCH windows (the last one padded): a
        # convolution's or LSTM's result can depend on the batch size, and a window's
        # error must not depend on how the series was cut into chunks.
        n = len(windows)
        padded = np.concatenate([windows, np.repeat(windows[-1:], -n % _BATCH, axis=0)])
        per_column = self.detector_.feature_errors(padded, chunk=_BATCH)[:n]
        last = per_column[:, -len(self.channels_) :].mean(axis=1)
        out = {"last": last, "window": per_column.mean(axis=1)}
        return {k: out[k].astype(np.float64) for k in self._kinds()}

    def _choose_window(self, values: np.ndarray) -> int:
        if self.window is not None:
            self.window_source_ = "given"
            return int(self.window)
        window = default_window(values)
        self.window_source_ = "from the data: dominant period by autocorrelation, in 8..256"
        if window > len(values) // 2:
            window = max(2, len(values) // 2)
            self.window_source_ += ", cut to half the series"
        return window

    def fit(
        self, X: Any, y: Any = None, *, on_epoch: EpochCallback | None = None
    ) -> SeriesDetector:
        """Fit on a series: rows in time order, one column per channel.

        Parameters
        ----------
        X : array of shape (rows,) or (rows, channels), or DataFrame of value columns
            The training series (mostly normal).
        y : array-like of 0/1 per row, optional
            Labels; only the ``f1`` threshold rule uses them.
        on_epoch : callable, optional
            ``on_epoch(epoch, train_loss, val_loss)`` after every epoch.
        """
        self.check_params()
        values, names = series_values(X)
        self.channels_ = names
        window = self._choose_window(values)
        self.window_, self.stride_ = window, int(self.stride)
        self.mean_ = values.mean(axis=0)
        sd = values.std(axis=0)
        self.scale_ = np.where(sd > 1e-12 * (1 + np.abs(self.mean_)), sd, 1.0)
        if len(values) < window:
            raise DataError(
                f"{len(values)} rows is shorter than one window ({window} rows); "
                "use a smaller window"
            )
        scaled = self._scaled(values)
        windows = sliding_windows(scaled, window, self.stride_)
        if len(windows) < 2:
            fix = f"give stride {len(values) - window} or less" if self.stride_ > 1 else ""
            raise DataError(
                f"{len(values)} rows give {len(windows)} window of {window} rows, one every "
                f"{self.stride_} rows (stride); need at least 2 to fit: "
                + (fix or "use a smaller window")
            )
        constant = [n for n, s in zip(names, sd, strict=True) if s == 0]
        if constant:
            log.warning(
                "value column(s) constant in training (%s): any other value will count as unusual",
                ", ".join(repr(c) for c in constant[:5]) + (" ..." if len(constant) > 5 else ""),
            )
        self.range_low_, self.range_high_ = scaled.min(axis=0), scaled.max(axis=0)
        model = series_model(self.detector)
        model.set_params(series_shape=(window, len(names)))
        self.detector_ = model.fit(windows, on_epoch=on_epoch)
        stream = SeriesStream(self)
        out = stream.push(values)
        self.state_ = stream.state()
        scored = ~np.isnan(out.scores)
        rule = threshold_rule(model.threshold, model.contamination)
        labels = None if y is None else np.asarray(y)[scored]
        fit_rule(rule, out.scores[scored], None, labels, name=f"threshold={model.threshold!r}")
        self.threshold_, self.threshold_rule_ = float(rule.threshold_), rule.describe()
        self.decision_scores_ = out.scores
        self.labels_ = self.flags(out)
        return self

    def flags(self, out: SeriesScores) -> np.ndarray:
        """0/1 per row: a window end whose score is above the threshold and a new high."""
        self._check_fitted()
        return (out.alarms & (np.nan_to_num(out.scores, nan=-np.inf) > self.threshold_)).astype(int)

    def stream(self, resume: bool = False) -> SeriesStream:
        """Return a scoring stream: fresh, or (``resume``) continuing the training series."""
        self._check_fitted()
        return SeriesStream(self, self.state_ if resume else None)

    def score_series(self, X: Any, resume: bool = False) -> SeriesScores:
        """Scores of a whole series (or, ``resume``, of the rows after the training series)."""
        return self.stream(resume).push(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """Per-row anomaly score of a whole series (NaN for the first ``window - 1`` rows)."""
        return self.score_series(X).scores

    def predict(self, X: Any) -> np.ndarray:
        """0/1 per row (see :meth:`flags`)."""
        return self.flags(self.score_series(X))

    def explain_rows(self, X: Any, rows: Sequence[int], top: int = 1) -> pd.DataFrame:
        """For each row (0-based), the channels whose error made the window ending there.

        Returns one line per (row, channel): ``row``, ``channel``, ``start`` and
        ``end`` (0-based rows of the stretch of the window where that channel's error
        is at least a quarter of its largest), ``peak`` (the row of its largest
        error), ``seen`` and ``expected`` (the value and its reconstruction there, in
        the series' units), ``error`` and ``share`` (of the window's error).
        """
        self._check_fitted()
        values, _ = series_values(X)
        w, c = self.window_, len(self.channels_)
        records = []
        for row in rows:
            if row < w - 1:
                raise DataError(f"row {row + 1} ends no window: the first is row {w}")
            win = self._scaled(values[row - w + 1 : row + 1]).reshape(1, -1)
            err = self.detector_.feature_errors(win).reshape(w, c)
            recon = np.asarray(self.detector_.reconstruct(win), dtype=np.float64)
            recon = recon.reshape(w, c) * self.scale_ + self.mean_
            total = float(err.sum()) or 1.0
            for ch in np.argsort(-err.sum(axis=0), kind="stable")[: max(1, int(top))]:
                e = err[:, ch]
                peak = int(np.argmax(e))
                big = e >= 0.25 * e[peak]
                lo, hi = peak, peak
                while lo > 0 and big[lo - 1]:
                    lo -= 1
                while hi < w - 1 and big[hi + 1]:
                    hi += 1
                first = row - w + 1
                records.append(
                    (row, self.channels_[ch], first + lo, first + hi, first + peak,
                     values[first + peak, ch], recon[peak, ch], float(e.sum()),
                     float(e.sum()) / total)
                )  # fmt: skip
        columns = ["row", "channel", "start", "end", "peak", "seen", "expected", "error", "share"]
        return pd.DataFrame(records, columns=columns)

    # ------------------------------------------------------------ saving
    def to_extra(self) -> dict[str, Any]:
        """Everything but the window model, as JSON-ready data (the model file's ``extra``)."""
        self._check_fitted()
        return {
            "params": {
                "window": self.window,
                "stride": self.stride,
                "error": self.error,
                "history": self.history,
                "suppress": self.suppress,
                "range_tolerance": self.range_tolerance,
            },
            "window": self.window_,
            "window_source": self.window_source_,
            "stride": self.stride_,
            "channels": list(self.channels_),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "range": [self.range_low_.tolist(), self.range_high_.tolist()],
            "threshold": self.threshold_,
            "threshold_rule": self.threshold_rule_,
            "state": self.state_,
            "n_rows": len(self.decision_scores_),
            "flagged": int(np.sum(self.labels_)),
        }

    @classmethod
    def from_extra(cls, model: AutoencoderDetector, data: dict[str, Any]) -> SeriesDetector:
        """Rebuild a fitted detector from its window model and :meth:`to_extra`'s output."""
        det = cls(None, **data["params"])
        det.detector_ = model
        det.window_, det.stride_ = int(data["window"]), int(data["stride"])
        det.window_source_ = data["window_source"]
        det.channels_ = list(data["channels"])
        det.mean_ = np.asarray(data["mean"], dtype=np.float64)
        det.scale_ = np.asarray(data["scale"], dtype=np.float64)
        det.range_low_, det.range_high_ = (np.asarray(r, dtype=np.float64) for r in data["range"])
        det.threshold_, det.threshold_rule_ = float(data["threshold"]), data["threshold_rule"]
        det.state_ = data["state"]
        return det


def _int_at_least(value: Any, low: int) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= low
