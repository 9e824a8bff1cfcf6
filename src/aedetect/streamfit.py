"""Fitting on a Parquet file or folder larger than memory.

:func:`fit_parquet` fits an :class:`~aedetect.detector.AutoencoderDetector`
without loading the table:

1. one streaming pass draws a seeded uniform sample of ``sample_rows`` rows
   (:class:`~aedetect.data.sampling.RowSample`, a row group at a time);
2. the encoder (scales, categories, clip bounds) is fitted on the sample, and
   the validation rows for early stopping are drawn from it;
3. each epoch reads the row groups in a seeded shuffled order, encodes one at a
   time and trains on it in shuffled batches (the validation rows left out);
4. the scorer's state and the threshold are fitted on the sample's scores.

Memory holds the sample, one row group and the model. The same seed and
files give the same model. The model file is the same kind as any other:
``score`` and ``aedetect.dask.score`` use it unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from aedetect import fitting
from aedetect.data.chunks import check_same_columns, parquet_files
from aedetect.data.sampling import KEY_COLUMNS, RowSample
from aedetect.data.table import binary_labels
from aedetect.exceptions import DataError
from aedetect.models.factory import spec_from_params
from aedetect.runtime import resolve_device, resolve_seed
from aedetect.training import EpochCallback

__all__ = ["SAMPLE_ROWS", "STREAM_ABOVE", "ParquetEpochs", "fit_parquet", "should_stream"]

log = logging.getLogger(__name__)

#: Rows of the sample the encoder, validation and threshold are fitted on.
SAMPLE_ROWS = 200_000
#: Parquet bytes on disk above which ``fit`` streams by itself (about 4 GiB in memory).
STREAM_ABOVE = 1 << 30


def should_stream(path: str | os.PathLike[str]) -> bool:
    """Tell whether ``path`` holds Parquet files larger than :data:`STREAM_ABOVE` in all."""
    return sum(f.stat().st_size for f in parquet_files(path)) > STREAM_ABOVE


@dataclass(frozen=True)
class _Group:
    file: Path
    index: int  # row group in its file
    rows: int


def _groups(path: str | os.PathLike[str]) -> list[_Group]:
    import pyarrow.parquet as pq

    files = parquet_files(path)
    if not files:
        raise DataError(f"{path}: no Parquet files")
    groups = []
    first: tuple[Path, set[str]] | None = None
    for f in files:
        try:
            pf = pq.ParquetFile(f)
            meta, names = pf.metadata, set(pf.schema_arrow.names)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(f"{f}: not a readable Parquet file ({exc})") from None
        first = first or (f, names)
        check_same_columns(f, names, *first)
        groups += [_Group(f, i, meta.row_group(i).num_rows) for i in range(meta.num_row_groups)]
    return [g for g in groups if g.rows]


def _read(group: _Group, columns: list[str] | None = None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(group.file).read_row_group(group.index, columns=columns)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"{group.file}: row group {group.index}: {exc}") from None
    return table.to_pandas().reset_index(drop=True)


class ParquetEpochs:
    """The training rows of Parquet row groups, encoded a group at a time (``EpochData``).

    Parameters
    ----------
    groups : list
        The row groups, numbered by position.
    columns : list of str
        Feature columns to read.
    encode : callable
        DataFrame -> float32 tensor on ``device`` (encoded, clamped).
    held_out : dict
        Group number -> row positions left out (the validation rows).
    seed : int
        Seeds each epoch's order of groups.
    """

    def __init__(
        self,
        groups: list[_Group],
        columns: list[str],
        encode: Any,
        held_out: dict[int, np.ndarray],
        seed: int,
        device: torch.device,
    ) -> None:
        self.groups, self.columns, self.encode = groups, columns, encode
        self.held_out, self.seed, self.device = held_out, seed, device

    def __len__(self) -> int:
        return sum(g.rows for g in self.groups) - sum(len(v) for v in self.held_out.values())

    def parts(self, epoch: int) -> Iterator[torch.Tensor]:
        """Yield each row group's training rows, encoded, in this epoch's shuffled order."""
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.groups))
        for k in order:
            frame = _read(self.groups[k], self.columns)
            if k in self.held_out:
                frame = frame.drop(index=self.held_out[k]).reset_index(drop=True)
            if len(frame):
                yield self.encode(frame)


def _sample(
    groups: list[_Group], columns: list[str], n_rows: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a seeded uniform sample (one pass, a row group at a time): rows, key columns."""
    sample = RowSample(n_rows, seed)
    for k, group in enumerate(groups):
        sample.add(_read(group, columns), k)
    keyed = sample.frame(keys=True)
    return keyed.drop(columns=list(KEY_COLUMNS)), keyed[list(KEY_COLUMNS)]


def _columns(path: str | os.PathLike[str], groups: list[_Group], drop: list[str]) -> list[str]:
    import pyarrow.parquet as pq

    names = list(pq.ParquetFile(groups[0].file).schema_arrow.names)
    for option, name in zip(("label_column", "id_column"), drop, strict=True):
        if name is not None and name not in names:
            raise DataError(f"{path}: {option} {name!r} is not a column")
    return [n for n in names if n not in drop and not n.startswith("__index_level_")]


def fit_parquet(
    detector: Any,
    path: str | os.PathLike[str],
    label_column: str | None = None,
    id_column: str | None = None,
    sample_rows: int = SAMPLE_ROWS,
    on_epoch: EpochCallback | None = None,
) -> Any:
    """Fit ``detector`` on a Parquet file or folder without loading it (see the module).

    Parameters
    ----------
    detector : AutoencoderDetector
        Unfitted or fitted; its parameters apply (``random_state`` seeds the
        sample, the validation rows, the order of row groups and the batches).
    path : path
        A Parquet file or a folder of them (read in sorted order).
    label_column, id_column : str, optional
        Kept out of the features; 0/1 labels serve the ``f1`` threshold rule.
    sample_rows : int, default=200000
        Rows sampled for the encoder, the validation rows and the threshold.
    on_epoch : callable, optional
        ``on_epoch(epoch, train_loss, val_loss)`` after each epoch.

    Returns
    -------
    AutoencoderDetector
        ``detector``, fitted; ``decision_scores_`` are the sample's scores.
    """
    params = detector.get_params(deep=False)
    fitting.check_params(params)
    if params["refit"]:
        log.warning("refit=%d is not applied out of core: one pass over the files", params["refit"])
    groups = _groups(path)
    columns = _columns(path, groups, [label_column, id_column])
    read = columns + [c for c in (label_column,) if c is not None]
    rows, keys = _sample(groups, read, sample_rows, resolve_seed(detector.random_state))
    frame = rows[columns]
    if len(frame) < 2:
        raise DataError(f"{path}: need at least 2 rows to fit, got {len(frame)}")
    encoder, encoded = fitting.encode_training(params, frame)
    total = sum(g.rows for g in groups)  # the network of a table this size, as fit picks
    params = fitting.for_rows(params, len(frame), False, encoder, table_rows=total)
    seed, device = resolve_seed(detector.random_state), resolve_device(detector.device)
    spec = spec_from_params(params, encoder.n_features_out_, None)
    train_idx, val_idx = fitting.validation_split(len(frame), detector.validation_fraction, seed)
    detector._set_fitted(encoder, spec, device, len(columns), None, frame)
    X_sample = torch.from_numpy(encoded).to(device)
    held: dict[int, np.ndarray] = {}
    X_val = None
    if val_idx is not None:
        X_val = detector._clamp(X_sample[val_idx.to(device)])
        val = keys.iloc[val_idx.numpy()]
        for part, rows_ in val.groupby(KEY_COLUMNS[1])[KEY_COLUMNS[2]]:
            held[int(part)] = np.sort(rows_.to_numpy())

    def encode(part: pd.DataFrame) -> torch.Tensor:
        return detector._clamp(torch.from_numpy(encoder.transform(part)).to(device))

    data = ParquetEpochs(groups, columns, encode, held, seed, device)
    labels = binary_labels(rows[label_column]) if label_column is not None else None
    detector._train_and_threshold(
        params, spec, data, [X_val], X_sample, val_idx, seed, labels, on_epoch
    )
    return detector
