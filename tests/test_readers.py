import logging

import numpy as np
import pandas as pd
import pytest

from aedetect.data.datasets import load_data, make_mixed_table
from aedetect.data.readers import read_table, split_columns
from aedetect.exceptions import DataError


def test_csv_parquet_npy_read_the_same_table(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    np.save(tmp_path / "t.npy", frame.to_numpy())
    assert read_table(tmp_path / "t.csv").equals(frame)
    assert read_table(tmp_path / "t.parquet").equals(frame)
    assert np.array_equal(read_table(tmp_path / "t.npy").to_numpy(), frame.to_numpy())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a;b\n1.5;2\n3;4\n", {"a": [1.5, 3.0], "b": [2, 4]}),
        ("a;b\n1,5;2\n3,25;4\n", {"a": [1.5, 3.25], "b": [2, 4]}),  # decimal commas
        ("a\tb\n1.5\t2\n3\t4\n", {"a": [1.5, 3.0], "b": [2, 4]}),
        ("a|b\n1.5|2\n3|4\n", {"a": [1.5, 3.0], "b": [2, 4]}),
        ("a,b\n1.5,2\n3,4\n", {"a": [1.5, 3.0], "b": [2, 4]}),
    ],
)
def test_csv_separator_and_decimal_mark_come_from_the_file(tmp_path, text, expected):
    from aedetect.data.chunks import read_chunks

    path = tmp_path / "t.csv"
    path.write_text(text)
    assert read_table(path).equals(pd.DataFrame(expected))
    assert pd.concat(read_chunks(path, 1)).reset_index(drop=True).equals(pd.DataFrame(expected))


def test_repeated_column_names_are_said(tmp_path, caplog):
    path = tmp_path / "t.csv"
    path.write_text("a,a,b\n1,2,3\n")
    with caplog.at_level(logging.WARNING, logger="aedetect"):
        assert list(read_table(path).columns) == ["a", "a.1", "b"]
    assert "column names repeat ('a')" in caplog.text
    path.write_text("a,a,a.1,a\n1,2,3,4\n")  # a repeat never takes a name in the header
    assert list(read_table(path).columns) == ["a", "a.2", "a.1", "a.3"]
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\ta\n1\t2\n")
    assert list(read_table(tsv).columns) == ["a", "a.1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        ("a,b,c\n", "has a header but no data rows"),
        ("a,b,c\n1,2,3\n4,5,6,7\n", "line 3 has 4 fields, expected 3"),
        ("a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields, expected 3"),
    ],
)
def test_bad_csv_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=f"{path}: {message}"):
        read_table(path)


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        read_table(tmp_path / "x.xlsx")


def test_npy_with_objects_is_not_unpickled(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="never unpickles"):
        read_table(path)


def test_label_and_id_columns_are_kept_out(tmp_path):
    frame = make_mixed_table(50, 2, seed=1).features.assign(id=range(50), y=0)
    table = split_columns(frame, "t.csv", label_column="y", id_column="id")
    assert "y" not in table.features and "id" not in table.features
    assert table.ids.tolist() == list(range(50))
    with pytest.raises(DataError, match="label_column 'nope' is not a column"):
        split_columns(frame, "t.csv", label_column="nope")


def test_builtin_names_resolve_and_unknown_names_say_so():
    digits = load_data("digits")
    assert digits.features.shape == (1797, 64)
    assert digits.labels.nunique() == 10
    with pytest.raises(DataError, match="not a built-in data set"):
        load_data("digitz")
