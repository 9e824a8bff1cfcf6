"""Scoring and fitting on Dask: the same model file, one process per machine or a cluster.

Needs the optional extra ``aedetect[dask]``; only this module imports Dask.

- :func:`score`: a Dask DataFrame in, a Dask DataFrame of scores out (the id
  column, ``score``, ``is_anomaly``, the label), lazily; each worker process
  loads the model file once, not once per partition
  (:class:`aedetect.pipeline.batches.ModelScorer`).
- :func:`score_parquet`: a folder of Parquet files in, a partitioned Parquet
  folder out, written whole or not at all.
- :func:`fit_sample`: fit a detector on a seeded uniform sample drawn across
  the partitions (:class:`aedetect.data.sampling.RowSample`).

A partition is scored exactly as :func:`aedetect.pipeline.scores_frame`
scores it in memory, so a partition's scores are bit-identical to scoring it
alone (and to scoring the whole table when partitions hold multiples of 8192
rows: float32 products can round a row differently with other rows beside it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.chunks import check_same_columns, parquet_files
from aedetect.data.readers import split_columns
from aedetect.data.sampling import RowSample
from aedetect.exceptions import ConfigError, DataError
from aedetect.outputs import replacing_folder

# LOADS and _models: the per-process model cache, kept in pipeline.batches (tests reset it).
from aedetect.pipeline.batches import LOADS, ModelScorer, _models, cached_model  # noqa: F401

__all__ = ["cluster", "fit_sample", "sample", "score", "score_parquet"]


def _import_dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError:
        raise ConfigError(
            "Dask is not installed: pip install 'aedetect[dask]' (dask[dataframe], distributed)"
        ) from None
    return dd


def _meta(det: Any, dtypes: pd.Series, label: str | None, id_: str | None, every: bool) -> Any:
    cols: dict[str, Any] = {}
    if id_ is not None:
        cols[id_] = dtypes[id_]
    cols["score"] = np.float64
    cols["is_anomaly"] = np.int64
    for name in det.scorer_.available() if every else ():
        cols[name] = np.float64
    if label is not None:
        cols[f"true_{label}" if label in cols else label] = dtypes[label]
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in cols.items()})


def _score_partition(
    frame: pd.DataFrame, model: str, label: str | None, id_: str | None, every: bool, meta: Any
) -> pd.DataFrame:
    if len(frame) == 0:
        return meta
    return ModelScorer(model, every, label, id_)(frame)


def score(
    model_path: str | os.PathLike[str],
    ddf: Any,
    all_scores: bool = False,
    label_column: str | None = None,
    id_column: str | None = None,
) -> Any:
    """Score every row of a Dask DataFrame with a saved model, lazily.

    Parameters
    ----------
    model_path : path
        Model file written by ``fit`` / :func:`aedetect.save`; every worker
        must be able to read it (a shared or copied path).
    ddf : dask.dataframe.DataFrame
        Rows to score: the model's feature columns, plus id and label columns.
    all_scores : bool, default=False
        Also every score the model can give, one column each.
    label_column, id_column : str, optional
        Kept out of the features; default: the model's, when ``ddf`` has them.

    Returns
    -------
    dask.dataframe.DataFrame
        Per partition, what :func:`aedetect.pipeline.scores_frame` gives: the id
        column, ``score`` (higher = more anomalous), ``is_anomaly`` (0/1), any
        other scores, the label. Same index and partitions as ``ddf``.
    """
    _import_dask()
    path = os.fspath(model_path)
    label, id_ = ModelScorer(path, False, label_column, id_column).columns(ddf.columns)
    det, _ = cached_model(path)
    meta = _meta(det, ddf.dtypes, label, id_, all_scores)
    return ddf.map_partitions(_score_partition, path, label, id_, all_scores, meta, meta=meta)


@contextlib.contextmanager
def cluster(address: str = "local", **local: Any) -> Iterator[Any]:
    """Yield a ``distributed.Client``: on a new LocalCluster (``"local"``) or at ``address``.

    ``local`` goes to ``LocalCluster`` (``n_workers``, ``processes``, ...).
    """
    _import_dask()
    from distributed import Client, LocalCluster

    if address == "local":
        with LocalCluster(**local) as lc, Client(lc) as client:
            yield client
    elif address.startswith(("tcp://", "tls://", "ucx://")):
        with Client(address) as client:
            yield client
    else:
        raise ConfigError(
            f"dask must be 'local' or a scheduler like tcp://HOST:PORT, got {address!r}"
        )


def score_parquet(
    model_path: str | os.PathLike[str],
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    all_scores: bool = False,
    label_column: str | None = None,
    id_column: str | None = None,
) -> int:
    """Score a Parquet file or folder into the partitioned Parquet folder ``output``.

    Runs on the current Dask client (see :func:`cluster`), or Dask's default
    scheduler without one. ``output`` appears only when every partition is
    written (an existing folder is replaced then). Returns the rows scored.
    """
    dd = _import_dask()
    import pyarrow.parquet as pq

    # The files, their order and their columns as the streamed path reads them.
    files = parquet_files(source)
    if not files:
        raise DataError(f"{source}: no Parquet files")
    names = [set(pq.ParquetFile(f).schema_arrow.names) for f in files]  # metadata only
    for f, columns in zip(files, names, strict=True):
        check_same_columns(f, columns, files[0], names[0])
    ddf = dd.read_parquet([os.fspath(f) for f in files])
    scored = score(model_path, ddf, all_scores, label_column, id_column)
    with replacing_folder(output) as tmp:
        scored.to_parquet(str(tmp), write_index=False)
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(tmp.glob("*.parquet")))
    return rows


def _keyed_partition(frame: pd.DataFrame, k: int, seed: int, partition_info: Any = None) -> Any:
    part = 0 if partition_info is None else partition_info["number"]
    return RowSample(k, seed).keyed(frame.reset_index(drop=True), part)


def sample(ddf: Any, n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Draw ``n_rows`` rows uniformly across the partitions (seeded; all rows if fewer).

    Each partition keeps its ``n_rows`` rows of smallest random key (its own
    generator, seeded by ``seed`` and its number) on the worker; only those
    travel to the client, which keeps the ``n_rows`` smallest overall.
    """
    _import_dask()
    picked = RowSample(n_rows, seed)
    meta = picked.keyed(ddf._meta, 0)
    keyed = ddf.map_partitions(_keyed_partition, n_rows, seed, meta=meta).compute()
    picked.merge(keyed)
    return picked.frame()


def fit_sample(
    ddf: Any,
    detector: Any = None,
    n_rows: int = 100_000,
    seed: int = 0,
    label_column: str | None = None,
    id_column: str | None = None,
) -> Any:
    """Fit ``detector`` (default: an ``AutoencoderDetector`` seeded with ``seed``) on a sample.

    The sample is :func:`sample` of ``ddf``, with the label and id columns kept
    out of the features. Returns the fitted detector, to :func:`aedetect.save`
    and then :func:`score` with.
    """
    from aedetect.data.table import binary_labels
    from aedetect.detector import AutoencoderDetector

    rows = sample(ddf, n_rows, seed)
    table = split_columns(rows, "sample", label_column, id_column)
    det = AutoencoderDetector(random_state=seed) if detector is None else detector
    return det.fit(table.features, binary_labels(table.labels))
