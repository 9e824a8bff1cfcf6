"""Silent data changes refused or made explicit (issue 14, group 4), and tiny tables (group 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aedetect import AutoencoderDetector
from aedetect.cli import app
from aedetect.data.chunks import read_whole
from aedetect.data.readers import read_table
from aedetect.exceptions import DataError

runner = CliRunner()


@pytest.mark.parametrize("read", [read_table, read_whole])
def test_a_blank_line_between_rows_is_refused_naming_it(tmp_path, read):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n3,4\n\n5,6\n")
    with pytest.raises(DataError, match=r"data.csv: line 4 is blank.*output rows match"):
        read(path)


def test_blank_lines_at_the_end_and_inside_quotes_are_kept(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('a,b\n1,"x\n\ny"\n3,z\n\n\n')
    frame = read_table(path)
    assert frame["b"].tolist() == ["x\n\ny", "z"]


def test_thousands_separators_are_numbers_at_fit_and_score(tmp_path):
    rng = np.random.default_rng(0)
    money = rng.integers(1_000, 900_000, size=60)
    frame = pd.DataFrame({"a": rng.normal(size=60), "money": [f"{v:,}" for v in money]})
    det = AutoencoderDetector(epochs=2, random_state=0).fit(frame)
    assert det.encoder_.categorical_columns_ == []
    plain = frame.assign(money=money)  # the same numbers without separators
    assert np.array_equal(det.decision_function(frame), det.decision_function(plain))
    assert det.encoder_.transform(pd.DataFrame({"a": [0.0], "money": ["1,234.5"]})).shape == (1, 2)


def test_a_value_too_far_to_score_is_refused_not_scored_inf():
    rng = np.random.default_rng(0)
    det = AutoencoderDetector(epochs=2, random_state=0).fit(rng.normal(size=(50, 3)))
    X = rng.normal(size=(5, 3))
    X[3, 1] = 3e38  # within float32; its squared error is not
    with pytest.raises(DataError, match=r"column 'x1' row 4: 3e\+38 .*float32"):
        det.decision_function(X)


def test_a_complex_npy_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "c.npy"
    np.save(path, np.ones((10, 3)) + 1j)
    res = runner.invoke(app, ["fit", str(path), "-o", str(tmp_path / "m"), "--epochs", "1"])
    assert res.exit_code == 1 and "c.npy: complex numbers" in res.stderr
    assert not (tmp_path / "m").exists()


def test_a_binary_parquet_column_is_refused_naming_it(tmp_path):
    frame = pd.DataFrame({"b": np.arange(40.0), "c": np.arange(40.0)})
    frame.insert(0, "a", [b"\x00\xff"] * 40)
    frame.to_parquet(tmp_path / "bin.parquet")
    args = ["fit", str(tmp_path / "bin.parquet"), "-o", str(tmp_path / "m"), "--epochs", "1"]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.stderr
    assert "bin.parquet: column 'a' row 1: raw bytes (a binary column)" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "m").exists()
    with pytest.raises(DataError, match="the array holds raw bytes"):
        AutoencoderDetector().fit(np.array([[b"x", b"y"]] * 5))
    # a bytearray among text (pandas infers such a column as "integer" or "mixed")
    for values in ([bytearray(b"x")] * 5, ["a", "b", "c", "d", bytearray(b"x")]):
        with pytest.raises(DataError, match=r"column 'a' row \d: raw bytes"):
            AutoencoderDetector().fit(pd.DataFrame({"a": values, "b": np.arange(5.0)}))


TINY = """id,age,income,city
1,34,52000,Paris
2,41,61000,Lyon
3,29,48000,Paris
4,38,,Lyon
5,120,1000000,Paris
6,45,67000,Lyon
7,31,50000,
8,36,58000,Paris
9,52,72000,Lyon
10,27,45000,Paris
"""


def test_a_tiny_table_warns_and_ranks_its_obvious_outlier_first(tmp_path):
    data = tmp_path / "tiny.csv"
    data.write_text(TINY)
    out = tmp_path / "out"
    args = ["run", str(data), "-o", str(out), "--missing", "impute", "--id-column", "id"]
    res = runner.invoke(app, [*args, "--seed", "3"])
    assert res.exit_code == 0, res.output
    said = [line for line in res.stderr.splitlines() if not line.startswith("training: ")]
    assert said == [  # besides the progress line a slow (busy) machine prints every 5 s
        "WARNING: only 10 rows to fit on (fewer than 64): too few to learn what is normal "
        "reliably; add rows if you can, and check the top-ranked rows by hand"
    ]
    scores = pd.read_csv(out / "scores.csv")
    assert scores.sort_values("score", ascending=False)["id"].iloc[0] == 5
    assert scores.loc[scores["id"] == 5, "is_anomaly"].item() == 1


def test_small_table_settings_leave_normal_tables_and_given_values_alone():
    from aedetect.fitting import SMALL_TABLE_ROWS, for_rows
    from aedetect.params import DEFAULTS

    params = {**DEFAULTS, "verbose": 0, "members": 1}  # ("auto": 1 without an encoder)
    assert for_rows(params, SMALL_TABLE_ROWS) == params
    small = for_rows(params, 10)
    assert (small["validation_fraction"], small["trim"]) == (0.0, 0.1)
    given = for_rows({**params, "validation_fraction": 0.2, "trim": 0.05}, 10)
    assert (given["validation_fraction"], given["trim"]) == (0.2, 0.05)
    with pytest.raises(DataError, match="at least 2 rows to fit, got 1 sample$"):
        AutoencoderDetector().fit(np.ones((1, 3)))


def test_a_column_of_identifiers_is_refused_in_bounded_memory(tmp_path):
    """60,000 distinct strings once made a 60,000-slot one-hot block (23 GB for 1.5 MB)."""
    import resource

    n = 60_000
    path = tmp_path / "ids.csv"
    pd.DataFrame({"id": [f"u{i}" for i in range(n)], "x": np.arange(n) % 7}).to_csv(
        path, index=False
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = tmp_path / "m.aedetect"
    res = CliRunner().invoke(app, ["fit", str(path), "-o", str(out)])
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "column 'id' has 60,000 different values in 60,000 rows" in res.stderr
    assert "--id-column" in res.stderr and not out.exists()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert grown < 1 << 30
    res = CliRunner().invoke(app, ["fit", str(path), "-o", str(out), "--categorical", "id"])
    assert res.exit_code == 1 and "would not fit in memory" in res.stderr


def test_a_latin1_csv_names_the_line_and_offset_of_its_first_bad_byte(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"a,b,c\n1,2,3\n4,5,6\n7,\xe9,9\n1,2,3\n")
    with pytest.raises(
        DataError, match=r"not a UTF-8 text file \(invalid byte at line 4, byte offset 20\)"
    ):
        read_table(path)
    far = tmp_path / "far.csv"  # beyond the first block pandas and the scan read
    far.write_bytes(b"a,b\n" + b"1,2\n" * 400_000 + "\u00e9".encode() + b"\xe9,3\n")
    with pytest.raises(DataError, match=r"line 400002, byte offset 1600006\)"):
        read_table(far)


def test_a_parquet_file_with_a_column_twice_is_refused_naming_it(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = pa.array(np.arange(40.0))
    pq.write_table(pa.Table.from_arrays([values] * 3, names=["a", "a", "c"]), tmp_path / "d.pq")
    with pytest.raises(DataError, match="column 'a' appears twice; column names must be unique"):
        read_table(tmp_path / "d.pq")
    with pytest.raises(DataError, match="column 'a' appears twice"):
        read_whole(tmp_path / "d.pq")


def test_scoring_warns_when_most_of_a_category_column_was_never_seen(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    pd.DataFrame({"a": a, "city": rng.choice(["x", "y", "z"], 200)}).to_csv(
        tmp_path / "fit.csv", index=False
    )
    pd.DataFrame({"a": a, "city": rng.choice([1, 2, 3], 200)}).to_csv(
        tmp_path / "codes.csv", index=False
    )
    model = tmp_path / "m.aedetect"
    assert (
        runner.invoke(
            app, ["fit", str(tmp_path / "fit.csv"), "-o", str(model), "--epochs", "1"]
        ).exit_code
        == 0
    )
    res = runner.invoke(
        app, ["score", str(model), str(tmp_path / "codes.csv"), "-o", str(tmp_path / "s.csv")]
    )
    assert res.exit_code == 0, res.stderr
    assert "column 'city': 100% of the values were never seen in training" in res.stderr
    res = runner.invoke(
        app, ["score", str(model), str(tmp_path / "fit.csv"), "-o", str(tmp_path / "s.csv")]
    )
    assert res.exit_code == 0 and "never seen" not in res.stderr


def test_a_date_column_is_refused_as_numbers_at_fit_and_at_score(tmp_path):
    times = pd.date_range("2026-01-01", periods=40, freq="h")
    frame = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) ** 2})
    with pytest.raises(DataError, match=r"column 't': dates or times \(datetime64"):
        AutoencoderDetector(epochs=1).fit(frame.assign(t=times))
    det = AutoencoderDetector(epochs=1).fit(frame)
    with pytest.raises(DataError, match=r"column 'b': dates or times"):
        det.decision_function(frame.assign(b=times))
