"""Read tables from CSV, Parquet and NumPy files, with errors that name the file and row.

:class:`Table` lives in :mod:`aedetect.data.table`; it is re-exported here.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect.data.table import Table
from aedetect.exceptions import DataError

__all__ = ["TABLE_SUFFIXES", "Table", "csv_error", "read_table", "split_columns"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npy")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole table; raise :class:`DataError` naming the file on any problem."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a table file")
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(
            f"{p}: unsupported file type {suffix or '(none)'!r}; use .csv, .tsv, .parquet or .npy"
        )
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty")
    if suffix == ".npy":
        frame = _read_npy(p)
    elif suffix in (".parquet", ".pq"):
        frame = _read_parquet(p)
    else:
        frame = _read_csv(p, sep="\t" if suffix == ".tsv" else ",")
    if frame.shape[1] == 0:
        raise DataError(f"{p}: no columns")
    if len(frame) == 0:
        raise DataError(f"{p}: has a header but no data rows")
    return frame


def _read_csv(p: Path, sep: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(p, sep=sep, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise csv_error(p, exc) from None
    if frame.isna().to_numpy().any():
        _check_short_rows(p, sep, frame.shape[1])
    return frame


def csv_error(p: Path, exc: Exception) -> DataError:
    """Return the :class:`DataError` for a CSV that pandas could not read: file, line, cause."""
    if isinstance(exc, pd.errors.EmptyDataError):
        return DataError(f"{p}: file is empty")
    if isinstance(exc, UnicodeDecodeError):
        return DataError(f"{p}: not a UTF-8 text file ({exc.reason} at byte {exc.start})")
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if m:
        want, line, saw = m.groups()
        return DataError(f"{p}: line {line} has {saw} fields, expected {want}")
    return DataError(f"{p}: cannot parse CSV: {str(exc).strip().splitlines()[-1]}")


def _check_short_rows(p: Path, sep: str, width: int) -> None:
    # pandas pads short rows with NaN silently; find them so the message is right.
    with p.open(newline="", encoding="utf-8") as fh:
        for line_no, row in enumerate(
            csv.reader(fh, delimiter=sep, skipinitialspace=True), start=1
        ):
            if row and len(row) < width:
                raise DataError(f"{p}: line {line_no} has {len(row)} fields, expected {width}")


def load_npy(p: Path) -> np.ndarray:
    """Load a .npy array without ever unpickling; raise :class:`DataError` naming the file."""
    try:
        return np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"{p}: holds Python objects; aedetect never unpickles data files"
            ) from None
        raise DataError(f"{p}: not a valid .npy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{p}: not a valid .npy file ({exc})") from None


def _read_npy(p: Path) -> pd.DataFrame:
    arr = load_npy(p)
    if arr.ndim == 1:
        raise DataError(f"{p}: 1D array of shape {arr.shape}; expected rows x columns")
    if arr.ndim > 2:
        arr = arr.reshape(len(arr), -1)
    if arr.dtype.names:
        return pd.DataFrame.from_records(arr)
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"{p}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def split_columns(
    frame: pd.DataFrame,
    source: str = "",
    label_column: str | None = None,
    id_column: str | None = None,
) -> Table:
    """Take the label and id columns out of ``frame``; the rest are features."""
    prefix = f"{source}: " if source else ""
    taken = []
    for option, name in (("label_column", label_column), ("id_column", id_column)):
        if name is not None and name not in frame.columns:
            cols = ", ".join(map(str, list(frame.columns)[:8]))
            raise DataError(f"{prefix}{option} {name!r} is not a column (columns: {cols}, ...)")
        if name is not None:
            taken.append(name)
    features = frame.drop(columns=taken)
    if features.shape[1] == 0:
        raise DataError(f"{prefix}no feature columns left after the label and id columns")
    return Table(
        features=features,
        labels=frame[label_column] if label_column else None,
        ids=frame[id_column] if id_column else None,
        source=source,
    )
