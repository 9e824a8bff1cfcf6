"""Any table-like input as a DataFrame, and its numbers as floats, naming bad values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from aedetect.exceptions import DataError

log = logging.getLogger(__name__)

__all__ = [
    "FLOAT32_MAX",
    "as_frame",
    "beyond_float32",
    "check_scaled",
    "first_true",
    "is_text_dtype",
    "looks_numeric",
    "numeric_matrix",
    "parse_numeric",
    "to_numbers",
    "unusable",
]

#: The largest number training (in float32) can hold.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def unusable(values: np.ndarray, allow_nan: bool = False) -> np.ndarray:
    """Mark NaN (unless ``allow_nan``), infinity and numbers float32 cannot hold."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(values) <= FLOAT32_MAX)  # NaN compares False: marked here
    return bad & ~np.isnan(values) if allow_nan else bad


def beyond_float32(value: float) -> str:
    """Say why a non-NaN ``value`` marked by :func:`unusable` cannot be used."""
    if np.isinf(value):
        return f"infinite value {value}"
    return f"{value:.6g} is beyond float32's range (+-{FLOAT32_MAX:.3g}): rescale the column"


#: The farthest a scaled number may lie from the training values: its squared
#: error, summed over 65,536 columns, still fits in float32 (no infinite score).
MAX_SCALED = 1e15


def check_scaled(frame: pd.DataFrame, columns: list[tuple[str, int]], out: np.ndarray) -> None:
    """Refuse a number so far from the training values that its error would be infinite.

    ``columns`` are (name, position in ``out``) of the scaled numeric columns.
    """
    if not len(out):
        return
    pos = np.array([start for _, start in columns])
    far = np.maximum(out.max(axis=0)[pos], -out.min(axis=0)[pos]) > MAX_SCALED
    if not far.any():
        return
    name, start = columns[int(np.argmax(far))]
    row = int(np.argmax(np.abs(out[:, start]) > MAX_SCALED))
    value = frame[name].iloc[row]
    shown = f"{value:.6g}" if isinstance(value, (int, float, np.number)) else repr(value)
    raise DataError(
        f"column '{name}' row {row + 1}: {shown} lies too far from the training values "
        f"({abs(float(out[row, start])):.3g} times the column's scale) to score in float32; "
        "check the value"
    )


def as_frame(X: Any) -> pd.DataFrame:
    """Return ``X`` as a DataFrame with string column names.

    Arrays get the names ``x0, x1, ...``. Raises :class:`DataError` for input
    that is not two-dimensional.
    """
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise DataError("sparse input is not supported: convert it with X.toarray()")
    if isinstance(X, pd.DataFrame):
        frame = X
        if isinstance(frame.columns, pd.MultiIndex):
            raise DataError(
                "columns with several levels (a MultiIndex) are not supported: "
                "join them into one name each first"
            )
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.rename(columns=str)
        _check_unique_columns(frame, X)
        _check_no_bytes(frame)
        complex_ = [c for c, t in frame.dtypes.items() if pd.api.types.is_complex_dtype(t)]
        if complex_:
            raise DataError(f"column {complex_[0]!r}: complex numbers; aedetect needs real numbers")
        return frame.reset_index(drop=True)
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged nested lists and the like
        raise DataError(f"cannot read the input as a table: {exc}") from None
    if arr.ndim == 1:
        raise DataError(
            f"expected a 2D table (rows x columns), got a 1D array of shape {arr.shape}; "
            "Reshape your data with X.reshape(-1, 1) for a single column"
        )
    if arr.ndim != 2:
        raise DataError(f"expected a 2D table (rows x columns), got shape {arr.shape}")
    if arr.dtype.kind == "c":
        raise DataError("Complex data not supported")
    if arr.dtype.kind == "S":
        raise DataError(f"the array holds raw bytes ({arr.dtype}), not numbers or text")
    # copy=False: pandas 3 would otherwise copy the whole array for a read-only view.
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])], copy=False)


_BYTES = (bytes, bytearray, memoryview)


def _check_unique_columns(frame: pd.DataFrame, given: pd.DataFrame) -> None:
    """Refuse a column name given twice (or two names that read the same as text)."""
    seen: dict[str, Any] = {}
    for name, original in zip(frame.columns, given.columns, strict=True):
        if name in seen:
            both = f"{seen[name]!r} and {original!r}" if seen[name] != original else f"{name!r}"
            raise DataError(f"column names must be unique: {both} name two columns")
        seen[name] = original


def _check_no_bytes(frame: pd.DataFrame) -> None:
    """Refuse a column of raw bytes (a Parquet binary column): not numbers, not text."""
    for j, dtype in enumerate(frame.dtypes):
        if not pd.api.types.is_object_dtype(dtype):
            continue
        values = frame.iloc[:, j].to_numpy()
        # pandas' C scan first: a column of text (the usual object column) needs no Python
        # loop; anything else is looked at (it calls a bytearray "integer").
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            row = next((i for i, v in enumerate(values) if isinstance(v, _BYTES)), None)
            if row is not None:
                raise DataError(
                    f"column {frame.columns[j]!r} row {row + 1}: raw bytes (a binary column), "
                    "not a number or text; decode or drop the column"
                )


def first_true(mask: np.ndarray) -> tuple[int, int]:
    """Row and column (0-based) of the first True in a 2D mask, row-major."""
    rows, cols = np.nonzero(mask)
    return int(rows[0]), int(cols[0])


def is_text_dtype(dtype: Any) -> bool:
    """Whether a column of this dtype holds text (not numbers or booleans)."""
    return not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


# A number written with thousands separators: 1,234 or -12,345,678.5
_THOUSANDS = r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*"


def to_numbers(series: pd.Series) -> pd.Series:
    """Parse text as numbers, NaN where a value is not one.

    Numbers written with thousands separators (``"1,234"``, ``"12,345.6"``) are
    read as numbers, at fit and at scoring time alike, not as categories.
    """
    parsed = pd.to_numeric(series, errors="coerce")
    failed = parsed.isna() & series.notna()
    if failed.any():
        text = series[failed].astype(str)
        grouped = text.str.fullmatch(_THOUSANDS)
        if grouped.any():
            parsed = parsed.astype(np.float64)
            parsed[grouped[grouped].index] = pd.to_numeric(
                text[grouped].str.replace(",", "", regex=False)
            )
    return parsed


def parse_numeric(series: pd.Series, name: str) -> np.ndarray:
    """Parse a column as float64, naming the first value that is not a number."""
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64)
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        raise DataError(
            f"column '{name}': dates or times ({series.dtype}), not numbers; drop the column "
            "or convert it to numbers first (a time series names it as its time column)"
        )
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    parsed = to_numbers(series)
    bad = parsed.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"column '{name}' row {row + 1}: {series.iloc[row]!r} is not a number")
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_matrix(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Return the named columns as one float64 matrix, NaN for missing values."""
    # Selecting every column in order would copy the frame for nothing.
    sub = frame if list(frame.columns) == names else frame[names]
    if all(pd.api.types.is_numeric_dtype(t) for t in sub.dtypes):
        # float32 input (pixels, most arrays) stays float32: no 2x upcast copy.
        single = all(t == np.float32 for t in sub.dtypes)
        return sub.to_numpy(dtype=np.float32 if single else np.float64, na_value=np.nan)
    return np.column_stack([parse_numeric(sub[name], name) for name in names])


def looks_numeric(series: pd.Series) -> bool:
    """Text column whose values mostly parse as numbers: a numeric column with typos."""
    values = series.dropna()
    if values.empty:
        return True
    return bool(to_numbers(values).notna().mean() >= 0.5)


# A text column not named as categorical, with more distinct values than this
# share of its rows (and more than _ID_MIN of them), is an identifier or free text.
_ID_SHARE, _ID_MIN = 0.9, 20
# Rows x one-hot slots above this would not fit in memory as float32 (2 GiB).
MAX_ONEHOT_CELLS = 1 << 29


def check_not_identifier(name: str, distinct: int, series: pd.Series) -> None:
    """Refuse a detected text column with a different value in (nearly) every row.

    A column whose values look like sequences of tokens (see
    :func:`sequence_length`) gets a hint: refused, the message suggests
    ``sequence_columns``; kept as a category, a warning does.
    """
    n = int(series.notna().sum())
    length = sequence_length(series, distinct) if distinct > _ID_MIN else None
    hint = (
        f"; its values look like sequences of {length} tokens: to score each position, "
        "use sequence_columns"
        if length
        else ""
    )
    if distinct > _ID_MIN and distinct > _ID_SHARE * n:
        raise DataError(
            f"column '{name}' has {distinct:,} different values in {n:,} rows: an "
            "identifier or free text, not a category: give id_column or leave it out of "
            f"the data (if it is a category, use categorical){hint}"
        )
    if length:
        log.warning("column '%s' is read as a category of %s values%s", name, f"{distinct:,}", hint)


def sequence_length(series: pd.Series, distinct: int, sample: int = 2000) -> int | None:
    """Return L when a text column looks like sequences of L tokens, else None.

    Nearly all values (95% of a sample) have one length L >= 4, and there are far
    more distinct values than tokens at any one position (more than 3 times the
    largest per-position alphabet): combinations of tokens, not a list of codes
    such as ``city_07``.
    """
    values = series.dropna().astype(str)
    values = values.iloc[: max(sample, 1)]
    if values.empty:
        return None
    lengths = values.str.len()
    length = int(lengths.mode().iloc[0])
    if length < 4 or float((lengths == length).mean()) < 0.95:
        return None
    same = values[lengths == length]
    widest = max(same.str[i].nunique() for i in range(length))
    return length if distinct > 3 * widest else None


def check_onehot_size(columns: list[Any], n_rows: int) -> None:
    """Refuse one-hot blocks that would not fit in memory, naming the widest column.

    ``columns`` are the encoder's columns (``name``, ``kind``, ``start``, ``stop``).
    """
    blocks = [(c.name, c.stop - c.start) for c in columns if c.kind == "categorical"]
    total = sum(width for _, width in blocks)
    if blocks and total * max(n_rows, 1) > MAX_ONEHOT_CELLS:
        name, width = max(blocks, key=lambda b: b[1])
        raise DataError(
            f"column '{name}' has {width - 1:,} categories: {n_rows:,} rows x {total:,} "
            "one-hot slots would not fit in memory; group its rare values or leave it out"
        )
