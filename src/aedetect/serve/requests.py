"""Turn a request body (JSON records or CSV) into the table a model scores.

Every problem a client can cause becomes a :class:`~aedetect.exceptions.DataError`
whose one-line message names the row (numbered from 1), the column or the field:
``row 3 column 'age': 'abc' is not a number``. :class:`BadBodyError` marks a body that
cannot be parsed at all (400) and :class:`TooLargeError` one over the limits (413);
other data errors are 422. Values the model scores as unusual instead of refusing
(an unseen category, a sequence of the wrong length) are accepted and listed as
warnings, as ``aedetect score`` logs them.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.frames import to_numbers
from aedetect.data.sequences import tokens_of
from aedetect.exceptions import DataError
from aedetect.serve.registry import ServedModel

__all__ = ["BadBodyError", "Rows", "TooLargeError", "parse_csv", "parse_json"]

# Warnings listed per column and kind; the rest are counted.
MAX_WARNINGS = 5


class BadBodyError(DataError):
    """The body is not valid JSON or CSV, or not the shape the endpoint takes (400)."""


class TooLargeError(DataError):
    """The body or the number of rows is over the service's limits (413)."""


@dataclass
class Rows:
    """The rows of one request: features in the model's column order, ids, warnings."""

    features: pd.DataFrame
    ids: list[Any] | None = None
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ JSON
def _constant(name: str) -> float:
    # json.loads accepts NaN and Infinity (not JSON, but common): NaN is a missing value.
    return float(name)


def parse_json(body: bytes, served: ServedModel, max_rows: int) -> Rows:
    """Parse a JSON array of records (objects) or of value lists (the model's column order)."""
    try:
        data = json.loads(body, parse_constant=_constant)
    except UnicodeDecodeError as exc:
        raise BadBodyError(f"body: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadBodyError(
            f"body: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise BadBodyError("body: JSON nested too deeply") from None
    if not isinstance(data, list):
        raise BadBodyError(f"body: expected a JSON array of records (objects), got {_kind(data)}")
    _check_count(len(data), max_rows)
    columns = served.columns
    passed = [c for c in (served.id_column, served.label_column) if c and c not in columns]
    values: dict[str, list[Any]] = {c: [] for c in [*columns, *passed]}
    allowed = set(values)
    first_keys: Any = None
    for r, record in enumerate(data, start=1):
        if isinstance(record, dict):
            keys = record.keys()
            if keys != first_keys:
                _check_keys(f"row {r}", keys, columns, allowed)
                first_keys = keys
            for c, column in values.items():
                column.append(record.get(c))
        elif isinstance(record, list):
            if len(record) != len(columns):
                raise DataError(
                    f"row {r}: {len(record)} values, but the model takes {len(columns)} "
                    f"columns ({_names(columns)})"
                )
            for c, v in zip(columns, record, strict=True):
                values[c].append(v)
            for c in passed:
                values[c].append(None)
        else:
            raise DataError(f"row {r}: expected an object of column values, got {_kind(record)}")
    return _rows(served, values)


def _check_count(n: int, max_rows: int) -> None:
    if n == 0:
        raise DataError("body: no rows to score")
    if n > max_rows:
        raise TooLargeError(f"body: {n} rows, more than max_rows={max_rows} in one request")


def _check_keys(where: str, keys: Any, columns: list[str], allowed: set[str]) -> None:
    missing = [c for c in columns if c not in keys]
    if missing:
        raise DataError(f"{where}: missing column {missing[0]!r}" + _more(missing))
    extra = [k for k in keys if k not in allowed]
    if extra:
        raise DataError(
            f"{where}: unexpected column {str(extra[0])[:100]!r}{_more(extra)}; "
            f"the model's columns are {_names(columns)}"
        )


def _more(items: list[Any]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""


def _names(columns: list[str]) -> str:
    shown = ", ".join(columns[:8])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > 8 else "")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return repr(value[:50])
    return repr(value)


# ------------------------------------------------------------------- CSV
def parse_csv(body: bytes, served: ServedModel, max_rows: int) -> Rows:
    """Parse a CSV body with a header line, read as ``aedetect score`` reads a CSV file.

    The body goes through the CLI's reader (:func:`aedetect.data.readers.read_table`,
    on a private temporary file): the same separator sniffing (``;``, tab, ``|``),
    decimal comma, quoting and checks, with the same messages, ``body`` in place of
    the file's name. A number with thousands separators (``"50,000"``) is read as
    the model reads it at scoring time. ``ids`` holds the id column's values, or
    ``null`` for each row when the body has no id column (as a JSON body gets).
    """
    if not body.strip():
        raise DataError("body: no rows to score")
    frame = _read_body(body, list(served.detector.encoder_.sequences_))
    _check_count(len(frame), max_rows)
    columns = served.columns
    header = [str(c) for c in frame.columns]
    if len(set(header)) != len(header) or any(h.startswith("Unnamed: ") for h in header):
        raise BadBodyError("body: the CSV header has empty or repeated column names")
    allowed = {*columns, served.id_column, served.label_column}
    _check_keys("body", header, columns, {a for a in allowed if a})
    frame.columns = header
    values: dict[str, Any] = {c: frame[c] for c in header if c in columns}
    if served.id_column:
        values[served.id_column] = (
            frame[served.id_column] if served.id_column in header else [None] * len(frame)
        )
    return _rows(served, values)


def _read_body(body: bytes, text: list[str]) -> pd.DataFrame:
    """Read CSV bytes with :func:`~aedetect.data.readers.read_table`; errors name ``body``."""
    from aedetect.data.readers import read_table

    with tempfile.TemporaryDirectory(prefix="aedetect-serve-") as folder:
        path = Path(folder) / "body.csv"
        path.write_bytes(body)
        try:
            return read_table(path, text)
        except DataError as exc:
            raise BadBodyError(str(exc).replace(str(path), "body")) from None


# ------------------------------------------------------------ columns
def _rows(served: ServedModel, values: dict[str, Any]) -> Rows:
    enc = served.detector.encoder_
    impute = enc.missing == "impute"
    by_name = {c.name: c for c in enc.columns_}
    warnings: list[str] = []
    data: dict[str, np.ndarray] = {}
    for name in served.columns:
        seq = enc.sequences_.get(name)
        col = by_name.get(name)
        if seq is None and col is not None and col.kind == "numeric":
            data[name] = _numbers(values[name], name, impute)
        else:
            data[name] = _texts(values[name], name, impute)
            if seq is not None:
                warnings += _length_warnings(data[name], name, seq["length"], enc.token_sep)
            elif col is not None:
                warnings += _unseen_warnings(data[name], name, col.categories)
    ids = None
    if served.id_column and served.id_column in values:
        ids = [_plain_id(v) for v in values[served.id_column]]
    return Rows(pd.DataFrame(data, columns=served.columns), ids, warnings)


def _missing(r: int, name: str) -> DataError:
    return DataError(
        f"row {r} column {name!r}: missing value (null or NaN); this model was fitted "
        "with missing='error' and needs every value"
    )


def _numbers(values: Sequence[Any] | pd.Series, name: str, impute: bool) -> np.ndarray:
    """Return a column of numbers as float64, naming the first value that is not one."""
    if isinstance(values, pd.Series) and pd.api.types.is_numeric_dtype(values.dtype):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        items = list(values)
        if all(type(v) is float or type(v) is int for v in items):
            try:
                out = np.array(items, dtype=np.float64)
            except OverflowError:
                out = np.array([_number(v, r, name) for r, v in enumerate(items, 1)])
        else:
            out = np.array([_number(v, r, name) for r, v in enumerate(items, 1)])
    finite = np.isfinite(out)
    if not finite.all():
        r = int(np.argmin(finite))
        if not np.isnan(out[r]):
            raise DataError(f"row {r + 1} column {name!r}: {out[r]} is not a finite number")
        if not impute:
            raise _missing(r + 1, name)
        infinite = np.isinf(out)
        if infinite.any():
            r = int(np.argmax(infinite))
            raise DataError(f"row {r + 1} column {name!r}: {out[r]} is not a finite number")
    return out


def _number(v: Any, r: int, name: str) -> float:
    if v is None:
        return math.nan
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return float(v)
        except OverflowError:
            raise DataError(f"row {r} column {name!r}: {v} is too large") from None
    if isinstance(v, str):
        text = v.strip()
        try:
            return float(text) if text else math.nan
        except ValueError:
            # "50,000": thousands separators, read as the model reads them when scoring
            parsed = to_numbers(pd.Series([text], dtype=object)).iloc[0]
            if not math.isnan(parsed):
                return float(parsed)
    raise DataError(f"row {r} column {name!r}: {_kind(v)} is not a number")


def _texts(values: Sequence[Any] | pd.Series, name: str, impute: bool) -> np.ndarray:
    """Return a column of categories or sequences as strings (None where missing)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if isinstance(v, str):
            out[i] = v
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            if not impute:
                raise _missing(i + 1, name)
            out[i] = None
        elif isinstance(v, (bool, int, float, np.integer, np.floating, np.bool_)):
            out[i] = str(v)
        else:
            raise DataError(f"row {i + 1} column {name!r}: {_kind(v)} is not a category")
    return out


def _unseen_warnings(values: np.ndarray, name: str, categories: list[str]) -> list[str]:
    known = set(categories)
    unseen = [i for i, v in enumerate(values) if v is not None and v not in known]
    return [
        f"row {i + 1} column {name!r}: category {str(values[i])[:50]!r} was not seen in "
        "training; scored as unusual"
        for i in unseen[:MAX_WARNINGS]
    ] + _count_more(unseen, name, "unseen categories")


def _length_warnings(values: np.ndarray, name: str, length: int, sep: str | None) -> list[str]:
    tokens = tokens_of(pd.Series(values, dtype=object), sep)
    wrong = [i for i, t in enumerate(tokens) if len(t) != length]
    return [
        f"row {i + 1} column {name!r}: {len(tokens[i])} tokens, the model expects {length}; "
        "padded or cut and scored as unusual"
        for i in wrong[:MAX_WARNINGS]
    ] + _count_more(wrong, name, "sequences of the wrong length")


def _count_more(rows: list[int], name: str, what: str) -> list[str]:
    extra = len(rows) - MAX_WARNINGS
    return [f"column {name!r}: {extra} more rows with {what}"] if extra > 0 else []


def _plain_id(v: Any) -> Any:
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return json.dumps(v)[:200]
