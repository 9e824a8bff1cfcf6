"""Read CSV and Parquet tables a chunk of rows at a time, in bounded memory.

:func:`read_chunks` yields the rows of a ``.csv`` / ``.tsv`` / ``.parquet``
file, or of a folder of Parquet files (taken in sorted path order), as
DataFrames of at most ``chunk_rows`` rows each; concatenated, they equal what
:func:`aedetect.data.readers.read_table` returns for the same file (the same
columns, values and types, as long as a CSV column's type does not change from
one chunk to the next). Errors name the file and, for CSV, the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.readers import (
    _check_short_rows,
    as_text,
    check_blank_lines,
    check_regular,
    check_unique_names,
    csv_dialect,
    csv_error,
)
from aedetect.exceptions import ConfigError, DataError

__all__ = [
    "check_same_columns",
    "CHUNKED_SUFFIXES",
    "can_chunk",
    "parquet_files",
    "read_chunks",
    "read_whole",
    "table_rows",
]

CHUNKED_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_PARQUET = (".parquet", ".pq")


def parquet_files(path: str | Path) -> list[Path]:
    """Return the Parquet files of ``path``: itself, or a folder's (subfolders too).

    A folder's files come in natural order (``part.2`` before ``part.10``, as Dask
    reads and writes them); names starting with ``.`` or ``_`` (hidden files,
    Spark's ``_temporary/``) are left out, at any depth.
    """
    p = Path(path)
    if p.is_dir():
        found = (
            f
            for f in p.rglob("*")
            if f.suffix.lower() in _PARQUET
            and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)
            and f.is_file()
        )
        return sorted(found, key=lambda f: _natural(f.relative_to(p).parts))
    return [p] if p.suffix.lower() in _PARQUET else []


def _natural(parts: tuple[str, ...]) -> list[tuple[int, Any]]:
    """Sort key: digit runs compared as numbers, the rest as text."""
    return [
        (0, int(tok)) if tok.isdigit() else (1, tok)
        for part in parts
        for tok in re.split(r"(\d+)", part)
        if tok
    ]


def can_chunk(path: str | Path) -> bool:
    """Tell whether ``path`` is a CSV / TSV / Parquet file or a folder holding Parquet files."""
    p = Path(path)
    if p.is_dir():
        return bool(parquet_files(p))
    return p.is_file() and p.suffix.lower() in CHUNKED_SUFFIXES


def table_rows(path: str | Path) -> int | None:
    """Return the number of rows from Parquet metadata (no data read); None for CSV."""
    files = parquet_files(path)
    if not files:
        return None
    import pyarrow.parquet as pq

    try:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except Exception:  # pyarrow raises several unrelated types; read_chunks names the file
        return None


def read_chunks(
    path: str | Path, chunk_rows: int, text: Sequence[str] = ()
) -> Iterator[pd.DataFrame]:
    """Yield the table at ``path`` as DataFrames of at most ``chunk_rows`` rows.

    ``text``: columns of a CSV file read as text, as written (see
    :func:`~aedetect.data.readers.read_table`).

    Raises
    ------
    ConfigError
        ``chunk_rows`` is not a positive integer.
    DataError
        The file is missing, empty, of another type, or cannot be parsed; the
        message names the file (and for CSV the line).
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)):
        raise ConfigError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive integer, got {chunk_rows}")
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if not can_chunk(p):
        kind = "a folder without Parquet files" if p.is_dir() else f"a {p.suffix!r} file"
        raise DataError(f"{p}: is {kind}; chunks are read from CSV, TSV and Parquet")
    if parquet_files(p):
        parts = _parquet_chunks(p, int(chunk_rows))
    else:
        parts = _csv_chunks(p, chunk_rows, text)
    seen = False
    for frame in parts:
        if frame.shape[1] == 0:
            raise DataError(f"{p}: no columns")
        if len(frame):
            seen = True
            yield frame
    if not seen:
        raise DataError(f"{p}: has a header but no data rows")


def read_whole(path: str | Path) -> pd.DataFrame:
    """Read the whole table (a folder of Parquet files too), as :func:`read_chunks` reads it."""
    return pd.concat(read_chunks(path, 1 << 20), ignore_index=True)


def _parquet_chunks(p: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    first: tuple[Path, set[str]] | None = None
    for f in parquet_files(p):
        try:
            pf = pq.ParquetFile(f)
            schema = pf.schema_arrow
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(f"{f}: not a readable Parquet file ({_first_line(exc)})") from None
        check_unique_names(f, schema.names)
        first = first or (f, set(schema.names))
        check_same_columns(f, set(schema.names), *first)
        try:
            for batch in pf.iter_batches(batch_size=chunk_rows):
                frame = pa.Table.from_batches([batch], schema=schema).to_pandas()
                yield frame.reset_index(drop=True)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(f"{f}: not a readable Parquet file ({_first_line(exc)})") from None


def check_same_columns(f: Path, names: set[str], first: Path, expected: set[str]) -> None:
    """Refuse a file of a folder whose columns are not the folder's first file's."""
    if names != expected:
        missing, extra = sorted(expected - names), sorted(names - expected)
        said = [f"missing {', '.join(map(repr, missing))}"] if missing else []
        said += [f"unexpected {', '.join(map(repr, extra))}"] if extra else []
        raise DataError(f"{f}: columns differ from {first.name}'s: {'; '.join(said)}")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _csv_chunks(p: Path, chunk_rows: int, text: Sequence[str]) -> Iterator[pd.DataFrame]:
    check_regular(p)  # the whole-file reader's limits: no FIFO, a bounded header
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty")
    options = csv_dialect(p)  # the header's size checked too
    sep = options["sep"]
    check_blank_lines(p, sep)  # output rows must match input lines
    checked = False
    try:
        with pd.read_csv(
            p, **options, **as_text(text), skipinitialspace=True, chunksize=chunk_rows
        ) as reader:
            for frame in reader:
                if not checked and frame.isna().to_numpy().any():
                    # pandas pads short rows with NaN; one pass over the file finds them
                    _check_short_rows(p, sep, frame.shape[1])
                    checked = True
                yield frame.reset_index(drop=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise csv_error(p, exc) from None
