"""Read tables from CSV, Parquet and NumPy files, with errors that name the file and row.

:class:`Table` lives in :mod:`aedetect.data.table`; it is re-exported here.
"""

from __future__ import annotations

import codecs
import csv
import logging
import math
import re
import stat
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.table import Table
from aedetect.exceptions import DataError

__all__ = [
    "MAX_COLUMNS",
    "TABLE_SUFFIXES",
    "Table",
    "as_text",
    "check_blank_lines",
    "check_header_line",
    "check_regular",
    "csv_dialect",
    "csv_error",
    "load_npy",
    "read_table",
    "split_columns",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npy")
#: Most columns a CSV header may name, and the longest first line read to count them.
MAX_COLUMNS, MAX_HEADER_BYTES = 65_536, 16 * 2**20
#: Separators tried when a .csv file's header holds no comma.
_OTHER_SEPARATORS = (";", "\t", "|")
# A decimal comma between two separators (European spreadsheets: "1,5;2,25").
_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?:;|$)")
log = logging.getLogger(__name__)


def read_table(path: str | Path, text: Sequence[str] = ()) -> pd.DataFrame:
    """Read a whole table; raise :class:`DataError` naming the file on any problem.

    ``text``: columns a CSV file's values are kept as written in (token sequences:
    ``007`` stays three tokens, not the number 7).
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a table file")
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(
            f"{p}: unsupported file type {suffix or '(none)'!r}; use .csv, .tsv, .parquet or .npy, "
            "an image folder, an IDX file or CIFAR batches"
        )
    check_regular(p)
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty")
    if suffix == ".npy":
        frame = _read_npy(p)
    elif suffix in (".parquet", ".pq"):
        frame = _read_parquet(p)
    else:
        frame = _read_csv(p, text)
    if frame.shape[1] == 0:
        raise DataError(f"{p}: no columns")
    if len(frame) == 0:
        raise DataError(f"{p}: has a header but no data rows")
    return frame


def _one_line(exc: BaseException) -> str:
    """Give an exception's message on one line (a parser's may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def check_regular(p: Path) -> None:
    """Refuse a path that is not a regular file (a FIFO, a device such as ``/dev/zero``).

    Reading one could block or never end; sizes cannot be checked against it.
    """
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise DataError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{p}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise DataError(f"{p}: is {kind}, not a regular file")


def check_header_line(p: Path, first: bytes, sep: str) -> None:
    """Refuse a first line (``first``, read up to one byte past the limit) too long or too wide.

    Checked before pandas, or anything else, reads the header.
    """
    if len(first) > MAX_HEADER_BYTES:
        raise DataError(f"{p}: the first line is longer than {MAX_HEADER_BYTES // 2**20} MB")
    n = first.count(sep.encode()) + 1  # an upper bound (quoted separators count too)
    if n > MAX_COLUMNS:
        raise DataError(f"{p}: the header has {n} columns; at most {MAX_COLUMNS} are read")


# A line holding nothing but spaces, between two line ends: a quick, quote-blind test.
_BLANK = re.compile(rb"\n[ \t\r]*\n")


def check_blank_lines(p: Path, sep: str) -> None:
    """Refuse a blank line between rows, naming it.

    pandas skips blank lines, which would shift every later output row against
    its input line; blank lines at the end of the file are harmless and allowed.
    A quick byte scan finds candidates; the CSV reader (quotes understood) confirms.
    """
    if not _may_have_blank_line(p):
        return
    with p.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=sep)
        blank = None
        try:
            for row in reader:
                if not "".join(row).strip():
                    blank = blank or reader.line_num
                elif blank is not None:
                    raise DataError(
                        f"{p}: line {blank} is blank; every line after the header must be a "
                        "row, so that output rows match input lines: delete it"
                    )
        except csv.Error:
            return  # the table reader names the parse error


def _may_have_blank_line(p: Path) -> bool:
    """Whether a blank line may be followed by more text (quotes not understood)."""
    tail, blank = b"", False
    with p.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if blank and chunk.strip():
                return True
            block = tail + chunk
            found = [m.end() for m in _BLANK.finditer(block)]
            if found and block[found[0] :].strip():
                return True
            blank = blank or bool(found)
            tail = block[-4096:]
    return False


def csv_dialect(p: Path) -> dict[str, Any]:
    """Return how to read a text table: ``pandas.read_csv``'s ``sep`` and ``decimal``, ...

    ``.tsv``: tabs. Otherwise commas, unless the header holds no comma but one of
    ``;``, tab or ``|`` (the most frequent wins); a ``;``-separated file whose first
    row writes numbers with a decimal comma (``1,5;2,25``) is read with that mark.
    The header's size is checked first (:func:`check_header_line`).
    A header with repeated column names is said once, and the repeats named
    ``NAME.1``, ``NAME.2``, ... here (``names`` and ``header``), in one pass: pandas'
    own renaming takes quadratic time (40 s for a header of 60,000 equal names).
    """
    with p.open("rb") as fh:
        first = fh.readline(MAX_HEADER_BYTES + 1)
        row = fh.readline(1 << 20).decode("utf-8", "replace")
    head = first.decode("utf-8", "replace")
    sep = "\t" if p.suffix.lower() == ".tsv" else ","
    if sep == "," and "," not in head:
        counts = {s: head.count(s) for s in _OTHER_SEPARATORS}
        best = max(counts, key=counts.__getitem__)
        sep = best if counts[best] else ","
    check_header_line(p, first, sep)  # before its names are looked at
    decimal = "," if sep == ";" and _DECIMAL_COMMA.search(row.strip()) else "."
    options: dict[str, Any] = {"sep": sep, "decimal": decimal}
    try:
        names = next(csv.reader([head.lstrip("\ufeff").rstrip("\r\n")], delimiter=sep), [])
    except csv.Error:  # the table reader names the parse error
        return options
    names = [n.lstrip(" ") for n in names]  # as skipinitialspace reads them
    repeated = sorted(n for n, k in Counter(names).items() if k > 1)
    if repeated:
        log.warning(
            "%s: column names repeat (%s); the repeats are read as NAME.1, ...",
            p,
            ", ".join(map(repr, repeated[:5])),
        )
        options.update(names=_numbered(names), header=None, skiprows=1, index_col=False)
    return options


def _numbered(names: list[str]) -> list[str]:
    """Name the repeats of a name ``NAME.1``, ``NAME.2``, ..., skipping names already taken."""
    taken, used, next_k, out = set(names), set(), Counter[str](), []
    for name in names:
        new = name
        if name in used:
            k = next_k[name] or 1
            while f"{name}.{k}" in taken:
                k += 1
            new, next_k[name] = f"{name}.{k}", k + 1
        used.add(new)
        taken.add(new)
        out.append(new)
    return out


def check_unique_names(p: Path, names: list[str]) -> None:
    """Refuse a file (Parquet) whose column names repeat: a set, linear in the columns."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{p}: column {name!r} appears twice; column names must be unique")
        seen.add(name)


def as_text(names: Sequence[str]) -> dict[str, Any]:
    """``pandas.read_csv`` options that read the columns ``names`` as text, as written."""
    return {"dtype": dict.fromkeys(names, str)} if names else {}


def _read_csv(p: Path, text: Sequence[str] = ()) -> pd.DataFrame:
    options = csv_dialect(p)  # the header's size checked too
    sep = options["sep"]
    check_blank_lines(p, sep)
    try:
        frame = pd.read_csv(p, **options, **as_text(text), skipinitialspace=True)
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
        where = _first_bad_utf8(p)
        at = f"line {where[1]}, byte offset {where[0]}" if where else "somewhere in the file"
        return DataError(f"{p}: not a UTF-8 text file (invalid byte at {at}); save it as UTF-8")
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if m:
        want, line, saw = m.groups()
        return DataError(f"{p}: line {line} has {saw} fields, expected {want}")
    return DataError(f"{p}: cannot parse CSV: {str(exc).strip().splitlines()[-1]}")


def _first_bad_utf8(p: Path, block: int = 1 << 20) -> tuple[int, int] | None:
    """Offset and line (1-based) of the first byte of ``p`` that is not UTF-8, or None.

    Reads ``block`` bytes at a time: bounded memory for any file size.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, lines = 0, 1
    try:
        with open(p, "rb") as f:
            while True:
                data = f.read(block)
                try:
                    decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    # exc.start counts from the bytes the decoder still held back
                    held = len(exc.object) - len(data)
                    bad = offset - held + exc.start
                    return bad, lines + exc.object[: exc.start].count(b"\n")
                if not data:
                    return None
                lines += data.count(b"\n")
                offset += len(data)
    except OSError:
        return None


def _check_short_rows(p: Path, sep: str, width: int) -> None:
    # pandas pads short rows with NaN silently; find them so the message is right.
    with p.open(newline="", encoding="utf-8", errors="replace") as fh:
        try:
            for line_no, row in enumerate(
                csv.reader(fh, delimiter=sep, skipinitialspace=True), start=1
            ):
                if row and len(row) < width:
                    raise DataError(f"{p}: line {line_no} has {len(row)} fields, expected {width}")
        except csv.Error as exc:
            raise DataError(f"{p}: cannot parse CSV: {exc}") from None


def _npy_header(p: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a .npy file, read from its header alone."""
    from numpy.lib import format as npy_format

    with p.open("rb") as fh:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(fh)
        elif version == (3, 0):  # a UTF-8 header (field names); numpy reads it privately
            shape, _, dtype = npy_format._read_array_header(fh, version)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
        return tuple(shape), dtype, fh.tell()


def load_npy(p: Path) -> np.ndarray:
    """Load a .npy array without ever unpickling; raise :class:`DataError` naming the file.

    The header's shape is checked against the file's size before anything is
    allocated: a header that claims more values than the file holds is refused.
    """
    check_regular(p)
    try:
        shape, dtype, offset = _npy_header(p)
    except Exception as exc:  # numpy parses the header with ast/tokenize: many error types
        raise DataError(f"{p}: not a valid .npy file ({_one_line(exc)})") from None
    if dtype.hasobject:
        raise DataError(f"{p}: holds Python objects; aedetect never unpickles data files")
    need, held = math.prod(shape) * dtype.itemsize, p.stat().st_size - offset
    if need > held:
        raise DataError(
            f"{p}: .npy header says {'x'.join(map(str, shape)) or 'one value'} of {dtype} "
            f"({need} bytes), the file holds {held}: truncated or damaged"
        )
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
    if arr.ndim == 0:
        raise DataError(f"{p}: holds a single value (a 0-d array); expected rows x columns")
    if arr.dtype.kind == "c":
        raise DataError(f"{p}: complex numbers ({arr.dtype}); aedetect needs real numbers")
    if arr.ndim == 1 and arr.dtype.names:
        return pd.DataFrame.from_records(arr)  # a structured array: one column per field
    if arr.ndim == 1:
        raise DataError(f"{p}: 1D array of shape {arr.shape}; expected rows x columns")
    if arr.ndim > 2:
        arr = arr.reshape(len(arr), -1)
    if arr.dtype.names:
        return pd.DataFrame.from_records(arr)
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _read_parquet(p: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(p).names
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"{p}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    check_unique_names(p, names)
    try:
        return pd.read_parquet(p)
    except Exception as exc:
        raise DataError(f"{p}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def split_columns(
    frame: pd.DataFrame,
    source: str = "",
    label_column: str | None = None,
    id_column: str | None = None,
) -> Table:
    """Take the label and id columns out of ``frame``; the rest are features."""
    prefix = f"{source}: " if source else ""
    if label_column is not None and label_column == id_column:
        raise DataError(
            f"{prefix}label_column {label_column!r} is also id_column {id_column!r}; "
            "give two different columns"
        )
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
