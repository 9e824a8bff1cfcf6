"""Column statistics and value checks of a big numeric matrix, a block of rows at a time.

The encoder's statistics over a million-row table would otherwise make
table-sized temporaries (``np.abs`` for the range check, ``x - mean`` for the
standard deviation). These functions walk blocks of :data:`BLOCK` rows and give
numpy's results bit for bit: a C-ordered matrix is reduced over its rows one
row after another, in numpy as here.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from aedetect.data.frames import unusable

__all__ = ["BLOCK", "any_unusable", "column_stats", "row_blocks"]

#: Rows per block: 65,536 rows of 50 float32 columns is 12.5 MiB.
BLOCK = 65536


def row_blocks(n_rows: int, block: int = BLOCK) -> Iterator[slice]:
    """Yield slices of consecutive rows covering ``range(n_rows)``, ``block`` rows each."""
    for start in range(0, n_rows, block):
        yield slice(start, min(start + block, n_rows))


def any_unusable(values: np.ndarray, allow_nan: bool = False) -> bool:
    """Tell whether any value is NaN (unless ``allow_nan``), infinite or beyond float32."""
    return any(bool(unusable(values[rows], allow_nan).any()) for rows in row_blocks(len(values)))


def _sum_rows(values: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Sum over rows (of squared deviations from ``mean`` when given), in row order."""
    total: np.ndarray | None = None
    for rows in row_blocks(len(values)):
        block = values[rows]
        if mean is not None:
            block = block - mean
            np.multiply(block, block, out=block)
        # The running total as the first row keeps numpy's order of additions.
        total = np.add.reduce(block if total is None else np.vstack([total, block]), axis=0)
    assert total is not None
    return total


def column_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Minimum, maximum, mean and (population) standard deviation of every column.

    Equal to ``values.min(0)``, ``.max(0)``, ``.mean(0)``, ``.std(0)`` bit for bit;
    a C-ordered matrix larger than one block is read in blocks, with no
    temporary larger than a block. Needs at least one row.
    """
    if not values.flags.c_contiguous or len(values) <= BLOCK:
        return values.min(axis=0), values.max(axis=0), values.mean(axis=0), values.std(axis=0)
    lo = np.min([values[rows].min(axis=0) for rows in row_blocks(len(values))], axis=0)
    hi = np.max([values[rows].max(axis=0) for rows in row_blocks(len(values))], axis=0)
    count = np.intp(len(values))  # numpy divides by the count as an intp, in place
    mean = np.true_divide(_sum_rows(values), count, casting="unsafe", dtype=values.dtype)
    var = np.true_divide(_sum_rows(values, mean), count, casting="unsafe", dtype=values.dtype)
    return lo, hi, mean, np.sqrt(var)
