"""Fixed-length categorical sequences: one column of strings becomes one column per position.

A value such as ``"ABCD1QWO"`` (or ``"GET /a /b"`` with ``token_sep=" "``) is split
into tokens; position ``i`` becomes the column ``name[i]`` (1-based). The length is
the most common one in training. Shorter values are padded with an empty token;
longer ones are cut and their last kept position set to the empty token. Both are
logged as a warning and, because the empty token was never seen there, score as
unusual.

Two encodings of the positions:

- ``"onehot"`` (default): each position is a categorical column (one-hot with an
  "unseen" slot), the better-founded encoding for tokens;
- ``"ordinal"``: the reference system's encoding: every token of the column's
  alphabet (sorted) gets an integer code, used as a number (scale it with
  ``scaling="minmax"`` for the reference's per-position [0, 1]). A token never seen
  in training gets code -1, below every real one.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from aedetect.exceptions import DataError
from aedetect.params import ENCODER, SEQUENCE_ENCODINGS, validate

#: Most columns a sequence column may become once encoded (positions x one-hot slots),
#: as many as a CSV header may name: a small file of long sequences cannot make a
#: network millions of inputs wide.
MAX_WIDTH = 65_536

__all__ = [
    "ENCODINGS",
    "MAX_WIDTH",
    "expand_sequences",
    "fit_sequences",
    "lengths_already_said",
    "position_names",
    "tokens_of",
]

log = logging.getLogger(__name__)

ENCODINGS = SEQUENCE_ENCODINGS
PAD = ""
_ROWS: contextvars.ContextVar[bool | list[int]] = contextvars.ContextVar(
    "aedetect_sequence_rows", default=False
)


@contextmanager
def lengths_already_said(numbers: list[int] | None = None) -> Iterator[None]:
    """Leave out the wrong-length warning inside, or number its rows by ``numbers``.

    A use case that explains a few of a table's rows after scoring all of them
    would warn again, numbering the rows within the few; with ``numbers`` (the
    1-based row numbers of the few in the table), the warning is given with them.
    """
    token = _ROWS.set(True if numbers is None else list(numbers))
    try:
        yield
    finally:
        _ROWS.reset(token)


def tokens_of(series: pd.Series, sep: str | None) -> list[list[str]]:
    """Split every value into tokens: characters, or parts between ``sep``."""
    values = series.astype(object).where(series.notna(), "")
    if sep is None:
        return [list(str(v)) for v in values]
    return [str(v).split(sep) if str(v) else [] for v in values]


def position_names(name: str, length: int) -> list[str]:
    """Column names of the positions of sequence column ``name``."""
    return [f"{name}[{i}]" for i in range(1, length + 1)]


def fit_sequences(
    frame: pd.DataFrame, names: list[str], sep: str | None, encoding: str
) -> dict[str, dict[str, Any]]:
    """Learn each sequence column's length and alphabet from training data."""
    validate({"sequence_encoding": encoding, "token_sep": sep}, ENCODER)
    state: dict[str, dict[str, Any]] = {}
    for name in names:
        if name not in frame.columns:
            raise DataError(f"sequence column {name!r} is not in the data")
        tokens = tokens_of(frame[name], sep)
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
        if lengths.max(initial=0) == 0:
            raise DataError(f"sequence column {name!r} has no tokens")
        length = int(np.bincount(lengths).argmax())
        alphabet = sorted({tok for row in tokens for tok in row[:length]} - {PAD})
        _check_width(name, length, len(alphabet), encoding)
        state[name] = {"length": length, "alphabet": alphabet}
    return state


def _check_width(name: str, length: int, tokens: int, encoding: str) -> None:
    """Refuse a sequence column wider than :data:`MAX_WIDTH` columns once encoded."""
    width = length * (tokens + 1) if encoding == "onehot" else length
    if width > MAX_WIDTH:
        made = f"{width:,} one-hot columns" if encoding == "onehot" else f"{width:,} columns"
        raise DataError(
            f"sequence column {name!r}: {length:,} positions of {tokens:,} tokens make {made}; "
            f"at most {MAX_WIDTH:,} (shorter sequences"
            + (", or sequence_encoding='ordinal')" if encoding == "onehot" else ")")
        )


def expand_sequences(
    frame: pd.DataFrame,
    state: dict[str, dict[str, Any]],
    sep: str | None,
    encoding: str,
    warn: bool = True,
) -> pd.DataFrame:
    """Replace each sequence column by its position columns, in place of the original.

    ``warn=False`` leaves out the warning on values of the wrong length (for a
    second look at rows already encoded, e.g. an explanation's seen values).
    """
    if not state:
        return frame
    parts: list[pd.DataFrame] = []
    for name in frame.columns:
        if name not in state:
            parts.append(frame[[name]])
            continue
        length = state[name]["length"]
        tokens = tokens_of(frame[name], sep)
        if warn and _ROWS.get() is not True:
            _warn_lengths(name, tokens, length)
        # Too long: cut, and the last kept position marked as padding, so that a
        # wrong length always shows (a cut row would otherwise look normal).
        grid = np.array(
            [
                (row + [PAD] * length)[:length] if len(row) <= length else [*row[: length - 1], PAD]
                for row in tokens
            ],
            dtype=object,
        )
        grid = grid.reshape(len(tokens), length)
        cols = position_names(name, length)
        if encoding == "ordinal":
            codes = pd.Index(state[name]["alphabet"]).get_indexer(grid.ravel()).reshape(grid.shape)
            parts.append(pd.DataFrame(codes.astype(np.float64), columns=cols, index=frame.index))
        else:
            parts.append(pd.DataFrame(grid, columns=cols, index=frame.index))
    return pd.concat(parts, axis=1)


def _warn_lengths(name: str, tokens: list[list[str]], length: int) -> None:
    """Warn of values of the wrong length, naming the first by its row (1-based)."""
    wrong = [i for i, row in enumerate(tokens) if len(row) != length]
    if wrong:
        first = wrong[0]
        numbers = _ROWS.get()
        row = numbers[first] if isinstance(numbers, list) and first < len(numbers) else first + 1
        log.warning(
            "sequence column '%s': %d row(s) not of length %d (first: row %d, length %d); "
            "they are padded or cut and score as unusual",
            name,
            len(wrong),
            length,
            row,
            len(tokens[first]),
        )
