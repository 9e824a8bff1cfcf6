"""Turn a table of numbers and categories into the float matrix a network sees.

The encoder lays out one block of encoded features per original column, in the
original column order:

- a numeric column becomes one scaled value (plus a 0/1 missing indicator when
  ``missing="impute"``);
- a categorical column becomes a one-hot block with one slot per category seen
  in training, one "unseen" slot that is always 0 in training (a category never
  seen before sets it, so it reconstructs badly instead of crashing), plus the
  missing indicator when imputing.

Every encoded feature has a weight used both in the training loss and in the
score. Numbers weigh 1. One-hot slots weigh ``category_weight / 2``, so a wholly
wrong category (one slot missed, another predicted) costs ``category_weight``:
as much as a one-standard-deviation miss on a standardised number, however many
categories the column has.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data import colstats, frames
from aedetect.data.frames import as_frame, first_true, is_text_dtype, looks_numeric, numeric_matrix
from aedetect.data.sequences import expand_sequences, fit_sequences, position_names
from aedetect.exceptions import DataError
from aedetect.params import ENCODER, MISSING, SCALINGS, validate

__all__ = ["MISSING", "RARE", "SCALINGS", "TabularEncoder", "as_frame"]

#: A category that fewer than this share of the training rows had is rare there.
RARE = 1e-3

# A column whose spread is below this share of its magnitude counts as constant.
_CONSTANT_RTOL = 1e-9
# Standard scaling divides by max(std, range / _RANGE_FLOOR).
_RANGE_FLOOR = 10.0


@dataclass
class _Column:
    name: str
    kind: str  # "numeric" or "categorical"
    start: int
    stop: int
    # numeric: offset, scale, fill; categorical: categories, fill
    offset: float = 0.0
    scale: float = 1.0
    fill: Any = None
    categories: list[str] = field(default_factory=list)
    constant: bool = False
    # categorical: training rows per category (empty in model files written before)
    counts: list[int] = field(default_factory=list)
    # Bounds of the network's input, in scaled units (numeric columns only).
    low: float = float("-inf")
    high: float = float("inf")


class TabularEncoder:
    """Scale numbers, one-hot categories, and weight them fairly.

    Parameters
    ----------
    scaling : {"standard", "minmax", "pooled", "unit", "symmetric", "none"}, default="standard"
        How numeric columns are scaled. ``standard`` divides by the standard
        deviation, floored at a tenth of the column's range so that a nearly
        constant column cannot blow up; a constant column gets the median scale
        of the other numeric columns instead of a near-zero divisor. ``pooled``
        centres each column and divides all by their mean standard deviation: for
        columns in the same units, such as pixels. ``unit`` / ``symmetric`` map
        the training data's overall range onto [0, 1] / [-1, 1] (image pixels).
    categorical : sequence of str, optional
        Columns to treat as categorical. Text columns are detected on their own.
    category_weight : float, default=1.0
        What a wholly wrong category costs, in units of one squared standard
        deviation of a number.
    missing : {"error", "impute"}, default="error"
        ``"error"`` rejects missing values naming column and row; ``"impute"``
        fills the training median (numbers) or most frequent category and adds a
        0/1 indicator per column.
    clip : float or None, default=5.0
        The network sees each number clipped to its training mean +- ``clip``
        training standard deviations (see :meth:`clip_bounds`); errors are measured
        against the unclipped value, so an out-of-range number cannot be copied
        through and always counts. ``None`` turns clipping off.
    sequences : sequence of str, optional
        Columns of fixed-length token sequences; each becomes one column per
        position, ``name[1]``, ``name[2]``, ... (see :mod:`aedetect.data.sequences`).
    token_sep : str, optional
        Separator of multi-character tokens; by default every character is a token.
    sequence_encoding : {"onehot", "ordinal"}, default="onehot"
        Positions as categories, or as the reference system's integer codes.
    """

    def __init__(
        self,
        scaling: str = "standard",
        categorical: tuple[str, ...] | list[str] | None = None,
        category_weight: float = 1.0,
        missing: str = "error",
        clip: float | None = 5.0,
        sequences: tuple[str, ...] | list[str] | None = None,
        token_sep: str | None = None,
        sequence_encoding: str = "onehot",
    ) -> None:
        self.scaling = scaling
        self.categorical = categorical
        self.category_weight = category_weight
        self.missing = missing
        self.clip = clip
        self.sequences = sequences
        self.token_sep = token_sep
        self.sequence_encoding = sequence_encoding

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any) -> TabularEncoder:
        """Learn column kinds, scales and categories from training data."""
        self._check_params()
        frame = as_frame(X)
        if frame.shape[1] == 0:
            raise DataError(
                f"0 feature(s) (shape=({len(frame)}, 0)) while a minimum of 1 is required."
            )
        named = [str(c) for c in (self.categorical or ())]
        unknown = [c for c in named if c not in frame.columns]
        if unknown:
            raise DataError(f"categorical column {unknown[0]!r} is not in the data")
        self.feature_names_in_ = [str(c) for c in frame.columns]
        self.sequences_ = fit_sequences(
            frame, [str(c) for c in (self.sequences or ())], self.token_sep, self.sequence_encoding
        )
        frame = self._expand(frame)
        if self.sequence_encoding == "onehot":
            for name, seq in self.sequences_.items():
                named += position_names(name, seq["length"])
        impute = self.missing == "impute"
        dtypes = frame.dtypes
        kinds = {
            name: "categorical"
            if name in named or (is_text_dtype(dtypes.iloc[j]) and not looks_numeric(frame[name]))
            else "numeric"
            for j, name in enumerate(frame.columns)
        }
        numeric = self._fit_numeric([n for n in frame.columns if kinds[n] == "numeric"], frame)
        columns: list[_Column] = []
        pos = 0  # where the next column's block starts
        for name in frame.columns:
            if kinds[name] == "numeric":
                col = numeric[name]
                col.start, col.stop = pos, pos + (2 if impute else 1)
            else:
                col = self._fit_categorical(name, frame[name], pos, impute)
                if name not in named:
                    frames.check_not_identifier(name, len(col.categories), frame[name])
            columns.append(col)
            pos = col.stop
        frames.check_onehot_size(columns, len(frame))
        self.columns_ = columns
        self.n_features_out_ = pos
        self.feature_weights_ = self._weights()
        return self

    def _expand(self, frame: pd.DataFrame) -> pd.DataFrame:
        return expand_sequences(frame, self.sequences_, self.token_sep, self.sequence_encoding)

    def readable(self, X: Any) -> pd.DataFrame:
        """Input rows as the encoded columns see them, sequences split into tokens."""
        frame = self._align(as_frame(X))
        return expand_sequences(frame, self.sequences_, self.token_sep, "onehot", warn=False)

    @property
    def column_names_(self) -> list[str]:
        """Encoded column names: the inputs, with sequences spread over their positions."""
        return [c.name for c in self.columns_]

    def _check_params(self) -> None:
        validate(self.get_params(), ENCODER)

    def get_params(self) -> dict[str, Any]:
        """Return the constructor's arguments, by name."""
        return {name: getattr(self, name) for name in ENCODER}

    def _fit_numeric(self, names: list[str], frame: pd.DataFrame) -> dict[str, _Column]:
        """Scales, fills and clip bounds of all numeric columns at once (vectorised)."""
        if not names:
            return {}
        impute = self.missing == "impute"
        values = numeric_matrix(frame, names)
        self._check_matrix(values, names, allow_nan=impute)
        if impute:  # the nan-aware versions are several times slower: only when needed
            empty = np.isnan(values).all(axis=0)
            if empty.any():
                raise DataError(f"column '{names[int(np.argmax(empty))]}' has no values")
            lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            fill = np.nanmedian(values, axis=0)
        else:  # in blocks of rows: no table-sized temporaries
            lo, hi, mean, std = colstats.column_stats(values)
            fill = mean  # never used: nothing is imputed
        span = hi - lo
        if self.scaling == "standard":
            # The floor at a tenth of the range keeps a nearly constant column (a
            # pixel inked in 2 of 2,000 images) from turning into a 100-sigma spike.
            offset, spread = mean, np.maximum(std, span / _RANGE_FLOOR)
        elif self.scaling == "minmax":
            offset, spread = lo, span
        elif self.scaling == "pooled":
            # One divisor for every column keeps their relative spread: right for
            # columns in the same units (pixels), where per-column scaling would
            # blow up the quiet ones.
            offset, spread = mean, np.full_like(std, std.mean() if std.any() else 1.0)
        elif self.scaling in ("unit", "symmetric"):
            # One affine map for all columns, from the data's overall range (pixels
            # 0..255) to [0, 1] or [-1, 1]: the images' own scaling, not per pixel.
            low, high = float(lo.min()), float(hi.max())
            width = high - low if high > low else 1.0
            if self.scaling == "unit":
                offset, spread = np.full_like(lo, low), np.full_like(lo, width)
            else:
                offset, spread = np.full_like(lo, (low + high) / 2), np.full_like(lo, width / 2)
        else:
            offset, spread = np.zeros_like(mean), np.ones_like(mean)
        # Relative to the column's own magnitude: picofarads vary, 0.1 + 0.2 rounding does not.
        constant = span <= _CONSTANT_RTOL * np.maximum(np.abs(lo), np.abs(hi))
        scale = np.where(constant | (spread == 0.0), 1.0, spread)
        if constant.any() and self.scaling != "none":
            # A never-varying column (an MNIST corner pixel) gets the median scale of
            # the others: a deviation counts like one of theirs, neither as 1e8
            # (std + eps) nor in raw units.
            others = scale[~constant]
            fallback = np.median(others) if others.size else np.maximum(1.0, np.abs(offset))
            scale = np.where(constant, fallback, scale)
        if self.clip is None:
            low, high = np.full_like(mean, -np.inf), np.full_like(mean, np.inf)
        else:
            centre, width = (mean - offset) / scale, float(self.clip) * std / scale
            low, high = centre - width, centre + width
        return {
            name: _Column(
                name,
                "numeric",
                0,
                0,
                float(offset[j]),
                float(scale[j]),
                float(fill[j]),
                constant=bool(constant[j]),
                low=float(low[j]),
                high=float(high[j]),
            )
            for j, name in enumerate(names)
        }

    def _check_matrix(self, values: np.ndarray, names: list[str], allow_nan: bool) -> None:
        if colstats.any_unusable(values, allow_nan):  # block by block; the whole only to name
            bad = frames.unusable(values, allow_nan)
            j, _ = first_true(bad.T)  # first bad column, then its first bad row
            self._check_finite(values[:, j], names[j], allow_nan)

    def _fit_categorical(self, name: str, series: pd.Series, pos: int, impute: bool) -> _Column:
        missing = series.isna().to_numpy()
        if missing.any() and not impute:
            raise DataError(self._missing_message(name, int(np.argmax(missing))))
        values = series[~missing].astype(str)
        if values.empty:
            raise DataError(f"column '{name}' has no values")
        counts = values.value_counts(sort=False)
        categories = sorted(counts.index.tolist())
        fill = str(counts.idxmax())
        width = len(categories) + 1 + (1 if impute else 0)
        constant = len(categories) == 1
        return _Column(
            name,
            "categorical",
            pos,
            pos + width,
            fill=fill,
            categories=categories,
            constant=constant,
            counts=[int(counts[c]) for c in categories],
        )

    def _weights(self) -> np.ndarray:
        w = np.ones(self.n_features_out_, dtype=np.float32)
        half = 0.5 * float(self.category_weight)
        for col in self.columns_:
            if col.kind == "categorical":
                n_slots = len(col.categories) + 1
                w[col.start : col.start + n_slots] = half
        return w

    # ------------------------------------------------------------ transform
    def transform(self, X: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Encode ``X`` as a float32 matrix of shape (n_samples, n_features_out_).

        ``out``: a float32 array of that shape to write into (it may be ``X``'s
        own array); only number columns are written whole: give zeros otherwise.
        """
        frame = self._expand(self._align(as_frame(X)))
        n = len(frame)
        impute = self.missing == "impute"
        out = np.zeros((n, self.n_features_out_), dtype=np.float32) if out is None else out
        numeric = [c for c in self.columns_ if c.kind == "numeric"]
        if numeric:
            with np.errstate(over="ignore"):  # an overflow becomes inf: refused just below
                self._encode_numeric(frame, numeric, out, impute)
            frames.check_scaled(frame, [(c.name, c.start) for c in numeric], out)
        for col in self.columns_:
            if col.kind == "categorical":
                self._encode_categorical(frame[col.name], col, out, impute)
        return out

    def fit_transform(self, X: Any) -> np.ndarray:
        """Fit, then encode ``X``."""
        return self.fit(X).transform(X)

    def _align(self, frame: pd.DataFrame) -> pd.DataFrame:
        expected = self.feature_names_in_
        got = list(frame.columns)
        if got == expected:
            return frame
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected]
        if missing or extra:
            parts = ["missing " + ", ".join(repr(c) for c in missing[:5])] if missing else []
            if extra:
                parts.append("unexpected " + ", ".join(repr(c) for c in extra[:5]))
            raise DataError("columns do not match the model: " + "; ".join(parts))
        return frame[expected]

    def _encode_numeric(
        self, frame: pd.DataFrame, cols: list[_Column], out: np.ndarray, impute: bool
    ) -> None:
        """Encode the numbers a block of rows at a time: no table-sized float64 copy."""
        names = [c.name for c in cols]
        for rows in colstats.row_blocks(len(frame)):
            part = frame if len(frame) <= colstats.BLOCK else frame.iloc[rows]
            try:
                values = numeric_matrix(part, names)
            except DataError:  # name the row in the whole table
                numeric_matrix(frame, names)
                raise
            if colstats.any_unusable(values, impute):
                self._check_matrix(numeric_matrix(frame, names), names, allow_nan=impute)
            self._scale_into(values, cols, out[rows], impute)

    @staticmethod
    def _scale_into(values: np.ndarray, cols: list[_Column], out: np.ndarray, impute: bool) -> None:
        offset = np.array([c.offset for c in cols], dtype=values.dtype)
        scale = np.array([c.scale for c in cols], dtype=values.dtype)
        pos = np.array([c.start for c in cols])
        if impute:
            nan = np.isnan(values)
            values = np.where(nan, np.array([c.fill for c in cols], dtype=values.dtype), values)
            out[:, pos + 1] = nan
        if len(pos) and pos[-1] - pos[0] == len(pos) - 1:  # contiguous: no temporaries
            block = out[:, pos[0] : pos[-1] + 1]
            np.subtract(values, offset, out=block, casting="same_kind")
            np.divide(block, scale.astype(np.float32), out=block)
        else:
            out[:, pos] = (values - offset) / scale

    def _encode_categorical(
        self, series: pd.Series, col: _Column, out: np.ndarray, impute: bool
    ) -> None:
        missing = series.isna().to_numpy()
        if missing.any():
            if not impute:
                raise DataError(self._missing_message(col.name, int(np.argmax(missing))))
            out[missing, col.stop - 1] = 1.0
            series = series.where(~missing, col.fill)
        codes = pd.Index(col.categories).get_indexer(series.astype(str))
        # code -1 (never seen in training) lands on the "unseen" slot.
        slot = np.where(codes < 0, len(col.categories), codes)
        out[np.arange(len(slot)), col.start + slot] = 1.0

    def _check_finite(self, values: np.ndarray, name: str, allow_nan: bool) -> None:
        bad = frames.unusable(values, allow_nan)
        if bad.any():
            row = int(np.argmax(bad))
            if np.isnan(values[row]):
                raise DataError(self._missing_message(name, row))
            raise DataError(f"column '{name}' row {row + 1}: {frames.beyond_float32(values[row])}")

    @staticmethod
    def _missing_message(name: str, row: int) -> str:
        return (
            f"column '{name}' row {row + 1}: missing value (NaN); "
            "fit with missing='impute' to accept them"
        )

    def inverse_transform(self, encoded: np.ndarray) -> pd.DataFrame:
        """Decode encoded rows to the original columns and units.

        Numbers are unscaled; a categorical column takes its most likely category
        (the "unseen" slot is never chosen).
        """
        out: dict[str, Any] = {}
        alphabets = self._ordinal_alphabets()
        for col in self.columns_:
            if col.name in alphabets:  # nearest integer code back to its token
                alphabet = np.asarray(alphabets[col.name], dtype=object)
                codes = np.rint(encoded[:, col.start] * col.scale + col.offset)
                out[col.name] = alphabet[np.clip(codes, 0, len(alphabet) - 1).astype(int)]
            elif col.kind == "numeric":
                out[col.name] = encoded[:, col.start].astype(np.float64) * col.scale + col.offset
            else:
                block = encoded[:, col.start : col.start + len(col.categories)]
                out[col.name] = np.asarray(col.categories, dtype=object)[block.argmax(axis=1)]
        return pd.DataFrame(out, columns=self.column_names_)

    def _ordinal_alphabets(self) -> dict[str, list[str]]:
        if self.sequence_encoding != "ordinal":
            return {}
        return {
            pos: seq["alphabet"]
            for name, seq in self.sequences_.items()
            for pos in position_names(name, seq["length"])
        }

    # ----------------------------------------------------------- grouping
    def column_errors(self, squared: np.ndarray, positions: bool = False) -> np.ndarray:
        """Sum weighted squared errors of encoded features back per input column.

        With ``positions=True`` a sequence column is reported per position (the
        columns of :attr:`column_names_`); otherwise its positions are summed.
        """
        starts = np.array([c.start for c in self.columns_])
        per_column = np.add.reduceat(squared * self.feature_weights_, starts, axis=1)
        if positions or not self.sequences_:
            return per_column
        owners = [self._owner(c.name) for c in self.columns_]
        firsts = [i for i, o in enumerate(owners) if i == 0 or o != owners[i - 1]]
        return np.add.reduceat(per_column, firsts, axis=1)

    def _owner(self, column: str) -> str:
        base = column.rsplit("[", 1)[0]
        return base if base in self.sequences_ and column.endswith("]") else column

    def clip_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of every encoded feature as the network sees it.

        Numbers are bounded to their training mean +- ``clip`` standard deviations
        (in scaled units); one-hot slots and indicators are unbounded.
        """
        low = np.full(self.n_features_out_, -np.inf, dtype=np.float32)
        high = np.full(self.n_features_out_, np.inf, dtype=np.float32)
        for col in self.columns_:
            if col.kind == "numeric":
                low[col.start], high[col.start] = col.low, col.high
        return low, high

    @property
    def constant_columns_(self) -> list[str]:
        """Columns that had a single value in training."""
        return [c.name for c in self.columns_ if c.constant]

    @property
    def categorical_columns_(self) -> list[str]:
        """Columns encoded as categories."""
        return [c.name for c in self.columns_ if c.kind == "categorical"]

    # --------------------------------------------------------------- state
    def get_state(self) -> dict[str, Any]:
        """Fitted state as plain JSON-ready data."""
        return {
            "params": {
                "scaling": self.scaling,
                "categorical": list(self.categorical or ()),
                "category_weight": self.category_weight,
                "missing": self.missing,
                "clip": self.clip,
                "sequences": list(self.sequences or ()),
                "token_sep": self.token_sep,
                "sequence_encoding": self.sequence_encoding,
            },
            "inputs": self.feature_names_in_,
            "sequences": self.sequences_,
            "columns": [asdict(c) for c in self.columns_],  # every field of _Column, in order
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`get_state` output."""
        params = dict(state["params"])
        params["categorical"] = tuple(params.get("categorical") or ()) or None
        params["sequences"] = tuple(params.get("sequences") or ()) or None
        enc = cls(**params)
        enc.columns_ = [_Column(**c) for c in state["columns"]]
        enc.n_features_out_ = enc.columns_[-1].stop if enc.columns_ else 0
        enc.feature_names_in_ = list(state["inputs"])
        enc.sequences_ = state["sequences"]
        enc.feature_weights_ = enc._weights()
        return enc
