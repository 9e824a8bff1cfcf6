"""Time series as windows: pure functions, no model.

- :func:`parse_time` parses a time column and reports what is wrong with it:
  numbers, unparseable values, duplicates and out-of-order rows raise a
  :class:`DataError` naming the file and the row; gaps (a step much longer than the
  usual one) are returned for the caller to report.
- :func:`default_window` picks a window length from the data: the dominant period
  by autocorrelation, bounded.
- :func:`sliding_windows` cuts one or several channels into windows (``stride``);
  window ``k`` covers rows ``k * stride`` to ``k * stride + window - 1`` and is
  flattened time-major (all channels of the first step, then the next step...).
- :func:`causal_scores` maps window scores to per-row scores: the score at row
  ``t`` is the score of the latest window that ends at or before ``t``, so it never
  uses a value after ``t``. The first ``window - 1`` rows, which no window ends at,
  get no score (NaN).
- :class:`WindowStream` cuts a series that arrives in chunks into exactly the
  windows of the whole series, carrying the last ``window - 1`` rows across chunk
  boundaries.
- :func:`rolling_z`, :func:`new_highs` and :func:`range_exits` are causal transforms of
  a score or value stream whose result does not depend on how it was cut into chunks.

Row numbers in messages are 1-based data rows (the header is not counted).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.exceptions import ConfigError, DataError

__all__ = [
    "TimeCheck",
    "WindowStream",
    "causal_scores",
    "default_window",
    "new_highs",
    "parse_time",
    "range_exits",
    "rolling_z",
    "series_values",
    "sliding_windows",
    "to_times",
    "window_ends",
]

MIN_WINDOW = 8
MAX_WINDOW = 256
FALLBACK_WINDOW = 32
GAP_FACTOR = 1.5  # a step longer than 1.5x the usual one is a gap


@dataclass(frozen=True)
class TimeCheck:
    """What :func:`parse_time` found: the usual step, the gaps, whether it sorted.

    Attributes
    ----------
    step : pandas.Timedelta or None
        The median step between consecutive timestamps (None for one row).
    gaps : list of (int, pandas.Timestamp, pandas.Timestamp)
        Each gap as (1-based row after the gap, timestamp before, timestamp after).
    sorted : bool
        Whether the rows had to be sorted (only with ``sort=True``).
    repeated : list of (int, pandas.Timestamp)
        Rows (1-based, in time order) whose timestamp equals the previous row's (only
        with ``duplicates=True``).
    """

    step: pd.Timedelta | None
    gaps: list[tuple[int, pd.Timestamp, pd.Timestamp]]
    sorted: bool
    repeated: list[tuple[int, pd.Timestamp]] = field(default_factory=list)


def parse_time(
    frame: pd.DataFrame,
    time_column: str,
    name: str = "data",
    sort: bool = False,
    duplicates: bool = False,
) -> tuple[pd.DataFrame, TimeCheck]:
    """Parse ``time_column`` into datetimes; check order, duplicates and gaps.

    Values are parsed by :func:`to_times`: ISO 8601 variants mix, and time-zone-aware
    timestamps become naive UTC.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; it is not modified.
    time_column : str
        The column holding the timestamps.
    name : str, default="data"
        The file name used in messages.
    sort : bool, default=False
        Sort out-of-order rows by time instead of raising.
    duplicates : bool, default=False
        Keep rows that repeat a timestamp (in file order; listed in the check, as a
        clock turned back for daylight saving gives) instead of raising.

    Returns
    -------
    frame : pandas.DataFrame
        A copy with ``time_column`` parsed (naive, UTC where a zone was given), sorted
        by time, index reset.
    check : TimeCheck
        The usual step and the gaps.

    Raises
    ------
    DataError
        The column is missing or holds numbers, a value is not a timestamp, a
        timestamp repeats, or (``sort=False``) a row is earlier than the one before it.
    """
    if time_column not in frame.columns:
        raise DataError(f"{name}: time_column {time_column!r} is not a column")
    raw = frame[time_column]
    _refuse_numbers(raw, time_column, name)
    times = to_times(raw)
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{name}: column {time_column!r} row {row + 1}: {raw.iloc[row]!r} is not a timestamp"
        )
    values = times.to_numpy()
    back = np.flatnonzero(values[1:] < values[:-1])
    if len(back) and not sort:
        row = int(back[0]) + 1
        raise DataError(
            f"{name}: column {time_column!r} row {row + 1}: {raw.iloc[row]} is earlier than "
            f"row {row} ({raw.iloc[row - 1]}); sort the rows by time"
        )
    out = frame.copy()
    out[time_column] = times
    if len(back):
        out = out.sort_values(time_column, kind="stable")
    original_rows = out.index.to_numpy()
    out = out.reset_index(drop=True)
    values = out[time_column].to_numpy()
    same = np.flatnonzero(values[1:] == values[:-1])
    if len(same) and duplicates:
        check = _gaps(out[time_column], bool(len(back)))
        check.repeated.extend((int(i) + 2, out[time_column].iloc[i + 1]) for i in same)
        return out, check
    if len(same):
        a, b = sorted(original_rows[same[0] : same[0] + 2])
        raise DataError(
            f"{name}: column {time_column!r} rows {a + 1} and {b + 1}: the same timestamp "
            f"{out[time_column].iloc[same[0]]}"
        )
    return out, _gaps(out[time_column], bool(len(back)))


def _refuse_numbers(raw: pd.Series, column: str, name: str) -> None:
    """Refuse numbers as times: read as nanoseconds since 1970 they would be garbage."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        raise DataError(
            f"{name}: column {column!r} holds numbers, not dates or times: write them as "
            "timestamps (e.g. 2024-01-31 17:05:00), or give no time column to take the rows "
            "in file order"
        )


def to_times(raw: pd.Series) -> pd.Series:
    """Parse timestamps (NaT where a value is not one); time-zone-aware ones become UTC.

    ISO 8601 variants mix freely (``2024-01-01``, ``2024-01-01 01:00:00``,
    ``2024-01-01T02:00:00+05:00``); values that are not ISO 8601 are parsed in the
    format of the first of them, and those left, one by one in any format pandas
    knows. A timestamp with an offset or zone is converted to UTC; one without is
    taken as it is (as UTC), so that every result is naive and comparable.
    """
    times = _parse(raw, "ISO8601")
    left = times.isna().to_numpy() & raw.notna().to_numpy()
    if left.any() and _parse(raw[left][:1], "mixed").isna().all():
        return times  # the first value left is no timestamp: no slow pass over the rest
    for how in (None, "mixed"):  # only the rows still unparsed (the slow way last)
        if not left.any():
            break
        times[left] = _parse(raw[left], how)
        left = times.isna().to_numpy() & raw.notna().to_numpy()
    return times


def _parse(raw: pd.Series, how: str | None) -> pd.Series:
    with warnings.catch_warnings():  # "could not infer format", numbers in text columns
        warnings.simplefilter("ignore")
        try:
            times = pd.to_datetime(raw, errors="coerce", format=how, utc=True)
        except (TypeError, ValueError, OverflowError):
            times = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    return times.dt.tz_localize(None).astype("datetime64[us]")


def _gaps(times: pd.Series, was_sorted: bool) -> TimeCheck:
    if len(times) < 2:
        return TimeCheck(None, [], was_sorted)
    steps = times.diff().iloc[1:]
    step = steps.median()
    where = np.flatnonzero((steps > GAP_FACTOR * step).to_numpy()) + 1
    gaps = [(int(i) + 1, times.iloc[i - 1], times.iloc[i]) for i in where]
    return TimeCheck(step, gaps, was_sorted)


def series_values(X: Any) -> tuple[np.ndarray, list[str]]:
    """Return a series as a float (rows, channels) array and its channel names.

    A DataFrame's channels are its columns; an array's are ``x0``, ``x1``...

    Raises
    ------
    DataError
        A value is not a number, missing or not finite, or the shape is not 1-D or 2-D.
    """
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        try:
            values = X.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError("a series needs numeric value columns") from None
    else:
        values = np.asarray(X, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        names = [f"x{i}" for i in range(values.shape[1])] if values.ndim == 2 else []
    if values.ndim != 2:
        raise DataError(f"a series must be 1-D or (rows, channels), got shape {values.shape}")
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise DataError(f"row {row + 1}: a series value is missing or not finite")
    return values, names


def _as_2d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        return values[:, None]
    if values.ndim != 2:
        raise DataError(f"a series must be 1-D or (rows, channels), got shape {values.shape}")
    return values


def default_window(values: np.ndarray, low: int = MIN_WINDOW, high: int = MAX_WINDOW) -> int:
    """Window length from the data: the dominant period by autocorrelation, in [low, high].

    The period is the lag of the highest local maximum of the autocorrelation of
    the (standardised, channel-averaged) series, searched up to ``2 * high`` lags
    and a third of the series; a period beyond ``high`` gives ``high``. A series
    without a clear period (no peak above 0.2) gets 32 (within the bounds).

    Raises
    ------
    ConfigError
        ``low`` is below 2 or above ``high``.
    """
    if not 2 <= low <= high:
        raise ConfigError(f"low must be in [2, high], got low={low}, high={high}")
    x = _as_2d(values)
    sd = x.std(axis=0)
    x = ((x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)).mean(axis=1)
    n = len(x)
    max_lag = min(2 * high, n // 3)
    fallback = int(np.clip(FALLBACK_WINDOW, low, high))
    if max_lag <= low or not np.any(x):
        return fallback
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[: max_lag + 1]
    acf = acf / acf[0]
    lags = np.arange(1, max_lag)
    peaks = lags[(acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1]) & (lags >= low)]
    peaks = peaks[acf[peaks] > 0.2]
    if not len(peaks):
        return fallback
    return int(np.clip(peaks[np.argmax(acf[peaks])], low, high))


def _check_window(window: int, stride: int) -> None:
    if int(window) != window or window < 1:
        raise ConfigError(f"window must be an integer >= 1, got {window}")
    if int(stride) != stride or stride < 1:
        raise ConfigError(f"stride must be an integer >= 1, got {stride}")


def window_ends(n_rows: int, window: int, stride: int = 1) -> np.ndarray:
    """Row index (0-based) of the last row of each window over ``n_rows`` rows."""
    _check_window(window, stride)
    return np.arange(window - 1, n_rows, stride)


def sliding_windows(
    values: np.ndarray, window: int, stride: int = 1, name: str = "series"
) -> np.ndarray:
    """Cut a series into windows, flattened time-major: shape (n_windows, window * channels).

    Parameters
    ----------
    values : array of shape (rows,) or (rows, channels)
        The series, in time order.
    window : int
        Rows per window.
    stride : int, default=1
        Rows between the starts of consecutive windows.
    name : str, default="series"
        The series' name in messages.

    Raises
    ------
    DataError
        The series is shorter than one window.
    """
    _check_window(window, stride)
    x = _as_2d(values)
    if len(x) < window:
        raise DataError(
            f"{name}: {len(x)} rows is shorter than one window ({window} rows); "
            f"use a smaller window"
        )
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[::stride]
    # view: (n_windows, channels, window) -> time-major (n_windows, window, channels)
    return np.ascontiguousarray(view.transpose(0, 2, 1)).reshape(len(view), -1)


def causal_scores(
    window_scores: np.ndarray,
    ends: np.ndarray,
    n_rows: int,
    start: int = 0,
    previous: float = np.nan,
) -> np.ndarray:
    """Per-row scores from window scores: row ``t`` gets the latest window ending <= ``t``.

    Parameters
    ----------
    window_scores : array of shape (n_windows,)
        One score per window.
    ends : array of shape (n_windows,)
        Each window's last row (0-based, the numbering of ``start``), increasing.
    n_rows : int
        Rows to score: ``start`` to ``start + n_rows - 1``.
    start : int, default=0
        The first row's index (a chunk's offset in the whole series).
    previous : float, default=nan
        The score in force before ``start`` (the last row of the previous chunk); rows
        before the first window end get it (NaN for a whole series: no score).

    Returns
    -------
    array of shape (n_rows,)
    """
    rows = np.arange(start, start + n_rows)
    k = np.searchsorted(np.asarray(ends), rows, side="right") - 1
    scores = np.asarray(window_scores, dtype=float)
    return np.where(k >= 0, scores[np.maximum(k, 0)] if len(scores) else np.nan, previous)


class WindowStream:
    """Windows of a series that arrives in chunks, identical to the whole series' windows.

    Keeps the last ``window - 1`` rows (and the position in the series) between
    calls to :meth:`push`, so the concatenated output of every push equals
    :func:`sliding_windows` over the concatenated chunks.

    Parameters
    ----------
    window : int
        Rows per window.
    stride : int, default=1
        Rows between window starts, counted from the start of the whole series.
    """

    def __init__(self, window: int, stride: int = 1) -> None:
        _check_window(window, stride)
        self.window = window
        self.stride = stride
        self.seen = 0  # rows pushed so far
        self.tail: np.ndarray | None = None  # last window - 1 rows pushed

    def push(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Windows that end in ``chunk`` and their end rows (indices in the whole series).

        A chunk too short to complete a window gives zero windows (shape (0, window *
        channels)); its rows are kept for the next chunk.
        """
        x = _as_2d(chunk)
        tail = self.tail if self.tail is not None else x[:0]
        if tail.shape[1] != x.shape[1]:
            raise DataError(f"chunk has {x.shape[1]} channels, the series has {tail.shape[1]}")
        buf = np.concatenate([tail, x])
        first = self.seen - len(tail)  # whole-series index of buf[0]
        ends = window_ends(self.seen + len(x), self.window, self.stride)
        ends = ends[ends >= self.seen]
        if len(ends):
            starts = ends - self.window + 1 - first
            idx = starts[:, None] + np.arange(self.window)
            windows = buf[idx].reshape(len(ends), -1)
        else:
            windows = np.empty((0, self.window * x.shape[1]))
        self.seen += len(x)
        self.tail = buf[max(len(buf) - (self.window - 1), 0) :] if self.window > 1 else buf[:0]
        return windows, ends


MIN_PERIODS = 10  # a z-score needs this many earlier values (before: 0)
_CHUNK = 2048


def rolling_z(new: np.ndarray, past: np.ndarray, history: int) -> np.ndarray:
    """z-score of each new value against the ``history`` values before it (past included).

    Each value's mean and standard deviation come from exactly its own earlier
    values, so the result does not depend on how the values were split into calls.
    Fewer than :data:`MIN_PERIODS` earlier values give 0.
    """
    buf = np.concatenate([past, new])
    idx = len(past) + np.arange(len(new))
    count = np.minimum(idx, history)
    mean = np.zeros(len(new))
    sd = np.ones(len(new))
    full = np.flatnonzero(count == history)
    view = np.lib.stride_tricks.sliding_window_view(buf, history) if len(full) else None
    for a in range(0, len(full), _CHUNK):
        rows = view[idx[full[a : a + _CHUNK]] - history]
        m = rows.mean(axis=1)
        mean[full[a : a + _CHUNK]] = m
        sd[full[a : a + _CHUNK]] = np.sqrt(((rows - m[:, None]) ** 2).sum(axis=1) / (history - 1))
    for j in np.flatnonzero((count < history) & (count >= MIN_PERIODS)):
        seg = buf[idx[j] - count[j] : idx[j]]
        mean[j], sd[j] = seg.mean(), seg.std(ddof=1)
    z = (new - mean) / (sd + 1e-9 * np.abs(mean) + 1e-12)
    z[count < MIN_PERIODS] = 0.0
    return z


def new_highs(scores: np.ndarray, past: np.ndarray, k: int) -> np.ndarray:
    """Whether each score beats every one of the ``k`` scores before it (past included)."""
    if k <= 0 or not len(scores):  # (no scores: a chunk that ends no window)
        return np.ones(len(scores), dtype=bool)
    buf = np.concatenate([np.full(k, -np.inf), past[-k:], scores])
    start = len(buf) - len(scores)
    prev = np.lib.stride_tricks.sliding_window_view(buf[:-1], k)[start - k :].max(axis=1)
    return scores > prev


def range_exits(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows beyond the range of every value before them, by more than ``tolerance`` x its width.

    Parameters
    ----------
    x : array of shape (rows, channels)
        The new rows, in time order.
    low, high : array of shape (channels,)
        The lowest and highest values before ``x`` (NaN: none yet).
    tolerance : float
        The margin, as a share of the range's width (NAB's HTM detector uses 0.05).

    Returns
    -------
    beyond : array of bool, shape (rows,)
        Whether some channel of the row left the range.
    low, high : arrays of shape (channels,)
        The range after ``x``.
    """
    start = np.where(np.isnan(high), -np.inf, high)
    highs = np.maximum.accumulate(np.vstack([start, x]), axis=0)
    start = np.where(np.isnan(low), np.inf, low)
    lows = np.minimum.accumulate(np.vstack([start, x]), axis=0)
    with np.errstate(invalid="ignore"):
        margin = tolerance * (highs[:-1] - lows[:-1])
        out = ((x > highs[:-1] + margin) | (x < lows[:-1] - margin)) & np.isfinite(margin)
    return out.any(axis=1), lows[-1], highs[-1]
