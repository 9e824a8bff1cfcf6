"""Parquet folders read in chunks: which files, in which order, with which columns."""

from __future__ import annotations

import pandas as pd
import pytest

from aedetect.exceptions import DataError


def test_a_parquet_folder_is_read_in_natural_order_without_hidden_files(tmp_path):
    from aedetect.data.chunks import parquet_files, read_whole

    folder = tmp_path / "parts"
    (folder / "_temporary").mkdir(parents=True)
    for k in (10, 2, 9):
        pd.DataFrame({"a": [float(k)]}).to_parquet(folder / f"part.{k}.parquet")
    pd.DataFrame({"a": [-1.0]}).to_parquet(folder / ".hidden.parquet")
    pd.DataFrame({"a": [-2.0]}).to_parquet(folder / "_temporary" / "part.0.parquet")
    assert [f.name for f in parquet_files(folder)] == [f"part.{k}.parquet" for k in (2, 9, 10)]
    assert read_whole(folder)["a"].tolist() == [2.0, 9.0, 10.0]


def test_a_parquet_folder_file_with_other_columns_is_named(tmp_path):
    from aedetect.data.chunks import read_whole

    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_parquet(folder / "p0.parquet")
    pd.DataFrame({"a": [1.0], "c": [2.0]}).to_parquet(folder / "p1.parquet")
    with pytest.raises(
        DataError,
        match=r"p1.parquet: columns differ from p0.parquet's: "
        r"missing 'b'; unexpected 'c'",
    ):
        read_whole(folder)


def test_dask_scoring_refuses_a_folder_file_with_other_columns_before_any_work(tmp_path):
    pytest.importorskip("dask.dataframe")
    from aedetect import AutoencoderDetector, save
    from aedetect.dask import score_parquet

    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 3.0]}).to_parquet(folder / "p0.parquet")
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(folder / "p1.parquet")
    det = AutoencoderDetector(hidden=(2, 1), epochs=1, random_state=0)
    save(det.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 3.0, 4.0]})), tmp_path / "m")
    with pytest.raises(DataError, match="p1.parquet: columns differ from p0.parquet's"):
        score_parquet(tmp_path / "m", folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()
