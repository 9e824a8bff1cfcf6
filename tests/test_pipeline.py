"""The use cases as library functions: plain results, few passes through the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from aedetect import AutoencoderDetector, load, pipeline
from aedetect.attribution import STEPS
from aedetect.cli_options import speak_flags
from aedetect.data.datasets import make_mixed_table
from aedetect.data.splits import one_class_split, shuffle_split
from aedetect.data.table import binary_labels
from aedetect.describe import ModelFacts
from aedetect.exceptions import ConfigError
from aedetect.pipeline import running
from aedetect.value_grid import GRID

FAST = {"hidden": (8, 3), "epochs": 3, "random_state": 0, "verbose": 0}


def _count_rows(monkeypatch) -> list[int]:
    """Count the rows that reach the first layer of the network after fitting."""
    seen: list[int] = []
    original = running.fit_table

    def fit_then_count(det, table, on_epoch=None):
        original(det, table, on_epoch)
        first = next(m for m in det.module_.modules() if isinstance(m, torch.nn.Linear))
        first.register_forward_pre_hook(lambda _m, args: seen.append(len(args[0])))

    monkeypatch.setattr(running, "fit_table", fit_then_count)
    return seen


def test_run_passes_the_data_through_the_network_once(tmp_path, monkeypatch):
    seen = _count_rows(monkeypatch)
    request = pipeline.DataRequest("mixed:n_rows=300", label_column="is_anomaly")
    result = pipeline.run(AutoencoderDetector(**FAST), request, tmp_path / "out")
    n, m = result.table.features.shape
    # The scores come from fit; one pass for the latent codes (report and
    # latent plot share it); the report explains at most 20 flagged rows: their
    # scores and reconstructions, then one batch of m column-substituted copies
    # per row, settled STEPS times and scored, and each number at the grid's values.
    numbers = len(result.table.features.select_dtypes("number").columns)
    copies = 20 * m * (1 + STEPS) + 20 * numbers * len(GRID)
    assert seen.count(n) == 1, seen
    assert sum(seen) <= n + 3 * 20 + copies, seen
    saved = pd.read_csv(tmp_path / "out" / "scores.csv")
    rescored = load(tmp_path / "out" / "model.aedetect").decision_function(result.table.features)
    np.testing.assert_array_equal(saved["score"].to_numpy(), rescored)
    assert (tmp_path / "out" / "report.html").is_file()
    assert "most anomalous rows" in result.summary()


def test_run_with_a_one_class_split_scores_every_row_once(tmp_path, monkeypatch):
    seen = _count_rows(monkeypatch)
    request = pipeline.DataRequest("digits", normal="3")
    result = pipeline.run(AutoencoderDetector(**FAST), request, tmp_path / "out")
    n, m = result.table.features.shape
    # Scores of every row (fit saw 80% of the 3s), the latent codes; for the
    # report's 20 flagged rows: explanation (3 small passes, then m substituted
    # copies per row, settled STEPS times and scored) and images.
    assert sum(s for s in seen if s > 20 * m) <= 2 * n, seen
    assert sum(s for s in seen if s <= 20) <= 4 * 20, seen
    assert sum(s for s in seen if 20 < s <= 20 * m) <= 20 * m * (1 + STEPS), seen
    assert set(result.scores["split"]) == {"fit", "test"}


def test_use_cases_return_plain_results(tmp_path):
    det = AutoencoderDetector(**FAST)
    request = pipeline.DataRequest("mixed:n_rows=200")
    fitted = pipeline.fit(det, request, tmp_path / "m.aedetect")
    assert "model written to" in fitted.message()
    frame = pipeline.score(tmp_path / "m.aedetect", request)
    assert list(frame.columns[:3]) == ["customer", "score", "is_anomaly"]
    explained = pipeline.explain(tmp_path / "m.aedetect", request, rows=[1, 2], reasons=2)
    assert set(explained.frame["row"]) == {1, 2} and explained.text().startswith("row 1")
    info = pipeline.info(tmp_path / "m.aedetect")
    assert "network         " in info.text() and info.meta["extra"]["id_column"] == "customer"
    out = pipeline.report(tmp_path / "m.aedetect", request, tmp_path / "r.html", "aedetect report")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_describe_a_conv_vae_as_what_it_is():
    facts = ModelFacts(
        params={"model": "conv-vae", "hidden": (16, 32, 4), "activation": "relu"},
        n_inputs=64,
        image_shape=(1, 8, 8),
    )
    assert facts.network() == "conv-vae 1x8x8: encoder 16,32, latent 4"
    dense = ModelFacts(params={"model": "ae", "hidden": (8, 3)}, n_inputs=10)
    assert dense.network() == "10 -> 8 -> 3 -> ... -> 10"
    assert dense.network("short") == "10-8-3-..."
    assert dense.network("full") == "10 → 8 → 3 → 8 → 10"


def test_cli_speaks_flags_where_the_library_names_parameters():
    assert speak_flags("x.csv: label_column 'y' is not a column") == (
        "x.csv: --label-column 'y' is not a column"
    )
    assert speak_flags("abnormal rest needs normal") == "--abnormal rest needs --normal"
    assert speak_flags("a class cannot be both normal and abnormal") == (
        "a class cannot be both --normal and --abnormal"
    )
    plain = "the selection has 3 normal and 0 abnormal items; need at least 2 normal and 1 abnormal"
    assert speak_flags(plain) == plain
    assert speak_flags("contamination must be in (0, 0.5], got 0.7").startswith("contamination")
    assert speak_flags("scoring must be one of a, b").startswith("--score must")
    assert speak_flags("the scoring of a row") == "the scoring of a row"


def test_one_split_for_everyone():
    y = np.repeat(np.arange(3), 10)
    train, test = one_class_split(y, 1, seed=0)
    assert len(train) == 8 and (y[train] == 1).all()
    assert np.sum(y[test] == 1) == 2 and np.sum(y[test] != 1) == 4
    first, rest = shuffle_split(7, nearest=True)
    assert len(first) == round(0.8 * 7) and len(rest) == 7 - len(first)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [([0, 1, 1], [0, 1, 1]), ([1, 1], None), ([0, 2], None), (["a", "b"], None)],
)
def test_binary_labels(labels, expected):
    got = binary_labels(pd.Series(labels))
    assert (got is None and expected is None) or list(got) == expected
    assert speak_flags("row 3: missing value (NaN); impute with missing='impute'").endswith(
        "impute with --missing impute"
    )
    assert speak_flags("kind='x' stays") == "kind='x' stays"


@pytest.mark.parametrize(
    ("option", "value", "flag"),
    [("time_column", "age", "--time-column"), ("value_column", "income", "--value-column")]
    + [("image_size", "28", "--image-size")],
)
def test_options_a_table_model_would_not_use_are_refused(tmp_path, option, value, flag):
    fitted = pipeline.fit(
        AutoencoderDetector(**FAST), pipeline.DataRequest("mixed:n_rows=100"), tmp_path / "m"
    )
    request = pipeline.DataRequest("mixed:n_rows=100", **{option: value})
    with pytest.raises(ConfigError, match=f"{option} must not be given: this model is of a table"):
        pipeline.score(fitted.output, request)
    assert speak_flags(f"{option} must not be given").startswith(flag)


def test_a_label_column_named_categorical_too_is_refused(tmp_path):
    det = AutoencoderDetector(categorical=("is_anomaly",), **FAST)
    request = pipeline.DataRequest("mixed:n_rows=100", label_column="is_anomaly")
    with pytest.raises(ConfigError, match="'is_anomaly' is the label column, not a feature"):
        pipeline.fit(det, request, tmp_path / "m")


def test_run_says_why_labels_give_no_auroc(tmp_path):
    from aedetect.data.table import why_not_binary

    assert why_not_binary(pd.Series(["no", "yes", "no"], name="lab")) == (
        "the label column 'lab' holds 2 distinct values ('no', 'yes'), not 0/1 (1 = anomaly)"
    )
    assert why_not_binary(pd.Series([0.0, None, 1.0], name="lab")).endswith("no value in row 2")
    assert "holds one value ('0')" in why_not_binary(pd.Series([0, 0], name="lab"))
    data = tmp_path / "yn.csv"
    frame = make_mixed_table(120, 0, seed=0).features.assign(lab=["no"] * 110 + ["yes"] * 10)
    frame.to_csv(data, index=False)
    result = pipeline.run(
        AutoencoderDetector(**FAST),
        pipeline.DataRequest(str(data), label_column="lab"),
        tmp_path / "o",
    )
    assert "labels     no AUROC: the label column 'lab' holds 2 distinct values" in result.summary()


def test_fit_and_run_read_a_parquet_folder_whole(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = make_mixed_table(150, 0, seed=0).features
    for i in range(3):
        frame.iloc[i * 50 : (i + 1) * 50].to_parquet(folder / f"part{i}.parquet")
    result = pipeline.run(
        AutoencoderDetector(**FAST), pipeline.DataRequest(str(folder)), tmp_path / "o"
    )
    assert len(result.scores) == 150
    with pytest.raises(ConfigError, match="cannot go to standard output"):
        pipeline.run(AutoencoderDetector(**FAST), pipeline.DataRequest(str(folder)), Path("-"))


def test_a_failed_run_leaves_the_earlier_outputs_as_they_were(tmp_path, monkeypatch):
    out = tmp_path / "out"
    request = pipeline.DataRequest("mixed:n_rows=300", label_column="is_anomaly")
    pipeline.run(AutoencoderDetector(**FAST), request, out)
    (out / "notes.txt").write_text("mine")  # a file of the user's, never touched
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(path, inp):
        raise RuntimeError("the report failed")

    monkeypatch.setattr(running, "write_report", broken)
    with pytest.raises(RuntimeError, match="the report failed"):
        pipeline.run(AutoencoderDetector(**{**FAST, "random_state": 1}), request, out)
    # not a new model and scores beside the old report: the old files, nothing else
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.undo()
    pipeline.run(AutoencoderDetector(**{**FAST, "random_state": 1}), request, out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(after) == set(before) and after["notes.txt"] == b"mine"
    assert after["model.aedetect"] != before["model.aedetect"]
