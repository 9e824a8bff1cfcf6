"""Series through the command line: fit, score a continuation, explain, info, report, run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aedetect.cli import app
from aedetect.data import nab

runner = CliRunner()
# No -q: tests read the summaries it silences.
FAST = ["--epochs", "4", "--seed", "0", "--window", "16"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _frame(n=700, spike=620):
    rng = np.random.default_rng(0)
    t = np.arange(n)
    load = np.sin(2 * np.pi * t / 24) + rng.normal(scale=0.05, size=n)
    temp = np.cos(2 * np.pi * t / 24) + rng.normal(scale=0.05, size=n)
    temp[spike : spike + 3] += 3.0
    times = pd.date_range("2024-01-01", periods=n, freq="5min").astype(str)
    return pd.DataFrame({"time": times, "load": load, "temp": temp})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("series")
    frame = _frame()
    frame.to_csv(root / "all.csv", index=False)
    frame.iloc[:450].to_csv(root / "head.csv", index=False)
    frame.iloc[450:].to_csv(root / "tail.csv", index=False)
    model = root / "m.aedetect"
    res = invoke("fit", root / "head.csv", "--time-column", "time", "-o", model, *FAST)
    assert res.exit_code == 0, res.output
    assert "windows of 16 rows" in res.output
    return root, model


def test_score_of_a_continuation_equals_scoring_the_whole_series(files):
    root, model = files
    for name in ("all", "tail"):
        res = invoke("score", model, root / f"{name}.csv", "-o", root / f"{name}-scores.csv")
        assert res.exit_code == 0, res.output
    whole = pd.read_csv(root / "all-scores.csv")
    tail = pd.read_csv(root / "tail-scores.csv")
    assert list(tail.columns) == ["time", "score", "is_anomaly"]
    assert np.array_equal(tail["score"].to_numpy(), whole["score"].to_numpy()[450:])
    assert whole["score"].iloc[:15].isna().all()  # no window ends before row 16
    assert whole["is_anomaly"].iloc[620:623].any()
    res = invoke("score", model, root / "all.csv", "--all-scores")
    assert res.exit_code == 2 and "--all-scores needs a table model" in res.output


def test_info_states_window_values_and_time(files):
    _, model = files
    res = invoke("info", model)
    assert res.exit_code == 0, res.output
    assert "window          16 rows, given; stride 1" in res.output
    assert "values          load, temp" in res.output
    assert "column 'time', step 5min, 0 gap(s)" in res.output


def test_explain_names_the_channel_and_time_range(files):
    root, model = files
    res = invoke("explain", model, root / "all.csv", "--rows", "621", "--reasons", "1")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("row 621 (2024-01-03 03:40:00)")
    assert lines[1].split()[0] == "temp" and "2024-01-03 03:40:00" in lines[1]
    res = invoke("explain", model, root / "all.csv", "--rows", "3")
    assert res.exit_code == 1 and "row 3 ends no window: the first is row 16" in res.output


def test_report_draws_the_series(files):
    root, model = files
    out = root / "r.html"
    res = invoke("report", model, root / "all.csv", "-o", out)
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "Series, flagged rows and score" in page and "16 rows, given" in page


def test_unsorted_rows_and_gaps_are_reported_and_sorted(tmp_path):
    frame = _frame(300, spike=250)
    frame = frame.drop(index=range(100, 110))  # a 55-minute gap
    shuffled = frame.iloc[np.r_[1, 0, 2 : len(frame)]]
    shuffled.to_csv(tmp_path / "s.csv", index=False)
    res = invoke("run", tmp_path / "s.csv", "--time-column", "time", "-o", tmp_path / "o", *FAST)
    assert res.exit_code == 0, res.output
    assert "rows were not in time order; sorted by 'time'" in res.output
    assert "1 gap(s) in 'time' longer than 1.5x the usual step 5min" in res.output
    assert "(2024-01-01 08:15:00 -> 2024-01-01 09:10:00)" in res.output
    scores = pd.read_csv(tmp_path / "o" / "scores.csv")
    assert scores["time"].is_monotonic_increasing and len(scores) == 290


def test_shorter_than_window_and_unknown_value_column_are_clear_errors(tmp_path):
    _frame(10).to_csv(tmp_path / "short.csv", index=False)
    short = tmp_path / "short.csv"
    res = invoke("fit", short, "--time-column", "time", "-o", tmp_path / "m", *FAST)
    assert res.exit_code == 1
    assert "short.csv: 10 rows is shorter than one window (16 rows)" in res.output
    assert "series:" not in res.output
    res = invoke(
        "fit", tmp_path / "short.csv", "--value-column", "nope", "-o", tmp_path / "m", *FAST
    )
    assert res.exit_code == 1 and "short.csv: --value-column 'nope' is not a column" in res.output
    res = invoke("fit", short, "--window", "1", "-o", tmp_path / "m")
    assert res.exit_code == 2 and "--window must be an integer >= 2, got 1" in res.output


def test_run_with_an_lstm_on_one_value_column(tmp_path):
    _frame(200, spike=170).to_csv(tmp_path / "d.csv", index=False)
    res = invoke(
        "run", tmp_path / "d.csv", "--value-column", "temp", "--model", "lstm", "--stride", "2",
        "-o", tmp_path / "o", *FAST,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "values     temp" in res.output and "stride 2" in res.output
    scores = pd.read_csv(tmp_path / "o" / "scores.csv")
    assert list(scores.columns) == ["score", "is_anomaly"] and len(scores) == 200


SHARED_NAB = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"


@pytest.fixture
def nab_cache(tmp_path, monkeypatch):
    """NAB in a temporary AEDETECT_DATA, copied from shared/ (any download would fail)."""
    if not SHARED_NAB.is_dir():
        pytest.skip("shared/data/nab not available")
    monkeypatch.setenv("AEDETECT_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(nab, "NAB_URL", "http://127.0.0.1:9/")
    nab.fill_cache(SHARED_NAB)


def test_run_on_a_nab_series_uses_its_time_column_and_windows(nab_cache, tmp_path):
    res = invoke("run", "nab:artificialWithAnomaly/art_daily_jumpsup", "-o", tmp_path / "o", *FAST)
    assert res.exit_code == 0, res.output
    assert "data       nab:artificialWithAnomaly/art_daily_jumpsup: 4032 rows" in res.output
    assert "column 'timestamp', step 5min" in res.output and "labels     AUROC" in res.output
    scores = pd.read_csv(tmp_path / "o" / "scores.csv")
    assert list(scores.columns) == ["timestamp", "score", "is_anomaly", "anomaly_window"]
    assert scores["anomaly_window"].sum() == 403  # NAB's one labelled window


def test_a_typo_in_a_value_column_is_named_and_text_columns_are_left_out(tmp_path):
    frame = _frame(300)
    value = next(c for c in frame.columns if c != "time")
    typo = frame.astype({value: object})
    typo.loc[7, value] = "1.2.3"
    typo.to_csv(tmp_path / "typo.csv", index=False)
    res = invoke("fit", tmp_path / "typo.csv", "--time-column", "time", "-o", tmp_path / "m")
    assert res.exit_code == 1
    assert f"typo.csv: column {value!r} row 8: '1.2.3' is not a number" in res.output
    frame.assign(city=["a", "b"] * 150).to_csv(tmp_path / "text.csv", index=False)
    res = invoke("fit", tmp_path / "text.csv", "--time-column", "time", "-o", tmp_path / "m", *FAST)
    assert res.exit_code == 0, res.output
    assert "text.csv: text column(s) 'city' left out of the series' values" in res.output
