"""Scoring and fitting on Dask (a LocalCluster with 2 workers, threads: fast to start)."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from typer.testing import CliRunner

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import aedetect.dask as ae_dask  # noqa: E402
from aedetect import AutoencoderDetector, pipeline  # noqa: E402
from aedetect.cli import app  # noqa: E402
from aedetect.data.datasets import make_mixed_table  # noqa: E402
from aedetect.exceptions import OutputError  # noqa: E402
from aedetect.persistence import save_detector  # noqa: E402

BLOCK = 8192  # partitions of whole scoring blocks: scores bit-identical to the whole table


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    t = make_mixed_table(4 * BLOCK, 10, seed=1)
    frame = t.features.assign(customer=t.ids, is_anomaly=t.labels)
    parts = folder / "parts"
    parts.mkdir()
    for k in range(4):
        frame.iloc[k * BLOCK : (k + 1) * BLOCK].to_parquet(parts / f"part-{k}.parquet")
    det = AutoencoderDetector(hidden=(8, 3), epochs=3, random_state=0)
    det.fit(frame.drop(columns=["customer", "is_anomaly"]).iloc[:500])
    extra = {"id_column": "customer", "label_column": "is_anomaly"}
    save_detector(det, folder / "m.aedetect", extra=extra)
    return folder


@pytest.fixture(scope="module")
def client():
    with ae_dask.cluster("local", n_workers=2, processes=False, dashboard_address=":0") as c:
        yield c


def test_scores_on_two_workers_equal_in_memory_scores(files, client):
    ae_dask._models.clear()
    ae_dask.LOADS[0] = 0
    ddf = dd.read_parquet(str(files / "parts"))
    assert ddf.npartitions == 4
    scored = ae_dask.score(files / "m.aedetect", ddf).compute().reset_index(drop=True)
    whole = pipeline.score(files / "m.aedetect", pipeline.DataRequest(str(files / "parts")))
    pd.testing.assert_frame_equal(scored, whole, check_exact=True, check_dtype=False)
    assert ae_dask.LOADS[0] == 1  # once for the process, not once per partition


def test_partitioned_parquet_in_and_out(files, client, tmp_path):
    out = tmp_path / "scores"
    out.mkdir()
    (out / "part.9.parquet").write_text("an earlier output's part: replaced")
    rows = ae_dask.score_parquet(files / "m.aedetect", files / "parts", out, all_scores=True)
    assert rows == 4 * BLOCK
    assert sorted(p.name for p in out.iterdir()) == [f"part.{k}.parquet" for k in range(4)]
    back = pd.read_parquet(out)
    assert {"customer", "score", "is_anomaly", "true_is_anomaly", "latent-kmeans"} <= set(back)
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []


def test_a_failing_partition_leaves_the_old_output(files, client, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    frame = pd.read_parquet(files / "parts")
    frame.iloc[:100].to_parquet(bad / "a.parquet")
    frame.iloc[100:200].drop(columns=["age"]).to_parquet(bad / "b.parquet")
    out = tmp_path / "scores"
    out.mkdir()
    (out / "part.0.parquet").write_text("kept")
    with pytest.raises(Exception):  # noqa: B017  the columns do not match the model
        ae_dask.score_parquet(files / "m.aedetect", bad, out)
    assert os.listdir(out) == ["part.0.parquet"]
    assert sorted(os.listdir(tmp_path)) == ["bad", "scores"]


def test_a_folder_holding_other_files_is_not_replaced(files, client, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"holds 'notes.txt'.*not replaced"):
        ae_dask.score_parquet(files / "m.aedetect", files / "parts", out)
    assert os.listdir(out) == ["notes.txt"]


def test_sample_and_fit_sample_are_seeded(files, client):
    ddf = dd.read_parquet(str(files / "parts"))
    a, b = ae_dask.sample(ddf, 500, seed=3), ae_dask.sample(ddf, 500, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 500 and a["customer"].is_unique
    assert not a.equals(ae_dask.sample(ddf, 500, seed=4))
    assert set(a["customer"].str[1:].astype(int) // BLOCK) == {0, 1, 2, 3}  # every partition
    det = ae_dask.fit_sample(
        ddf,
        AutoencoderDetector(hidden=(8, 3), epochs=2, random_state=0),
        n_rows=500,
        seed=3,
        label_column="is_anomaly",
        id_column="customer",
    )
    assert det.n_features_in_ == 6


def test_cli_dask_writes_a_parquet_folder(files, tmp_path, monkeypatch):
    real = ae_dask.cluster

    def threads(address, **kw):  # the CLI's LocalCluster, with threads: seconds faster to start
        return real(address, n_workers=2, processes=False, dashboard_address=":0", **kw)

    monkeypatch.setattr(ae_dask, "cluster", threads)
    model, out = files / "m.aedetect", tmp_path / "out"
    res = CliRunner().invoke(app, ["score", str(model), str(files / "parts"), "--dask", "local"])
    assert res.exit_code == 2 and "--dask writes a folder" in res.stderr
    res = CliRunner().invoke(
        app, ["score", str(model), str(files / "parts"), "--dask", "local", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert f"scored {4 * BLOCK} rows" in res.stderr
    assert "INFO" not in res.stderr  # no scheduler / worker chatter
    assert len(pd.read_parquet(out)) == 4 * BLOCK
