"""Malformed or unusual series input: numeric or zoned times, mixed formats, options a
series does not use, and the messages that name what is wrong."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aedetect import AutoencoderDetector, SeriesDetector
from aedetect.cli import app
from aedetect.data.series import parse_time, to_times
from aedetect.exceptions import ConfigError, DataError

runner = CliRunner()
FAST = ["--epochs", "2", "--seed", "0", "--window", "10"]
N = 120


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _stamps(n=N):
    return pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M:%S")


def _write(path, times, n=N):
    pd.DataFrame({"timestamp": times, "value": np.sin(np.arange(n) / 5)}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def uni(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    data = _write(root / "uni.csv", _stamps())
    model = root / "uni.aedetect"
    res = invoke("fit", data, "--time-column", "timestamp", "-o", model, *FAST)
    assert res.exit_code == 0, res.output
    return root, data, model


# ---------------------------------------------------------------- 1. numbers as times
@pytest.mark.parametrize("values", [1700000000 + np.arange(4) * 3600, np.arange(4) / 2])
def test_a_numeric_time_column_is_refused_naming_file_and_column(values):
    frame = pd.DataFrame({"t": values, "v": np.arange(4.0)})
    with pytest.raises(DataError, match=r"^e.csv: column 't' holds numbers, not dates or times"):
        parse_time(frame, "t", "e.csv")


def test_numeric_times_are_refused_at_fit_and_at_score(uni):
    root, _, model = uni
    epoch = _write(root / "epoch.csv", 1700000000 + np.arange(N) * 3600)
    res = invoke("fit", epoch, "--time-column", "timestamp", "-o", root / "e.aedetect", *FAST)
    assert res.exit_code == 1 and not (root / "e.aedetect").exists()
    assert "epoch.csv: column 'timestamp' holds numbers, not dates or times" in res.output
    assert "give no time column to take the rows in file order" in res.output
    res = invoke("score", model, epoch, "-o", root / "e.csv")
    assert res.exit_code == 1 and "epoch.csv: column 'timestamp' holds numbers" in res.output
    assert "Traceback" not in res.output


# ---------------------------------------------------------------- 2. time zones
def test_mixed_offsets_are_compared_in_utc():
    raw = pd.Series(["2024-01-01 00:00:00+00:00", "2024-01-01 06:00:00+05:00"])
    assert list(to_times(raw)) == [
        pd.Timestamp("2024-01-01 00:00"),
        pd.Timestamp("2024-01-01 01:00"),
    ]


def test_zoned_and_plain_files_fit_and_score_each_other(uni):
    root, plain, plain_model = uni
    stamps = _stamps()
    zoned = _write(root / "tz.csv", [s + "+05:00" for s in stamps])
    mixed = _write(
        root / "mix.csv", [s + ("+00:00" if i < N // 2 else "+05:00") for i, s in enumerate(stamps)]
    )
    res = invoke("fit", mixed, "--time-column", "timestamp", "-o", root / "x.aedetect", *FAST)
    assert res.exit_code == 0, res.output
    model = root / "tz.aedetect"
    res = invoke("fit", zoned, "--time-column", "timestamp", "-o", model, *FAST)
    assert res.exit_code == 0, res.output
    for m, data in ((model, plain), (plain_model, zoned)):
        res = invoke("score", m, data, "-o", root / "s.csv")
        assert res.exit_code == 0, res.output
    # the user's time text is written back as it was, offset included
    assert pd.read_csv(root / "s.csv")["timestamp"].iloc[0] == "2024-01-01 00:00:00+05:00"


def test_a_zoned_continuation_resumes_from_a_zoned_fit(uni):
    root = uni[0]
    stamps = [s + "+05:00" for s in _stamps()]
    head = _write(root / "head.csv", stamps[:80], 80)
    frame = pd.read_csv(_write(root / "all.csv", stamps))
    frame.iloc[80:].to_csv(root / "tail.csv", index=False)
    model = root / "head.aedetect"
    assert invoke("fit", head, "--time-column", "timestamp", "-o", model, *FAST).exit_code == 0
    assert "last 2024-01-04 07:00:00+05:00" in invoke("info", model).output
    res = invoke("score", model, root / "tail.csv", "-o", root / "t.csv")
    assert res.exit_code == 0, res.output
    assert not pd.read_csv(root / "t.csv")["score"].isna().any()  # resumed: no empty start


# ---------------------------------------------------------------- 3. formats that mix
@pytest.mark.parametrize(
    "later", ["2024-01-01 01:00:00", "2024-01-01T01:00:00", "2024-01-01 01:00:00+05:00"]
)
def test_iso_forms_mix_after_the_first_row(later):
    frame = pd.DataFrame({"t": ["2023-12-31", later, "2024-01-02"], "v": [1.0, 2.0, 3.0]})
    out, _ = parse_time(frame, "t", "m.csv")
    assert not out["t"].isna().any()


def test_a_non_timestamp_is_still_named_by_its_row_and_other_formats_parse():
    frame = pd.DataFrame({"t": ["2024-01-01", "2024-01-01 01:00", "soon"], "v": [1.0, 2, 3]})
    with pytest.raises(DataError, match=r"^b.csv: column 't' row 3: 'soon' is not a timestamp"):
        parse_time(frame, "t", "b.csv")
    us = pd.Series(["01/05/2024 10:00", "01/06/2024 10:00", "Jan 7 2024"])
    assert list(to_times(us).dt.day) == [5, 6, 7]


# ---------------------------------------------------------------- 4. explain on a series
def test_explain_on_a_series_refuses_what_it_cannot_do(uni):
    root, data, model = uni
    res = invoke("explain", model, data, "--rows", "100", "--by", "bogus")
    assert res.exit_code == 2 and "by must be one of cause, error, got 'bogus'" in res.output
    res = invoke("explain", model, data, "--rows", "100", "--images-dir", root / "maps")
    assert res.exit_code == 2 and "--images-dir needs an image model" in res.output
    assert not (root / "maps").exists()
    res = invoke("explain", model, data, "--rows", "100", "--image-shape", "1,2,5")
    assert res.exit_code == 2 and "--image-shape needs an image model" in res.output
    res = invoke("explain", model, data, "--rows", "100", "--by", "error")
    assert res.exit_code == 0, res.output
    assert "ranked by their share of the window's reconstruction error" in res.output
    res = invoke("explain", model, data, "--rows", "")
    assert res.exit_code == 2 and "--rows must be row numbers like 17,42, got ''" in res.output


# ---------------------------------------------------------------- 5. unused options
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--score", "latent-kmeans", "--n-clusters", "3"], "does not use --score latent-kmeans"),
        (["--missing", "impute"], "does not use --missing impute"),
        (["--categorical", "value"], "does not use --categorical 'value'"),
        (["--sequence-column", "value"], "does not use --sequence-column 'value'"),
    ],
)
def test_options_a_series_does_not_use_are_refused(uni, args, said):
    root, data, _ = uni
    out = root / "no.aedetect"
    res = invoke("fit", data, "--time-column", "timestamp", *args, "-o", out, *FAST)
    assert res.exit_code == 2 and "a series model does not use" in res.output, res.output
    assert said in res.output and not out.exists()


def test_the_library_refuses_an_unused_window_model_setting():
    det = SeriesDetector(AutoencoderDetector(scoring="latent-kmeans"), window=8)
    with pytest.raises(ConfigError, match="does not use scoring='latent-kmeans'"):
        det.check_params()


# ---------------------------------------------------------------- 6. true messages
def test_messages_name_the_option_really_at_fault(uni):
    root, data, model = uni
    res = invoke("score", model, data, "--label-column", "value")
    assert res.exit_code == 2
    assert "--label-column 'value' is also the model's value column 'value'" in res.output
    res = invoke("score", model, data, "--time-column", "value")
    assert res.exit_code == 2 and "--time-column 'value' is also" in res.output
    assert "gap" not in res.output
    res = invoke(
        "fit", data, "--time-column", "timestamp", "--stride", "1000", "-o", root / "s", *FAST
    )
    assert res.exit_code == 1 and "one every 1000 rows" in res.output
    assert "give --stride 110 or less" in res.output and "smaller window" not in res.output


def test_a_constant_value_column_is_named(caplog):
    frame = pd.DataFrame({"flat": np.ones(60), "wave": np.sin(np.arange(60))})
    det = SeriesDetector(AutoencoderDetector(epochs=1, random_state=0), window=8)
    with caplog.at_level(logging.WARNING, logger="aedetect"):
        det.fit(frame)
    text = caplog.text
    assert "value column(s) constant in training ('flat')" in text and "'x0'" not in text


# ---------------------------------------------------------------- 7. value columns
@pytest.mark.parametrize(
    ("given", "said"),
    [("value,value", "names 'value' twice"), ("", "--value-column must name columns")],
)
def test_a_value_column_given_twice_or_empty_is_refused(uni, given, said):
    root, data, model = uni
    res = invoke(
        "fit", data, "--time-column", "timestamp", "--value-column", given, "-o", root / "v"
    )
    assert res.exit_code == 2 and said in res.output, res.output
    res = invoke("score", model, data, "--value-column", given)
    assert res.exit_code == 2 and said in res.output, res.output


# ---------------------------------------------------------------- 8. stride makes a series
def test_a_stride_makes_a_table_a_series_as_the_readme_says(tmp_path):
    from pathlib import Path

    pd.DataFrame({"a": np.sin(np.arange(N) / 5), "b": np.cos(np.arange(N) / 5)}).to_csv(
        tmp_path / "tab.csv", index=False
    )
    res = invoke("fit", tmp_path / "tab.csv", "--stride", "5", "-o", tmp_path / "m", *FAST)
    assert res.exit_code == 0 and "windows of 10 rows" in res.output, res.output
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "a window or a stride above 1 (`--window 48`,\n`--stride 4`" in readme
