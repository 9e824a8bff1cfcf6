"""SeriesDetector: causal per-row scores, chunked == whole, resume, window models, saving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aedetect import AutoencoderDetector
from aedetect.data.series import new_highs, range_exits, rolling_z
from aedetect.exceptions import ConfigError, DataError
from aedetect.persistence import load_model, save_detector
from aedetect.series_detector import RANGE_SCORE, SeriesDetector, series_model

WINDOW = 16


def _series(n=600, channels=1, spike=None, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    cols = [np.sin(2 * np.pi * (t + 7 * c) / 24) for c in range(channels)]
    x = np.stack(cols, axis=1) + rng.normal(scale=0.05, size=(n, channels))
    if spike is not None:
        row, channel = spike
        x[row : row + 3, channel] += 3.0
    return pd.DataFrame(x, columns=[f"c{i}" for i in range(channels)])


def _det(model="ae", **kw):
    inner = AutoencoderDetector(model=model, epochs=4, random_state=0, device="cpu")
    return SeriesDetector(inner, window=WINDOW, history=200, suppress=50, **kw)


@pytest.fixture(scope="module")
def fitted():
    return _det().fit(_series(400))


def test_future_values_never_change_a_past_score(fitted):
    x = _series(600)
    base = fitted.score_series(x)
    t = 450
    changed = x.copy()
    changed.iloc[t + 1 :] += np.random.default_rng(3).normal(scale=5.0, size=(600 - t - 1, 1))
    other = fitted.score_series(changed)
    assert np.array_equal(base.scores[: t + 1], other.scores[: t + 1], equal_nan=True)
    assert np.array_equal(base.alarms[: t + 1], other.alarms[: t + 1])
    assert not np.allclose(base.scores[t + 1 :], other.scores[t + 1 :])


@pytest.mark.parametrize("stride", [1, 3])
def test_chunked_scores_equal_whole_series(stride):
    x = _series(500, channels=2)
    det = _det(stride=stride).fit(x.iloc[:300])
    whole = det.score_series(x)
    stream = det.stream()
    parts = [stream.push(x.iloc[a : a + 37]) for a in range(0, len(x), 37)]
    parts += [stream.push(x.iloc[:0])]  # an empty chunk changes nothing
    assert np.array_equal(whole.scores, np.concatenate([p.scores for p in parts]), equal_nan=True)
    assert np.array_equal(whole.alarms, np.concatenate([p.alarms for p in parts]))
    assert np.isnan(whole.scores[: WINDOW - 1]).all() and not np.isnan(whole.scores[WINDOW:]).any()


def test_resume_continues_the_training_series_exactly(fitted):
    x = _series(600)
    whole = fitted.score_series(x)
    cont = fitted.score_series(x.iloc[400:], resume=True)
    assert np.array_equal(cont.scores, whole.scores[400:])
    assert np.array_equal(fitted.decision_scores_, whole.scores[:400], equal_nan=True)


def test_rolling_z_and_new_highs_do_not_depend_on_the_split():
    rng = np.random.default_rng(0)
    e = rng.gamma(2.0, size=700)
    whole = rolling_z(e, np.empty(0), 100)
    a = rolling_z(e[:333], np.empty(0), 100)
    b = rolling_z(e[333:], e[:333][-100:], 100)
    assert np.array_equal(whole, np.concatenate([a, b]))
    assert (whole[:10] == 0).all()
    ref = pd.Series(e).shift(1).rolling(100, min_periods=10)
    expected = ((e - ref.mean()) / ref.std()).to_numpy()
    assert np.allclose(whole[10:], expected[10:], rtol=1e-6)
    s = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 4.5, 6.0])
    assert new_highs(s, np.empty(0), 2).tolist() == [True, True, False, True, False, False, True]
    assert new_highs(s[3:], s[:3], 2).tolist() == new_highs(s, np.empty(0), 2)[3:].tolist()
    assert new_highs(np.empty(0), np.empty(0), 5).shape == (0,)  # a chunk that ends no window


def test_range_exits_count_rows_beyond_the_range_seen_before_them():
    x = np.array([[0.0], [1.0], [1.01], [1.5], [-0.1], [-0.6]])
    nan = np.array([np.nan])
    beyond, low, high = range_exits(x, nan, nan, 0.1)
    # row 2 is within 10% of the range [0, 1] above it; row 4 within 10% of [0, 1.5] below
    assert beyond.tolist() == [False, True, False, True, False, True]
    assert (low[0], high[0]) == (-0.6, 1.5)
    a = range_exits(x[:3], nan, nan, 0.1)
    b = range_exits(x[3:], a[1], a[2], 0.1)
    assert np.concatenate([a[0], b[0]]).tolist() == beyond.tolist()


@pytest.mark.parametrize("stride", [1, 3])
def test_range_term_is_causal_chunk_free_and_resumes(stride):
    x = _series(600)
    x.iloc[450:455, 0] += 4.0  # a new extreme: far above every earlier value
    x.iloc[523, 0] -= 4.0  # and a new low, inside a chunk below
    det = _det(stride=stride, range_tolerance=0.02).fit(x.iloc[:400])
    whole = det.score_series(x)
    hit = whole.ends[(whole.ends >= 450) & (whole.ends < 455 + stride)]
    assert (whole.window_scores[np.isin(whole.ends, hit)] >= RANGE_SCORE).any()
    assert det.flags(whole)[450 : 455 + stride].any()
    stream = det.stream()
    parts = [stream.push(x.iloc[a : a + 7]) for a in range(0, len(x), 7)]
    assert np.array_equal(whole.scores, np.concatenate([p.scores for p in parts]), equal_nan=True)
    assert np.array_equal(whole.alarms, np.concatenate([p.alarms for p in parts]))
    cont = det.score_series(x.iloc[400:], resume=True)
    assert np.array_equal(cont.scores, whole.scores[400:])
    for t in (449, 451, 522):  # changing rows after t never changes a score up to t
        changed = x.copy()
        changed.iloc[t + 1 :, 0] += 10.0
        other = det.score_series(changed)
        assert np.array_equal(whole.scores[: t + 1], other.scores[: t + 1], equal_nan=True)
        assert np.array_equal(whole.alarms[: t + 1], other.alarms[: t + 1])


def test_series_defaults_are_the_nab_choice():
    det = SeriesDetector()
    assert (det.history, det.suppress, det.range_tolerance, det.error) == (3000, 100, 0.02, "both")


def test_multivariate_spike_is_flagged_and_explained_on_its_channel():
    x = _series(600, channels=3, spike=(520, 1))
    det = _det().fit(x.iloc[:400])
    out = det.score_series(x)
    assert np.nanargmax(out.scores) in range(520, 523)
    assert det.flags(out)[520:523].any()
    expl = det.explain_rows(x, [520], top=1)
    assert expl["channel"].tolist() == ["c1"] and expl["peak"].iloc[0] == 520
    assert expl["start"].iloc[0] <= 520 <= expl["end"].iloc[0]


@pytest.mark.parametrize("model", ["conv1d", "lstm"])
def test_window_models_fit_score_and_save(model, tmp_path):
    x = _series(300, channels=2, spike=(260, 0))
    det = _det(model).fit(x.iloc[:200])
    assert det.detector_.spec_.kind == model and det.detector_.spec_.series_shape == (WINDOW, 2)
    whole = det.score_series(x)
    stream = det.stream()
    chunked = np.concatenate([stream.push(x.iloc[a : a + 50]).scores for a in range(0, 300, 50)])
    assert np.array_equal(whole.scores, chunked, equal_nan=True)  # batch-size independent
    path = tmp_path / "m.aedetect"
    save_detector(det.detector_, path, extra={"series": det.to_extra()})
    inner, meta = load_model(path)
    again = SeriesDetector.from_extra(inner, meta["extra"]["series"])
    assert np.array_equal(again.score_series(x).scores, whole.scores, equal_nan=True)


def test_window_defaults_and_parameter_checks():
    model = series_model(AutoencoderDetector(hidden=(8, 2)))
    assert model.hidden == (8, 2) and model.epochs == 60 and model.scaling == "pooled"
    det = SeriesDetector(AutoencoderDetector(epochs=2, random_state=0)).fit(_series(300))
    assert det.window_ == 24 and "dominant period" in det.window_source_
    with pytest.raises(ConfigError, match="window must be an integer >= 2, got 1"):
        SeriesDetector(window=1).fit(_series(100))
    with pytest.raises(ConfigError, match="error must be one of"):
        SeriesDetector(error="max").check_params()
    with pytest.raises(ConfigError, match="needs series_shape"):
        AutoencoderDetector(model="lstm").fit(np.zeros((10, 4)))


def test_too_short_series_and_bad_values_are_clear_errors():
    with pytest.raises(DataError, match=r"^20 rows is shorter than one window \(32 rows\)"):
        SeriesDetector(window=32).fit(_series(20))
    x = _series(100)
    x.iloc[5, 0] = np.nan
    with pytest.raises(DataError, match="row 6: a series value is missing"):
        _det().fit(x)


def test_series_figures_one_per_segment_and_labelled_runs():
    from aedetect.report.series import SeriesView, runs, series_figures

    assert runs(np.array([0, 1, 1, 0, 1])) == [(1, 2), (4, 4)]
    n = 4500
    labels = np.zeros(n, dtype=int)
    labels[3000:3100] = 1
    view = SeriesView(
        times=None,
        values=_series(n),
        scores=np.r_[np.full(15, np.nan), np.linspace(0, 1, n - 15)],
        flags=(np.arange(n) % 997 == 0).astype(int),
        threshold=0.5,
        labels=labels,
    )
    assert list(series_figures(view)) == [
        "Series, flagged rows and score",
        "Series rows 1-2000 (segment 1)",
        "Series rows 2001-4000 (segment 2)",
        "Series rows 4001-4500 (segment 3)",
    ]
