"""Series helpers: time parsing, default window, windows, causal scores, chunked == whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aedetect import AutoencoderDetector
from aedetect.data.series import (
    WindowStream,
    causal_scores,
    default_window,
    parse_time,
    sliding_windows,
    window_ends,
)
from aedetect.exceptions import ConfigError, DataError

WINDOW = 12


def _sine(n=400, period=24, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    cols = [np.sin(2 * np.pi * (t + 5 * c) / period) for c in range(channels)]
    x = np.stack(cols, axis=1) + rng.normal(scale=0.05, size=(n, channels))
    return x[:, 0] if channels == 1 else x


@pytest.fixture(scope="module")
def fitted():
    x = _sine(300)
    return AutoencoderDetector(
        hidden=(8, 3), epochs=8, scaling="pooled", random_state=0, device="cpu"
    ).fit(sliding_windows(x, WINDOW))


def _row_scores(model, values, window=WINDOW, stride=1):
    ends = window_ends(len(values), window, stride)
    return causal_scores(
        model.decision_function(sliding_windows(values, window, stride)), ends, len(values)
    )


def test_parse_time_sorts_and_reports_gaps():
    frame = pd.DataFrame(
        {
            "t": ["2020-01-01 00:00", "2020-01-01 00:05", "2020-01-01 00:10", "2020-01-01 01:00"],
            "v": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out, check = parse_time(frame, "t", "a.csv")
    assert check.step == pd.Timedelta("5min") and not check.sorted
    assert check.gaps == [(4, pd.Timestamp("2020-01-01 00:10"), pd.Timestamp("2020-01-01 01:00"))]
    shuffled = frame.iloc[[1, 0, 2, 3]]
    with pytest.raises(DataError, match=r"a.csv: column 't' row 2: 2020-01-01 00:00 is earlier"):
        parse_time(shuffled, "t", "a.csv")
    out2, check2 = parse_time(shuffled, "t", "a.csv", sort=True)
    assert check2.sorted and out2["v"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out2.equals(out)


def test_parse_time_rejects_duplicates_bad_values_and_missing_column():
    frame = pd.DataFrame({"t": ["2020-01-01", "2020-01-02", "2020-01-02"], "v": [1, 2, 3]})
    with pytest.raises(DataError, match=r"b.csv: column 't' rows 2 and 3: the same timestamp"):
        parse_time(frame, "t", "b.csv")
    frame = pd.DataFrame({"t": ["2020-01-01", "soon"], "v": [1, 2]})
    with pytest.raises(DataError, match=r"b.csv: column 't' row 2: 'soon' is not a timestamp"):
        parse_time(frame, "t", "b.csv")
    with pytest.raises(DataError, match=r"b.csv: time_column 'time' is not a column"):
        parse_time(frame, "time", "b.csv")


def test_default_window_finds_the_period_within_bounds():
    assert default_window(_sine(2000, period=24)) in (23, 24, 25)
    assert default_window(_sine(4000, period=500)) == 256  # beyond the bound
    noise = np.random.default_rng(0).normal(size=1000)
    assert default_window(noise) == 32  # no period: the fallback
    assert default_window(_sine(2000, period=24, channels=3)) in (23, 24, 25)
    with pytest.raises(ConfigError, match="low must be in"):
        default_window(noise, low=300)


def test_sliding_windows_multivariate_layout_and_stride():
    x = np.arange(20, dtype=float).reshape(10, 2)  # 10 rows, 2 channels
    w = sliding_windows(x, 3, stride=2)
    assert w.shape == (4, 6)
    # time-major: row 0 both channels, then row 1...
    np.testing.assert_array_equal(w[1], [4, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(window_ends(10, 3, 2), [2, 4, 6, 8])


def test_series_shorter_than_window_is_a_clear_error():
    with pytest.raises(DataError, match=r"s.csv: 5 rows is shorter than one window \(12 rows\)"):
        sliding_windows(np.zeros(5), WINDOW, name="s.csv")
    with pytest.raises(ConfigError, match="stride must be an integer >= 1, got 0"):
        sliding_windows(np.zeros(50), WINDOW, stride=0)


def test_causal_first_rows_unscored_and_stride_holds_last_score():
    scores = causal_scores(np.array([1.0, 2.0, 3.0]), np.array([2, 4, 6]), 8)
    np.testing.assert_array_equal(scores[:2], [np.nan, np.nan])
    np.testing.assert_array_equal(scores[2:], [1, 1, 2, 2, 3, 3])


def test_changing_the_future_never_changes_a_past_score(fitted):
    x = _sine(200, seed=1)
    before = _row_scores(fitted, x)
    t = 120
    y = x.copy()
    y[t + 1 :] += np.random.default_rng(2).normal(scale=5.0, size=len(x) - t - 1)
    after = _row_scores(fitted, y)
    np.testing.assert_array_equal(before[: t + 1], after[: t + 1])
    assert not np.allclose(before[t + 1 :], after[t + 1 :])  # the change is seen later
    assert np.isnan(before[: WINDOW - 1]).all() and not np.isnan(before[WINDOW - 1 :]).any()


@pytest.mark.parametrize("stride", [1, 3])
def test_chunked_scoring_equals_whole_series(fitted, stride):
    x = _sine(230, channels=1, seed=3)
    whole = _row_scores(fitted, x, stride=stride)
    stream = WindowStream(WINDOW, stride)
    parts, previous, start = [], np.nan, 0
    for chunk in np.split(x, [5, 50, 53, 140]):  # chunks shorter and longer than a window
        windows, ends = stream.push(chunk)
        s = fitted.decision_function(windows) if len(windows) else np.empty(0)
        rows = causal_scores(s, ends, len(chunk), start=start, previous=previous)
        parts.append(rows)
        start += len(chunk)
        previous = rows[-1] if len(rows) else previous
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=1e-6, equal_nan=True)


def test_stream_windows_equal_whole_windows_multivariate():
    x = _sine(100, channels=3)
    stream = WindowStream(WINDOW, 2)
    got = [stream.push(c)[0] for c in np.split(x, [7, 8, 60])]
    np.testing.assert_array_equal(np.concatenate(got), sliding_windows(x, WINDOW, 2))
    with pytest.raises(DataError, match="chunk has 1 channels, the series has 3"):
        stream.push(np.zeros(4))


def test_multivariate_anomaly_in_one_channel_is_scored_high():
    x = _sine(600, channels=2, seed=4)
    model = AutoencoderDetector(
        hidden=(12, 4), epochs=15, scaling="pooled", random_state=0, device="cpu"
    ).fit(sliding_windows(x[:400], WINDOW))
    y = x.copy()
    y[500:505, 1] += 3.0  # a bump in channel 1 only
    scores = _row_scores(model, y)
    assert np.nanargmax(scores[400:]) + 400 in range(500, 505 + WINDOW)
