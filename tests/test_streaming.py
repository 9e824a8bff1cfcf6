"""Streamed scoring: chunked reads, bit-identical scores, whole-or-nothing output."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest
from typer.testing import CliRunner

from aedetect import AutoencoderDetector, pipeline
from aedetect.cli import app
from aedetect.cli_options import CHUNK_ROWS
from aedetect.data.chunks import read_chunks, table_rows
from aedetect.data.datasets import make_mixed_table
from aedetect.data.readers import read_table
from aedetect.exceptions import ConfigError, DataError
from aedetect.outputs import writing_frames
from aedetect.persistence import save_detector
from aedetect.pipeline.streaming import CHUNK_ROWS as LIBRARY_CHUNK_ROWS

runner = CliRunner()
N = 20_000  # crosses two scoring blocks of 8192 rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    t = make_mixed_table(N, 10, seed=0)
    frame = t.features.assign(customer=t.ids, is_anomaly=t.labels)
    frame.to_csv(folder / "big.csv", index=False)
    frame.to_parquet(folder / "big.parquet", row_group_size=3000)
    parts = folder / "parts"
    parts.mkdir()
    for k in range(4):
        frame.iloc[k * N // 4 : (k + 1) * N // 4].to_parquet(parts / f"part-{k}.parquet")
    det = AutoencoderDetector(hidden=(8, 3), epochs=3, random_state=0)
    det.fit(frame.drop(columns=["customer", "is_anomaly"]).iloc[:500])
    extra = {"id_column": "customer", "label_column": "is_anomaly"}
    save_detector(det, folder / "m.aedetect", extra=extra)
    return folder


def _score(files, data, chunk_rows, **kw):
    out = []

    class Sink:
        def write(self, frame):
            out.append(frame)

    request = pipeline.DataRequest(str(data))
    result = pipeline.score_chunks(files / "m.aedetect", request, Sink(), chunk_rows, **kw)
    return pd.concat(out, ignore_index=True), result


@pytest.mark.parametrize("name", ["big.csv", "big.parquet", "parts"])
@pytest.mark.parametrize("chunk_rows", [999, 8192, CHUNK_ROWS])
def test_chunked_scores_are_bit_identical_to_in_memory(files, name, chunk_rows):
    whole = pipeline.score(files / "m.aedetect", pipeline.DataRequest(str(files / "big.csv")))
    streamed, result = _score(files, files / name, chunk_rows)
    pd.testing.assert_frame_equal(streamed, whole, check_exact=True, check_dtype=False)
    assert (streamed["score"].to_numpy() == whole["score"].to_numpy()).all()
    assert result.rows == N and result.anomalies == int(whole["is_anomaly"].sum())


def test_all_scores_stream_identically(files):
    request = pipeline.DataRequest(str(files / "big.parquet"))
    whole = pipeline.score(files / "m.aedetect", request, all_scores=True)
    streamed, _ = _score(files, files / "big.parquet", 5000, all_scores=True)
    pd.testing.assert_frame_equal(streamed, whole, check_exact=True)


def test_chunks_concatenate_to_the_whole_table(files):
    for name in ("big.csv", "big.parquet"):
        chunks = list(read_chunks(files / name, 6000))
        assert [len(c) for c in chunks] == [6000, 6000, 6000, 2000]
        pd.testing.assert_frame_equal(
            pd.concat(chunks, ignore_index=True), read_table(files / name)
        )
    assert table_rows(files / "parts") == N and table_rows(files / "big.csv") is None


def test_bad_chunk_rows_and_files(files, tmp_path):
    with pytest.raises(ConfigError, match="chunk_rows must be a positive integer, got 0"):
        next(read_chunks(files / "big.csv", 0))
    (tmp_path / "head.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="head.csv: has a header but no data rows"):
        list(read_chunks(tmp_path / "head.csv", 10))
    (tmp_path / "short.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="short.csv: line 3 has 1 fields, expected 2"):
        list(read_chunks(tmp_path / "short.csv", 10))


def _bad_csv(files, tmp_path, row):
    frame = pd.read_csv(files / "big.csv")
    frame["age"] = frame["age"].astype(object)
    frame.loc[row - 1, "age"] = "abc"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def test_an_error_mid_stream_names_the_row_and_leaves_no_output(files, tmp_path):
    bad = _bad_csv(files, tmp_path, 15_000)
    out = tmp_path / "scores.parquet"
    with pytest.raises(DataError, match=r"bad.csv: .*row 15000\b"):
        with writing_frames(out) as sink:
            pipeline.score_chunks(files / "m.aedetect", pipeline.DataRequest(str(bad)), sink, 4000)
    assert os.listdir(tmp_path) == ["bad.csv"]


def test_sigint_mid_stream_keeps_the_old_output(files, tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("old\n")
    request = pipeline.DataRequest(str(files / "big.csv"))

    def interrupt(done, total):
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C after the first block is written

    with pytest.raises(KeyboardInterrupt), writing_frames(out) as sink:
        pipeline.score_chunks(files / "m.aedetect", request, sink, 1000, on_rows=interrupt)
    assert out.read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["scores.csv"]


def test_cli_writes_parquet_and_csv_alike(files, tmp_path, monkeypatch):
    import aedetect.cli_logging as cli_logging

    monkeypatch.setattr(cli_logging, "LOG_EVERY", 0.0)
    args = ["score", str(files / "m.aedetect"), str(files / "parts"), "--chunk-rows", "3000"]
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "s.parquet")])
    assert res.exit_code == 0, res.output
    assert "rows/s of 20,000" in res.stderr and "scored 20000 rows" in res.stderr
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "s.csv"), "-q"])
    assert res.exit_code == 0 and res.stderr == ""
    pq, csv = pd.read_parquet(tmp_path / "s.parquet"), pd.read_csv(tmp_path / "s.csv")
    assert list(pq.columns) == ["customer", "score", "is_anomaly", "true_is_anomaly"]
    pd.testing.assert_frame_equal(pq, csv, check_dtype=False)
    res = runner.invoke(app, [*args, "--chunk-rows", "0"])
    assert res.exit_code == 2


def test_the_cli_default_is_the_library_default():
    assert CHUNK_ROWS == LIBRARY_CHUNK_ROWS


def test_parquet_rows_that_change_type_are_refused_whole(tmp_path):
    from aedetect.exceptions import OutputError

    out = tmp_path / "x.parquet"
    with pytest.raises(OutputError, match="rows after 2 do not fit the column types"):
        with writing_frames(out) as sink:
            sink.write(pd.DataFrame({"a": [1, 2]}))
            sink.write(pd.DataFrame({"a": ["x", "y"]}))
    assert os.listdir(tmp_path) == []
