"""Plain numbers encoded and scored one cache-sized chunk at a time.

When every column of a model is a number (no categories, sequences or
imputation) and the rows come as a float or integer array, or as a DataFrame
of number columns with the model's names in its order, encoding is one affine
map per column, ``(x - offset) / scale`` in float32: the operations of
:meth:`~aedetect.data.encoding.TabularEncoder.transform`, done here with torch on
a chunk of rows at a time. For the reconstruction score a chunk is scaled,
checked, clamped, passed through the network and its weighted error summed while
it is still in the cache: no pandas work per column and no table-sized encoded
copy. Scores are those of the general path: bit for bit where both cut the rows
into the same chunks, else within float32 rounding (a matrix product of another
shape may round differently). Scoring flushes subnormal floats (see
:func:`~aedetect.runtime.compute`), here already while encoding: an
``x - offset`` below 1.2e-38 in magnitude counts as 0, as the general path's
network and error count such an encoded value.

The checks cost one BLAS dot product per chunk (the encoded chunk's sum of
squares; for float64 rows also the raw one's). A NaN, an infinity, a number
float32 cannot hold or one too far from the training values
(:data:`~aedetect.data.frames.MAX_SCALED`) makes these functions return ``None``,
and so may a chunk of valid numbers near those limits: the caller then takes the
general path, which refuses the value naming its column and row, as before, or
scores the rows.

The per-column operations (subtract the offset, divide by the scale, clamp)
see a chunk :data:`TILE` rows at a time, as rows of ``TILE`` times the width
with the column vectors repeated: the same numbers, in torch's long vectorised
inner loops instead of one short loop per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from aedetect.data.encoding import TabularEncoder
from aedetect.data.frames import FLOAT32_MAX, MAX_SCALED
from aedetect.models.dense import DenseAutoencoder
from aedetect.models.ensemble import mean_of, members_of
from aedetect.runtime import denormals_flushed
from aedetect.scoring import Scorer

__all__ = [
    "CHUNK_VALUES",
    "TILE",
    "ChunkForward",
    "NumericRows",
    "chunk_rows",
    "numeric_rows",
    "reconstruction_scores",
]

#: Values per chunk and thread (1 MiB of float32): a chunk's encoded rows, their
#: clamped copy and most of the network's activations stay in a core's L2 cache.
CHUNK_VALUES = 1 << 18
#: Rows a per-column operation sees as one (see the module's docstring).
TILE = 16
# At most 16 threads' worth per chunk: a sum of at most 2**22 squares is computed
# within 1/4 of its value, which :class:`_Checks` relies on.
_MAX_THREADS = 16
# Row types read as they are (torch has them; anything else takes the general path).
_DTYPES = tuple(
    np.dtype(t)
    for t in (np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8)
)


def chunk_rows(width: int) -> int:
    """Rows per chunk for rows of ``width`` encoded values: :data:`CHUNK_VALUES` per thread.

    A multiple of :data:`TILE`.
    """
    per_thread = max(TILE, CHUNK_VALUES // max(1, width) // TILE * TILE)
    return per_thread * min(torch.get_num_threads(), _MAX_THREADS)


class _Columns:
    """Per-column vectors (offsets, scales, bounds), and each repeated :data:`TILE` times."""

    def __init__(self, *vectors: torch.Tensor) -> None:
        self.vectors = vectors
        self.tiled = tuple(v.repeat(TILE) for v in vectors)

    def apply(self, op: Callable[..., torch.Tensor], x: torch.Tensor, out: torch.Tensor) -> None:
        """``op(x, *vectors, out=out)``, on whole tiles of rows where both are contiguous."""
        head = len(x) - len(x) % TILE
        if head and x.is_contiguous() and out.is_contiguous():
            tiles = head // TILE
            op(x[:head].view(tiles, -1), *self.tiled, out=out[:head].view(tiles, -1))
            x, out = x[head:], out[head:]
        if len(x):
            op(x, *self.vectors, out=out)


class _Checks:
    """Sum of squares of every chunk, encoded and (float64 rows) raw: a refusal to come.

    One value beyond a limit makes its chunk's sum of squares exceed the limit
    squared; computed in floats (at most 2**22 non-negative terms), it still
    exceeds half of it. NaN and infinity carry through.
    """

    def __init__(self, n_rows: int, chunk: int) -> None:
        n_chunks = -(-n_rows // chunk)
        self.scaled = torch.zeros(n_chunks, dtype=torch.float32)
        self.raw = torch.zeros(n_chunks, dtype=torch.float64)

    def note(self, k: int, encoded: torch.Tensor, raw: torch.Tensor | None = None) -> None:
        """Note chunk ``k``'s encoded (and float64 raw) values."""
        for values, sums in ((encoded, self.scaled), (raw, self.raw)):
            if values is not None:
                flat = values.reshape(-1)
                torch.dot(flat, flat, out=sums[k])

    def refused(self) -> bool:
        """Whether a value may have to be refused (then the general path decides).

        Sure for a NaN, a raw value float32 cannot hold, and an encoded one farther
        than :data:`~aedetect.data.frames.MAX_SCALED` from 0 (an infinity among
        them): the values ``TabularEncoder.transform`` refuses.
        """
        scaled, raw = float(self.scaled.max()), float(self.raw.max())
        return not (scaled <= MAX_SCALED**2 / 2 and raw <= FLOAT32_MAX**2 / 2)  # NaN: False


class NumericRows:
    """Rows of numbers with the per-column affine map that encodes them.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_columns)
        The rows as given: float32, or float64 / float16 / integers (scaled in
        float64, as the encoder does).
    offset : torch.Tensor of shape (n_columns,)
        Subtracted first, in the rows' float type (float32 or float64).
    scale : torch.Tensor of shape (n_columns,)
        The float32 divisor.
    """

    def __init__(self, values: np.ndarray, offset: torch.Tensor, scale: torch.Tensor) -> None:
        self.values = values
        self.dtype = offset.dtype
        self.offset, self.scale = _Columns(offset), _Columns(scale)

    def __len__(self) -> int:
        return len(self.values)

    def chunks(
        self, chunk: int, numbers: range | None = None
    ) -> Iterator[tuple[int, slice, torch.Tensor]]:
        """Yield (index, rows, raw rows as a tensor in the offset's dtype), ``chunk`` rows each.

        ``numbers``: which chunks (by index); by default all.
        """
        # One tensor over the whole array (slicing it is cheaper than a from_numpy per
        # chunk); torch warns on a read-only array, so such rows are copied per chunk.
        whole = torch.from_numpy(self.values) if self.values.flags.writeable else None
        for k in numbers if numbers is not None else range(-(-len(self) // chunk)):
            start = k * chunk
            rows = slice(start, min(start + chunk, len(self)))
            xb = whole[rows] if whole is not None else torch.from_numpy(np.array(self.values[rows]))
            yield k, rows, xb if xb.dtype == self.dtype else xb.to(self.dtype)

    def scale_into(self, xb: torch.Tensor, out: torch.Tensor, checks: _Checks, k: int) -> None:
        """Encode the raw rows ``xb`` of chunk ``k`` into the float32 ``out``; note them.

        ``out`` then holds what ``TabularEncoder.transform`` gives for these rows.
        """
        # float64 rows: subtracted in float64, then rounded to float32 (as numpy does).
        self.offset.apply(torch.sub, xb, out)
        self.scale.apply(torch.div, out, out)
        checks.note(k, out, xb if xb.dtype == torch.float64 else None)

    def encode(self) -> torch.Tensor | None:
        """Every row encoded, float32 (n_samples, n_columns); None if a value must be refused."""
        out = torch.empty(self.values.shape, dtype=torch.float32)
        chunk = chunk_rows(self.values.shape[1])
        checks = _Checks(len(self), chunk)
        for k, rows, xb in self.chunks(chunk):
            self.scale_into(xb, out[rows], checks, k)
        return None if checks.refused() else out


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
        if [str(c) for c in X.columns] != names or not all(t in _DTYPES for t in X.dtypes):
            return None
        single = all(t == np.float32 for t in X.dtypes)  # as numeric_matrix reads them
        values = X.to_numpy(dtype=np.float32 if single else np.float64)
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype in _DTYPES:
        if names != [f"x{i}" for i in range(X.shape[1])]:
            return None
        values = np.asarray(X)  # a subclass (memmap, matrix) as a plain array, no copy
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


# Activations applied in place on the fresh output of a Linear: the same kernels.
_IN_PLACE: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.ReLU: torch.relu_,
    nn.Tanh: torch.tanh_,
    nn.Sigmoid: torch.sigmoid_,
}


class ChunkForward:
    """``module(x)`` of chunks; a dense autoencoder's in reused buffers, activations in place.

    The dense stack's Linear layers write into one buffer each (``torch.addmm``, the
    call ``nn.Linear`` makes) and ReLU, tanh and sigmoid act in place: the numbers
    of ``module(x)``, without a fresh tensor per layer and chunk.
    """

    def __init__(self, module: nn.Module, chunk: int) -> None:
        self.module, self.chunk = module, chunk
        self.layers = (
            [*module.encoder, *module.decoder] if type(module) is DenseAutoencoder else None
        )
        self.buffers: dict[int, torch.Tensor] = {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``module(x)`` of at most ``chunk`` rows; valid until the next call."""
        if self.layers is None or self.module.training:  # dropout on: the module's own
            return self.module(x)
        h = x
        for i, layer in enumerate(self.layers):
            if isinstance(layer, nn.Linear):
                if i not in self.buffers:
                    self.buffers[i] = torch.empty(self.chunk, layer.out_features, dtype=h.dtype)
                out = self.buffers[i][: len(h)]
                weight = layer.weight.t()
                if layer.bias is None:
                    h = torch.mm(h, weight, out=out)
                else:
                    h = torch.addmm(layer.bias, h, weight, out=out)
            elif type(layer) in _IN_PLACE:
                h = _IN_PLACE[type(layer)](h)
            elif not isinstance(layer, (nn.Identity, nn.Dropout)):  # dropout: evaluating
                h = layer(h)
        return h


def reconstruction_scores(
    scorer: Scorer, module: nn.Module, rows: NumericRows, chunk: int | None = None
) -> np.ndarray | None:
    """Return the ``reconstruction`` score of every row (float64), or None to refuse a value.

    The arithmetic of :meth:`Scorer.scores`: the network sees the encoded chunk
    clamped to the scorer's bounds, the error is measured against the unclamped
    one, weighted, and divided by the number of columns for ``reduction="mean"``.
    Values are checked once, at the end (a refused value costs a wasted pass, not
    a wrong score). With several torch threads and several chunks, each thread
    scores every n-th chunk on its own (one torch thread each, its own buffers):
    no wait for the other threads after every operation of a chunk.
    """
    module.eval()
    n, width = rows.values.shape
    threads = torch.get_num_threads()
    chunk = chunk or chunk_rows(width) // min(threads, _MAX_THREADS)
    n_chunks = -(-n // chunk)
    errors = torch.empty(n, dtype=torch.float32)
    checks = _Checks(n, chunk)
    limits = scorer.bounds
    if limits is not None and bool(limits[0].isneginf().all() and limits[1].isposinf().all()):
        limits = None  # clip=None: no clamping pass (clamping to +-inf changes nothing)
    bounds = None if limits is None else _Columns(*limits)
    workers = min(threads, n_chunks)
    score = _ChunkScorer(scorer, module, rows, chunk, bounds, errors, checks)
    if workers == 1:
        score(range(n_chunks))
    else:
        flush = denormals_flushed()  # thread-local: each worker sets the caller's
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(workers) as pool:
                parts = [range(w, n_chunks, workers) for w in range(workers)]
                for done in [pool.submit(score, part, flush) for part in parts]:
                    done.result()
        finally:
            torch.set_num_threads(threads)
    if checks.refused():
        return None
    if scorer.config.reduction == "mean":
        errors.div_(scorer.n_columns)
    return errors.double().numpy()


class _ChunkScorer:
    """Scores chunks of ``rows`` into ``errors``, noting values in ``checks``."""

    def __init__(
        self,
        scorer: Scorer,
        module: nn.Module,
        rows: NumericRows,
        chunk: int,
        bounds: _Columns | None,
        errors: torch.Tensor,
        checks: _Checks,
    ) -> None:
        self.scorer, self.module, self.rows, self.chunk = scorer, module, rows, chunk
        self.bounds, self.errors, self.checks = bounds, errors, checks

    def __call__(self, chunks: range, flush: bool | None = None) -> None:
        """Score the chunks numbered in ``chunks`` (with buffers of this call's own)."""
        if flush is not None:
            torch.set_flush_denormal(flush)
        shape = (min(self.chunk, len(self.rows)), self.rows.values.shape[1])
        forwards = [ChunkForward(m, shape[0]) for m in members_of(self.module)]
        encoded = torch.empty(shape, dtype=torch.float32)
        clamped = torch.empty(shape, dtype=torch.float32) if self.bounds is not None else None
        with torch.inference_mode():
            for k, part, xb in self.rows.chunks(self.chunk, chunks):
                m = part.stop - part.start
                self.rows.scale_into(xb, encoded[:m], self.checks, k)
                seen = encoded[:m]
                if self.bounds is not None and clamped is not None:
                    self.bounds.apply(torch.clamp, seen, clamped[:m])
                    seen = clamped[:m]
                out, weights = self.errors[part], self.scorer.weights
                if len(forwards) == 1:
                    torch.mv(forwards[0](seen).sub_(encoded[:m]).square_(), weights, out=out)
                else:  # an ensemble: the mean of the members' errors, as Scorer's
                    each = [
                        torch.mv(f(seen).sub_(encoded[:m]).square_(), weights) for f in forwards
                    ]
                    out.copy_(mean_of(each))
