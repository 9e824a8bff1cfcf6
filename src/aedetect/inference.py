"""What a fitted detector gives: scores, latent codes, reconstructions, explanations.

:class:`DetectorOutputs` is the output half of
:class:`~aedetect.detector.AutoencoderDetector` (a mixin, so the estimator's
module stays short); it relies on the fitted attributes ``fit`` or
``from_state`` set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from aedetect.attribution import (
    EXPLAIN_BY,
    Groups,
    collect_parts,
    expected_encoded,
    explanation_frame,
    score_drops,
    typical,
)
from aedetect.data.encoding import as_frame
from aedetect.data.images import image_rows
from aedetect.exceptions import ConfigError, DataError, NotFittedError
from aedetect.fastpath import numeric_rows, reconstruction_scores
from aedetect.runtime import compute, cpu_threads
from aedetect.scoring import CHUNK, feature_squared_errors, reconstructions
from aedetect.value_grid import Grid

__all__ = ["DetectorOutputs"]


class DetectorOutputs:
    """Outputs of a fitted detector; every method starts with a fitted check."""

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        """Scikit-learn's tags: float32 out, text and categories in, NaN when imputing."""
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        tags.input_tags.allow_nan = self.missing == "impute"
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: call fit first"
            )

    # ------------------------------------------------------------- inputs
    def _flat(self, X: Any) -> Any:
        """Images (n, h, w) / (n, h, w, c) as flat rows, checked against the training shape."""
        flat, shape = image_rows(X)
        if shape is not None and shape != self.image_shape_:
            fitted = self.image_shape_
            raise DataError(
                f"images are {'x'.join(map(str, shape))} (channels x height x width), but "
                f"{type(self).__name__} was fitted on "
                + ("a table" if fitted is None else "x".join(map(str, fitted)))
            )
        return flat

    def _numeric_rows(self, X: Any) -> Any:
        """Flat rows of plain numbers for the fast path (:mod:`aedetect.fastpath`), or None."""
        return numeric_rows(self.encoder_, X) if self._device_.type == "cpu" else None

    def _encode(self, X: Any) -> torch.Tensor:
        X = self._flat(X)
        rows = self._numeric_rows(X)
        with cpu_threads():  # not compute(): encoding flushes no subnormal, as numpy's
            encoded = None if rows is None else rows.encode()
        if encoded is not None:
            return encoded
        frame = as_frame(X)
        if not isinstance(X, pd.DataFrame) and frame.shape[1] != self.n_features_in_:
            raise DataError(
                f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return torch.from_numpy(self.encoder_.transform(frame)).to(self._device_)

    # ------------------------------------------------------------- outputs
    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score of each row (the ``scoring`` parameter; by default reconstruction).

        Higher = more anomalous. The default is the weighted mean squared
        reconstruction error: for a numeric table the per-row MSE of the scaled
        values; a categorical column adds the error of its one-hot block.
        """
        self._check_fitted()
        X = self._flat(X)
        rows = self._numeric_rows(X) if self.scorer_.config.score == "reconstruction" else None
        if rows is not None:  # encoded and scored chunk by chunk; None: a value to refuse
            with compute():
                scores = reconstruction_scores(self.scorer_, self.module_, rows)
            if scores is not None:
                return scores
        Xt = self._encode(X)
        with compute():
            return self.scorer_.score(self.module_, Xt)

    def all_scores(self, X: Any) -> pd.DataFrame:
        """Every score the fitted detector can give, one column each, higher = more anomalous.

        Columns: ``reconstruction``, ``latent-kmeans``, ``layerwise``, ``ensemble``
        and, for a VAE, ``reconstruction-probability``; each with this detector's
        options (``reduction``, ``distance``, ...).
        """
        self._check_fitted()
        Xt = self._encode(X)
        with compute():
            return pd.DataFrame(self.scorer_.scores(self.module_, Xt, self.scorer_.available()))

    def predict(self, X: Any) -> np.ndarray:
        """1 for rows scoring above ``threshold_``, 0 otherwise."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    def fit_predict(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``X`` and return its 0/1 labels."""
        return self.fit(X, y, **fit_params).labels_

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``X`` and return its latent codes."""
        return self.fit(X, y, **fit_params).transform(X)

    def transform(self, X: Any) -> np.ndarray:
        """Latent code of each row, shape (n_samples, hidden[-1]); flattened for conv."""
        self._check_fitted()
        Xt = self._encode(X)
        with compute(), torch.no_grad():
            self.module_.eval()
            return self.module_.encode(Xt.clamp(*self._bounds_)).cpu().numpy()

    def reconstruct(self, X: Any) -> np.ndarray | pd.DataFrame:
        """Reconstruction of each row in the original columns and units.

        Numbers are unscaled; a categorical column gets its most likely category.
        Returns a DataFrame when ``X`` is one, else a float array.
        """
        self._check_fitted()
        Xt = self._encode(X)
        with compute():
            encoded = reconstructions(self.module_, Xt, self._bounds_)
        decoded = self.encoder_.inverse_transform(encoded)
        if isinstance(X, pd.DataFrame):
            return decoded
        return decoded.to_numpy(dtype=np.float64)

    def explain(self, X: Any, top: int = 5, by: str = "cause") -> pd.DataFrame:
        """Say which columns (or sequence positions, pixels) made each row's score.

        By cause (the default), columns are ranked by how far the row's score (the
        ``scoring`` that flags it) falls when that column alone is set to what the
        model expects there given the other columns (a number, or the model's
        distribution over the categories or tokens; a table's number is also
        tried at seven typical values around its training mean, and the largest
        fall counts); a category's or token's fall
        counts as far as its seen value is more surprising than that distribution
        is uncertain (a city among the five of its region counts little). The
        copies of a row, one per column, are scored in one batched pass.
        ``by="error"`` ranks by per-column reconstruction error instead.
        Neither lists a category or token whose seen value is the expected one, nor
        a column whose share rounds to 0% (by cause, a category or token never or
        almost never seen there in training is listed first whatever its share).

        Parameters
        ----------
        X : array-like or DataFrame
            Rows to explain.
        top : int, default=5
            How many columns to report per row, largest first.
        by : {"cause", "error"}, default="cause"
            Rank by the score's fall (``drop``; a category's weighed by its
            surprise) or by reconstruction error (``error_share``).

        Returns
        -------
        DataFrame
            One line per (row, column): ``row`` (0-based position in ``X``),
            ``column`` (a sequence column per position, ``seq[3]``; an image per
            pixel, or per square patch when it has more than 256 pixels), ``seen``,
            ``expected`` (a number in the column's units, or the most likely
            category or token), ``probability`` (of that category or token),
            ``unseen`` (the seen category or token never occurred there in
            training), ``frequency`` (the share of training rows that had it there;
            below 0.1% it is named first by cause, after the unseen), ``share``
            (of the row's score that goes when the column alone is as expected;
            shares of different columns overlap and need not add up to 1),
            ``drop`` (that fall of the score), ``error`` (the column's weighted
            squared reconstruction error) and ``error_share``.
        """
        self._check_fitted()
        if by not in EXPLAIN_BY:
            raise ConfigError(f"by must be one of {', '.join(EXPLAIN_BY)}, got {by!r}")
        frame = as_frame(self._flat(X))
        Xt = self._encode(frame)
        groups = Groups.of(self.encoder_, self.image_shape_)
        base, drops, settled, recon = self._score_drops(Xt, groups)
        with compute():
            own = reconstructions(self.module_, Xt, self._bounds_)
        # Shares are of the score above the lowest a training row could have (0
        # for the error and distance scores; below it for z-scores and likelihoods).
        low = min(0.0, float(np.min(self.decision_scores_)))
        parts = collect_parts(
            self.encoder_,
            frame,
            Xt.cpu().numpy(),
            own,
            groups,
            drops,
            base - low,
            expected=(settled, recon),
        )
        return explanation_frame(parts, top, by)

    def _score_drops(self, Xt: torch.Tensor, groups: Groups) -> tuple[np.ndarray, ...]:
        """:func:`~aedetect.attribution.score_drops` of encoded rows ``Xt`` with this model."""

        def expect(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            recon = reconstructions(self.module_, x, self._bounds_)
            expected, _ = expected_encoded(self.encoder_, x.cpu().numpy(), recon)
            return torch.from_numpy(expected).to(x.device), torch.from_numpy(recon).to(x.device)

        with compute():
            return score_drops(
                lambda x: self.scorer_.score(self.module_, x),
                expect,
                Xt,
                groups.masks(self.encoder_),
                origin=typical(self.encoder_),
                grid=Grid.of(self.encoder_, groups) if self.image_shape_ is None else None,
            )

    def feature_errors(
        self, X: Any, positions: bool = False, chunk: int | None = None
    ) -> np.ndarray:
        """Weighted squared error per input column, shape (n_samples, n_features_in_).

        A one-hot block is summed back to its column. With ``positions=True`` a
        sequence column is reported per position instead (the columns of
        ``encoder_.column_names_``). The sum over columns, divided by the number
        of encoded columns, equals :meth:`decision_function`. ``chunk`` sets how many
        rows go through the network at once (default 8192).
        """
        self._check_fitted()
        Xt = self._encode(X)
        with compute():
            squared = feature_squared_errors(self.module_, Xt, self._bounds_, chunk or CHUNK)
        return self.encoder_.column_errors(squared, positions=positions)
