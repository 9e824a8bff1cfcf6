"""NAB data set (cache filled from shared/data/nab, never the network) and NAB's scorer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aedetect.data import nab
from aedetect.exceptions import ConfigError, DataError
from aedetect.nab_scoring import (
    PROFILES,
    probationary_length,
    score_corpus,
    score_corpus_all_profiles,
    window_indices,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"
needs_nab = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data/nab not available")


@pytest.fixture(scope="module")
def nab_cache(tmp_path_factory):
    """A temporary AEDETECT_DATA holding NAB, copied from shared/ (no download)."""
    if not SHARED.is_dir():
        pytest.skip("shared/data/nab not available")
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AEDETECT_DATA", str(root))
        mp.setattr(nab, "NAB_URL", "http://127.0.0.1:9/")  # any download would fail
        nab.fill_cache(SHARED)
        yield root


@needs_nab
def test_cache_filled_and_series_loaded(nab_cache):
    assert nab.is_cached()
    assert len(nab.NAB_SERIES) == 58
    frame = nab.load_nab_series("nab:realKnownCause/nyc_taxi")
    assert list(frame.columns) == ["timestamp", "value"]
    assert pd.api.types.is_datetime64_any_dtype(frame["timestamp"])
    assert len(frame) == 10320 and frame["value"].iloc[0] == 10844.0
    windows = nab.load_nab_windows()
    assert len(windows) == 58 and sum(len(w) for w in windows.values()) == 116
    assert windows["realKnownCause/nyc_taxi"][0][0] == pd.Timestamp("2014-10-30 15:30:00")
    profiles = nab.load_nab_profiles()
    assert profiles["reward_low_FN_rate"] == {"tp": 1.0, "fp": 0.11, "fn": 2.0}
    assert {k: (p.tp, p.fp, p.fn) for k, p in PROFILES.items()} == {
        k: (p["tp"], p["fp"], p["fn"]) for k, p in profiles.items()
    }


@needs_nab
def test_unknown_series_and_offline_message(nab_cache, monkeypatch, tmp_path):
    with pytest.raises(DataError, match="no series 'realKnownCause/nyc'"):
        nab.load_nab_series("realKnownCause/nyc")
    monkeypatch.setenv("AEDETECT_DATA", str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"nab: data/realTweets/Twitter_volume_FB.csv is not in"):
        nab.load_nab_series("realTweets/Twitter_volume_FB")


def test_fill_cache_rejects_a_changed_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AEDETECT_DATA", str(tmp_path / "cache"))
    folder = tmp_path / "src" / "artificialNoAnomaly"
    folder.mkdir(parents=True)
    (folder / "art_daily_no_noise.csv").write_text("timestamp,value\n")
    match = "does not match NAB's file data/artificialNoAnomaly/art_daily_no_noise.csv"
    with pytest.raises(DataError, match=match):
        nab.fill_cache(tmp_path / "src")


@needs_nab
def test_scorer_reproduces_windowed_gaussian(nab_cache):
    """NAB's published final scores of the windowed Gaussian detector, from its per-row scores."""
    windows = nab.load_nab_windows()
    scores, bounds = {}, {}
    for name in nab.NAB_SERIES:
        category, file = name.split("/")
        result = (
            SHARED / "results" / "windowedGaussian" / category / f"windowedGaussian_{file}.csv.gz"
        )
        frame = pd.read_csv(result)
        scores[name] = frame["anomaly_score"].to_numpy()
        bounds[name] = window_indices(pd.to_datetime(frame["timestamp"]).to_numpy(), windows[name])
    got = score_corpus_all_profiles(scores, bounds)
    with open(SHARED / "results" / "final_results.json") as f:
        published = json.load(f)["windowedGaussian"]
    for profile in PROFILES:
        assert got[profile].score == pytest.approx(published[profile], abs=0.01), profile
    assert round(got["standard"].score, 1) == 39.6
    assert round(got["reward_low_FP_rate"].score, 1) == 20.9
    assert round(got["reward_low_FN_rate"].score, 1) == 47.4
    # per-file raw scores as in NAB's own results file
    table = pd.read_csv(
        SHARED / "results" / "windowedGaussian" / "windowedGaussian_standard_scores.csv"
    )
    table = table[table["File"].notna()].set_index("File")["Score"]
    for file, raw in table.items():
        assert got["standard"].per_file[file.removesuffix(".csv")] == pytest.approx(raw, abs=1e-6)


def _one_file(n=2000, window=(1500, 1599)):
    return {"f": [window]}, probationary_length(n)


def test_scorer_rewards_early_detection_and_normalises():
    bounds, _ = _one_file()
    n = 2000
    early, late, none, perfect_alarm = (np.zeros(n) for _ in range(4))
    early[1500] = 1  # first row of the window: a full true positive
    late[1590] = 1  # near the end of the window: little credit
    perfect_alarm[1500] = 1
    s_early = score_corpus({"f": early}, bounds)
    s_late = score_corpus({"f": late}, bounds)
    s_none = score_corpus({"f": none}, bounds)
    assert s_early.score == pytest.approx(100.0)  # perfect: one alarm at the window start
    assert 0 < s_late.score < s_early.score
    assert s_none.score == pytest.approx(0.0)  # the null detector
    assert s_early.threshold == 1.0 and (s_early.tp, s_early.fp, s_early.fn) == (1, 0, 0)


def test_scorer_false_positives_cost_and_probation_is_ignored():
    bounds, probation = _one_file()
    n = 2000
    scores = np.zeros(n)
    scores[1500] = 1.0
    scores[probation - 1] = 2.0  # in the probationary period: never counted
    base = score_corpus({"f": scores}, bounds)
    scores[1000] = 1.0  # a false positive before any window: costs fp
    worse = score_corpus({"f": scores}, bounds, profile="reward_low_FP_rate")
    assert base.fp == 0 and base.score == pytest.approx(100.0)
    assert worse.raw == pytest.approx(1.0 - 0.22) and worse.fp == 1


def test_window_indices_must_hit_timestamps():
    ts = pd.date_range("2020-01-01", periods=10, freq="h").to_numpy()
    assert window_indices(ts, [("2020-01-01 02:00:00.000000", "2020-01-01 05:00:00")]) == [(2, 5)]
    with pytest.raises(DataError, match="f.csv: anomaly window edge 2020-01-01 02:30:00"):
        window_indices(ts, [("2020-01-01 02:30:00", "2020-01-01 05:00:00")], "f.csv")


def test_scorer_rejects_unknown_profile_and_empty_corpus():
    with pytest.raises(ConfigError, match="profile must be one of"):
        score_corpus({"f": np.zeros(10)}, {}, profile="strict")
    with pytest.raises(DataError, match="no files to score"):
        score_corpus({}, {})


def test_probationary_length_is_capped():
    assert probationary_length(1000) == 150
    assert probationary_length(22695) == 750
