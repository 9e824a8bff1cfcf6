"""Numbers formatted for people: thousands separators, the same decimals down a column.

No ``9.027e+04``: numbers from 0.0001 to a billion are written out; integers
(and the values of a column whose data are all whole numbers, such as pixels)
stay integers; a column gets one number of decimals, from its largest value,
so that ``18,970`` and ``1,428`` line up instead of ``1.897e+04`` beside ``1428``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.encoding import RARE

__all__ = ["Format", "column_format", "formats", "number", "percent", "reason_text"]

SIGNIFICANT = 4


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _decimals(largest: float) -> int:
    """Decimals that give ``largest`` SIGNIFICANT digits (none from 1,000 up)."""
    if not largest > 0 or not math.isfinite(largest):
        return 0
    return int(min(6, max(0, SIGNIFICANT - 1 - math.floor(math.log10(largest)))))


class Format:
    """How one column's numbers are written: whole numbers, or a fixed number of decimals."""

    def __init__(self, integer: bool = False, decimals: int | None = None) -> None:
        self.integer = integer
        self.decimals = decimals

    def __call__(self, v: Any) -> str:
        """Write ``v`` (anything that is not a number is written as it is)."""
        if not _is_number(v):
            return "" if v is None else str(v)
        x = float(v)
        if not math.isfinite(x):
            return "missing" if math.isnan(x) else ("∞" if x > 0 else "-∞")
        whole = self.decimals is None and x == round(x) and abs(x) < 1e15
        if self.integer or whole or isinstance(v, (int, np.integer)):
            return f"{round(x):,}"
        d = self.decimals if self.decimals is not None else _decimals(abs(x))
        if x != 0 and abs(x) < 10.0 ** -max(d, 4):  # too small for the column's decimals
            return f"{x:.2g}"
        text = f"{x:,.{d}f}"
        if self.decimals is None and "." in text:  # on its own: no trailing zeros
            text = text.rstrip("0").rstrip(".")
        return text


def column_format(values: Iterable[Any], smallest: bool = False) -> Format:
    """Return a column's format: integers if every value is whole, else decimals for its max."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        numbers = values.astype(np.float64, copy=False).ravel()
    else:
        numbers = np.array([float(v) for v in values if _is_number(v)], dtype=np.float64)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return Format()
    if np.all(numbers == np.round(numbers)):
        return Format(integer=True)
    if smallest:  # scores: three significant digits on the smallest one
        nonzero = np.abs(numbers[numbers != 0])
        low = float(np.min(nonzero)) if nonzero.size else 1.0
        return Format(decimals=max(0, _decimals(low) - 1))
    return Format(decimals=_decimals(float(np.max(np.abs(numbers)))))


def number(v: Any) -> str:
    """Write one number on its own: SIGNIFICANT digits, separators, integers whole."""
    return Format()(v)


def percent(share: float) -> str:
    """Write a share as a whole percentage; below 1% as ``<1%``."""
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def formats(features: pd.DataFrame) -> dict[str, Format]:
    """Return one number format per numeric column of ``features`` (integers stay integers).

    Judged on the first 20,000 rows.
    """
    numeric = [
        c
        for c in features.columns
        if pd.api.types.is_numeric_dtype(features[c])
        and not pd.api.types.is_bool_dtype(features[c])
    ]
    if not numeric:
        return {}
    values = features[numeric].iloc[:20_000].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    whole = np.all((values == np.round(values)) | ~finite, axis=0)
    largest = np.max(np.where(finite, np.abs(values), 0.0), axis=0)
    return {
        str(c): Format(integer=True) if whole[j] else Format(decimals=_decimals(float(largest[j])))
        for j, c in enumerate(numeric)
    }


def reason_text(line: Any, fmt: dict[str, Format], by: str = "cause", quote: bool = True) -> str:
    """One reason, ``column: seen → expected (share)``, values written for people.

    ``line`` is a row of :meth:`AutoencoderDetector.explain`'s frame; a category
    or token gets its probability and says when it was never (or almost never)
    seen there; with ``quote``, text values are quoted (``'X'``).
    """
    write = fmt.get(str(line.column), number)
    expected = _value(line.expected, write, quote)
    probability = getattr(line, "probability", np.nan)  # series explanations have none
    if pd.notna(probability):
        expected += f", p {probability:.2f}"
    seen = _value(line.seen, write, quote)
    frequency = getattr(line, "frequency", np.nan)
    if getattr(line, "unseen", False):
        seen += ", never seen there"
    elif pd.notna(frequency) and frequency < RARE:
        seen += f", rare there: 1 in {round(1 / frequency):,} training rows"
    share = line.share if by == "cause" else getattr(line, "error_share", line.share)
    return f"{line.column}: {seen} → {expected} ({percent(share)})"


def _value(v: Any, write: Format | Any, quote: bool) -> str:
    if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool):
        return write(v)
    return repr(str(v)) if quote else str(v)
