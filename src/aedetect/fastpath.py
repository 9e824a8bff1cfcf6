"""Plain numbers encoded and scored one cache-sized chunk at a time.

When every column of a model is a number (no categories, sequences or
imputation) and the rows come as a float or integer array, or as a DataFrame
of number columns with the model's names in its order, encoding is one affine
map per column, ``(x - offset) / scale`` in float32: the operations of
:meth:`~aedetect.data.encoding.TabularEncoder.transform`, done here with torch on
a chunk of rows at a time. For the reconstruction score a chunk is scaled,
checked, clamped, passed through the network and its weighted error summed while
it is still in the cache: no pandas work per column and no table-sized encoded
copy. Scores are those of the general path, bit for bit.

The checks cost one reduction per chunk (the scaled chunk's minimum and
maximum; for float64 rows also the raw ones). A NaN, an infinity, a number
float32 cannot hold or one too far from the training values
(:data:`~aedetect.data.frames.MAX_SCALED`) makes these functions return ``None``:
the caller then takes the general path, which refuses the value naming its
column and row, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from aedetect.data.encoding import TabularEncoder
from aedetect.data.frames import FLOAT32_MAX, MAX_SCALED
from aedetect.scoring import Scorer

__all__ = ["SCORE_CHUNK", "NumericRows", "numeric_rows", "reconstruction_scores"]

#: Rows per chunk for the fused scoring: encoded chunk, clamped copy and the
#: network's activations of 2,048 rows stay in a core's L2 cache for tables of
#: tens of columns.
SCORE_CHUNK = 2048


@dataclass(frozen=True)
class NumericRows:
    """Rows of numbers with the per-column affine map that encodes them.

    Attributes
    ----------
    values : ndarray of shape (n_samples, n_columns)
        The rows as given: float32, or float64 / integers (scaled in float64, as
        the encoder does).
    offset : torch.Tensor of shape (n_columns,)
        Subtracted first, in the rows' float type (float32 or float64).
    scale : torch.Tensor of shape (n_columns,)
        The float32 divisor.
    """

    values: np.ndarray
    offset: torch.Tensor
    scale: torch.Tensor

    def __len__(self) -> int:
        return len(self.values)

    def _raw(self, rows: slice) -> torch.Tensor:
        raw = self.values[rows]
        if not raw.flags.writeable:  # torch warns on a read-only array: copy the chunk
            raw = np.array(raw)
        xb = torch.from_numpy(raw)
        return xb if xb.dtype == self.offset.dtype else xb.to(self.offset.dtype)

    def scale_into(self, rows: slice, out: torch.Tensor) -> bool:
        """Write the encoded ``rows`` into the float32 ``out``; False if one must be refused.

        ``out`` then holds what ``TabularEncoder.transform`` gives for these rows.
        """
        xb = self._raw(rows)
        if xb.dtype == torch.float64 and not _within(xb, FLOAT32_MAX):
            return False
        torch.sub(xb, self.offset, out=out)  # float64 rows: subtracted in float64, then rounded
        out.div_(self.scale)
        return _within(out, MAX_SCALED)

    def encode(self) -> torch.Tensor | None:
        """Every row encoded, float32 (n_samples, n_columns); None if a value must be refused."""
        out = torch.empty(self.values.shape, dtype=torch.float32)
        for start in range(0, len(self), SCORE_CHUNK):
            rows = slice(start, start + SCORE_CHUNK)
            if not self.scale_into(rows, out[rows]):
                return None
        return out


def _within(x: torch.Tensor, limit: float) -> bool:
    """Whether every value of ``x`` lies in [-limit, limit] (False for a NaN)."""
    low, high = torch.aminmax(x)
    return bool(float(low) >= -limit and float(high) <= limit)


def numeric_rows(encoder: TabularEncoder, X: Any) -> NumericRows | None:
    """``X`` as :class:`NumericRows` for ``encoder``, or None where the general path is needed.

    None unless every encoded column is a plain number (``missing="error"``, no
    sequences or categories) and ``X`` is a non-empty 2D float or integer array
    fitted as an array (columns ``x0, x1, ...``), or a DataFrame of float and
    integer columns with the fitted names in the fitted order.
    """
    columns = encoder.columns_
    if (
        encoder.missing != "error"
        or encoder.sequences_
        or any(c.kind != "numeric" for c in columns)
    ):
        return None
    names = encoder.feature_names_in_
    if isinstance(X, pd.DataFrame):
        if [str(c) for c in X.columns] != names or not all(
            isinstance(t, np.dtype) and t.kind in "fiu" for t in X.dtypes
        ):
            return None
        single = all(t == np.float32 for t in X.dtypes)  # as numeric_matrix reads them
        values = X.to_numpy(dtype=np.float32 if single else np.float64)
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiu":
        if names != [f"x{i}" for i in range(X.shape[1])]:
            return None
        values = X
    else:
        return None
    if len(values) == 0 or values.shape[1] != len(columns) or min(values.strides) < 0:
        return None
    dtype = torch.float32 if values.dtype == np.float32 else torch.float64
    return NumericRows(
        values,
        torch.tensor([c.offset for c in columns], dtype=dtype),
        torch.tensor([c.scale for c in columns], dtype=torch.float32),
    )


@torch.inference_mode()
def reconstruction_scores(
    scorer: Scorer, module: nn.Module, rows: NumericRows, chunk: int = SCORE_CHUNK
) -> np.ndarray | None:
    """Return the ``reconstruction`` score of every row (float64), or None to refuse a value.

    The arithmetic of :meth:`Scorer.scores`: the network sees the encoded chunk
    clamped to the scorer's bounds, the error is measured against the unclamped
    one, weighted, and divided by the number of columns for ``reduction="mean"``.
    Two chunk-sized buffers are reused for every chunk.
    """
    module.eval()
    n = len(rows)
    out = np.empty(n, dtype=np.float64)
    shape = (min(chunk, n), rows.values.shape[1])
    encoded = torch.empty(shape, dtype=torch.float32)
    bounds = scorer.bounds
    clamped = None if bounds is None else torch.empty(shape, dtype=torch.float32)
    mean = scorer.config.reduction == "mean"
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        xb = encoded[: stop - start]
        if not rows.scale_into(slice(start, stop), xb):
            return None
        seen = xb if clamped is None else torch.clamp(xb, *bounds, out=clamped[: stop - start])
        err = module(seen).sub_(xb).square_() @ scorer.weights
        out[start:stop] = (err.div_(scorer.n_columns) if mean else err).numpy()
    return out
