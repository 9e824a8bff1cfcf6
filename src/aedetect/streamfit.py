"""Fitting on a Parquet file or folder larger than memory.

:func:`fit_parquet` fits an :class:`~aedetect.detector.AutoencoderDetector`
without loading the table:

1. one streaming pass draws a seeded uniform sample of ``sample_rows`` rows
   (:class:`~aedetect.data.sampling.RowSample`, a row group at a time);
2. the encoder (scales, categories, clip bounds) is fitted on the sample, and
   the validation rows for early stopping are drawn from it;
3. each epoch reads the row groups in a seeded shuffled order, gathers
   consecutive ones into parts of at least :data:`PART_ROWS` rows (fewer for a
   wide table), encodes one part at a time and trains on it in shuffled batches
   (the validation rows left out);
4. the scorer's state and the threshold are fitted on the sample's scores.

Memory holds the sample, one part and the model. The same seed and
files give the same model. The model file is the same kind as any other:
``score`` and ``aedetect.dask.score`` use it unchanged.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
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
#: Rows a training part gathers at least, from row groups next to each other in the
#: epoch's order: small row groups (a streaming writer's) do not make small batches.
PART_ROWS = 65_536
# ... within this many encoded values (256 MiB of float32) for a wide table.
_PART_VALUES = 1 << 26
# Parquet files kept open while reading row groups in shuffled order.
_OPEN_FILES = 16


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


class _Files:
    """Row groups read through open Parquet files, the :data:`_OPEN_FILES` last used kept.

    Opening a file parses its footer, which lists every row group: opened once
    per group, a file of many small groups would cost its size squared.
    """

    def __init__(self) -> None:
        self.open: OrderedDict[Path, Any] = OrderedDict()

    def read(self, file: Path, indices: list[int], columns: list[str] | None) -> pd.DataFrame:
        """Row groups ``indices`` of ``file``, one after the other, as one DataFrame."""
        import pyarrow.parquet as pq

        try:
            handle = self.open.pop(file, None) or pq.ParquetFile(file)
            self.open[file] = handle
            if len(self.open) > _OPEN_FILES:
                self.open.popitem(last=False)[1].close()
            table = handle.read_row_groups(indices, columns=columns)
        except Exception as exc:  # pyarrow raises several unrelated types
            which = f"row group {indices[0]}" if len(indices) == 1 else "row groups"
            raise DataError(f"{file}: {which}: {exc}") from None
        return table.to_pandas().reset_index(drop=True)

    def close(self) -> None:
        """Close every open file."""
        while self.open:
            self.open.popitem()[1].close()


class ParquetEpochs:
    """The training rows of Parquet row groups, encoded a part at a time (``EpochData``).

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
    part_rows : int
        Rows a part gathers at least (from whole groups; the last part may hold fewer).
    """

    def __init__(
        self,
        groups: list[_Group],
        columns: list[str],
        encode: Any,
        held_out: dict[int, np.ndarray],
        seed: int,
        device: torch.device,
        part_rows: int = PART_ROWS,
    ) -> None:
        self.groups, self.columns, self.encode = groups, columns, encode
        self.held_out, self.seed, self.device = held_out, seed, device
        self.part_rows = part_rows

    def __len__(self) -> int:
        return sum(g.rows for g in self.groups) - sum(len(v) for v in self.held_out.values())

    def parts(self, epoch: int) -> Iterator[torch.Tensor]:
        """Yield the training rows, encoded, in parts of whole groups in this epoch's order."""
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.groups))
        files = _Files()
        try:
            part: list[int] = []
            rows = 0
            for k in order:
                kept = self.groups[k].rows - len(self.held_out.get(k, ()))
                if kept > 0:
                    part.append(k)
                    rows += kept
                if rows >= self.part_rows:
                    yield self.encode(self._read(files, part))
                    part, rows = [], 0
            if part:
                yield self.encode(self._read(files, part))
        finally:
            files.close()

    def _read(self, files: _Files, part: list[int]) -> pd.DataFrame:
        """Read the training rows of groups ``part``: a read per file, validation rows left out."""
        by_file: dict[Path, list[int]] = {}
        for k in part:
            by_file.setdefault(self.groups[k].file, []).append(k)
        frames = []
        for file, members in by_file.items():
            members.sort(key=lambda k: self.groups[k].index)
            frame = files.read(file, [self.groups[k].index for k in members], self.columns)
            drop, offset = [], 0
            for k in members:
                if k in self.held_out:
                    drop.append(offset + self.held_out[k])
                offset += self.groups[k].rows
            if drop:
                frame = frame.drop(index=np.concatenate(drop)).reset_index(drop=True)
            frames.append(frame)
        return _joined(frames)


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _sample(
    groups: list[_Group], columns: list[str], n_rows: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a seeded uniform sample (one pass, a row group at a time): rows, key columns."""
    sample = RowSample(n_rows, seed)
    files = _Files()
    try:
        for k, group in enumerate(groups):
            sample.add(files.read(group.file, [group.index], columns), k)
    finally:
        files.close()
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

    batch = params["batch_size"] if isinstance(params["batch_size"], int) else 1  # auto: <= 256
    part_rows = max(batch, min(PART_ROWS, _PART_VALUES // max(1, encoder.n_features_out_)))
    data = ParquetEpochs(groups, columns, encode, held, seed, device, part_rows)
    labels = binary_labels(rows[label_column]) if label_column is not None else None
    detector._train_and_threshold(
        params, spec, data, [X_val], X_sample, val_idx, seed, labels, on_epoch
    )
    return detector
