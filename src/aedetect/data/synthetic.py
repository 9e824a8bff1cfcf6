"""Synthetic tables with the four kinds of anomaly of ADBench (Han et al., NeurIPS 2022).

Normal rows come from a Gaussian mixture whose components have strongly
correlated features (a low-rank covariance plus a little noise). Anomalies, as
ADBench defines them:

- ``local``: the same mixture with every covariance scaled by ``alpha``: rows near
  the normal clusters but too spread out.
- ``global``: uniform over the normal rows' per-feature range, widened by
  ``percentage`` of each bound: rows anywhere in the bounding box.
- ``dependency``: each feature drawn independently from its normal marginal (a
  Gaussian kernel density estimate with Scott's bandwidth): right values, broken
  relations between them.
- ``clustered``: the same mixture with every mean scaled by ``alpha``: a few tight
  groups of anomalies away from the normal clusters.

ADBench fits its mixture (or, for ``dependency``, a vine copula) to a real data set;
here the mixture is random, so that no data file is needed. One generator makes
the normal rows of all four kinds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.table import Table
from aedetect.exceptions import DataError

__all__ = ["SYNTHETIC_KINDS", "make_synthetic", "synthetic_arrays"]

SYNTHETIC_KINDS = ("local", "global", "dependency", "clustered")
_ALIASES = {"cluster": "clustered"}


def _number(
    name: str, value: object, low: float, integer: bool, high: float = float("inf")
) -> float:
    """Check a generator option (may arrive as a string from ``NAME:key=value``)."""
    try:
        number = float(value) if not integer else int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        kind = "an integer" if integer else "a number"
        raise DataError(f"synthetic: {name} must be {kind}, got {value!r}") from None
    if not np.isfinite(number) or not low <= number <= high:
        rule = f">= {low:g}" if high == float("inf") else f"in [{low:g}, {high:g}]"
        raise DataError(f"synthetic: {name} must be {rule}, got {value!r}")
    return number


def _mixture(
    rng: np.random.Generator, dim: int, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and covariances of a random mixture with correlated features."""
    weights = rng.dirichlet(np.full(n_components, 5.0))
    means = rng.normal(0.0, 3.0, size=(n_components, dim))
    rank = max(1, dim // 4)
    covs = np.empty((n_components, dim, dim))
    for k in range(n_components):
        loadings = rng.normal(size=(dim, rank)) / np.sqrt(rank)
        covs[k] = loadings @ loadings.T + 0.1 * np.eye(dim)
    return weights, means, covs


def _sample(
    rng: np.random.Generator,
    n: int,
    weights: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
) -> np.ndarray:
    component = rng.choice(len(weights), size=n, p=weights)
    out = np.empty((n, means.shape[1]))
    for k in range(len(weights)):
        rows = np.flatnonzero(component == k)
        if len(rows):
            factor = np.linalg.cholesky(covs[k])
            out[rows] = means[k] + rng.standard_normal((len(rows), means.shape[1])) @ factor.T
    return out


def _independent_marginals(rng: np.random.Generator, normal: np.ndarray, n: int) -> np.ndarray:
    """Each column drawn on its own from a Gaussian KDE of that column (Scott's bandwidth)."""
    n_normal, dim = normal.shape
    picks = rng.integers(0, n_normal, size=(n, dim))
    values = normal[picks, np.arange(dim)]
    bandwidth = normal.std(axis=0) * n_normal ** (-1 / 5)
    return values + rng.standard_normal((n, dim)) * bandwidth


def _uniform_box(rng: np.random.Generator, normal: np.ndarray, n: int, share: float) -> np.ndarray:
    low, high = normal.min(axis=0), normal.max(axis=0)
    low, high = low - share * np.abs(low), high + share * np.abs(high)
    return rng.uniform(low, high, size=(n, normal.shape[1]))


def synthetic_arrays(
    kind: str = "local",
    n_rows: int = 2000,
    n_anomalies: int = 100,
    dim: int = 20,
    seed: int = 0,
    n_components: int = 3,
    alpha: float = 5.0,
    percentage: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and 0/1 labels of :func:`make_synthetic` as arrays (float64, int).

    Parameters
    ----------
    kind : {"local", "global", "dependency", "clustered"}, default="local"
        How the anomalies differ from the normal rows (see the module docstring).
    n_rows : int, default=2000
        Rows in all, anomalies included.
    n_anomalies : int, default=100
        Anomalous rows among them (label 1).
    dim : int, default=20
        Number of columns, ``x0`` ... ``x{dim-1}``.
    seed : int, default=0
        The same seed gives the same table.
    n_components : int, default=3
        Clusters of the normal mixture.
    alpha : float, default=5.0
        Scale of the covariances (``local``) or of the means (``clustered``), as in ADBench.
    percentage : float, default=0.1
        How far past the normal range ``global`` anomalies may go, as a share of each bound.
    """
    kind = _ALIASES.get(str(kind), str(kind))
    if kind not in SYNTHETIC_KINDS:
        raise DataError(
            f"synthetic: kind must be one of {', '.join(SYNTHETIC_KINDS)}, got {kind!r}"
        )
    n_rows = int(_number("n_rows", n_rows, 2, True, 10_000_000))
    n_anomalies = int(_number("n_anomalies", n_anomalies, 0, True))
    dim = int(_number("dim", dim, 1, True, 1000))  # a dim x dim covariance per component
    n_components = int(_number("n_components", n_components, 1, True, 100))
    alpha = _number("alpha", alpha, 0, False, 1e6)
    percentage = _number("percentage", percentage, 0, False, 1e6)
    seed = int(_number("seed", seed, 0, True, 2**63 - 1))
    if n_rows * dim > 50_000_000:
        raise DataError(f"synthetic: n_rows x dim must be at most 50000000, got {n_rows * dim}")
    if n_anomalies >= n_rows:
        raise DataError(
            f"synthetic: n_anomalies must be smaller than n_rows ({n_rows}), got {n_anomalies}"
        )
    rng = np.random.default_rng(seed)
    weights, means, covs = _mixture(rng, dim, n_components)
    normal = _sample(rng, n_rows - n_anomalies, weights, means, covs)
    if kind == "local":
        bad = _sample(rng, n_anomalies, weights, means, alpha * covs)
    elif kind == "clustered":
        bad = _sample(rng, n_anomalies, weights, alpha * means, covs)
    elif kind == "global":
        bad = _uniform_box(rng, normal, n_anomalies, percentage)
    else:
        bad = _independent_marginals(rng, normal, n_anomalies)
    X = np.concatenate([normal, bad])
    y = np.r_[np.zeros(len(normal), dtype=int), np.ones(len(bad), dtype=int)]
    order = rng.permutation(n_rows)
    return X[order], y[order]


def make_synthetic(kind: str = "local", **options: Any) -> Table:
    """Make a numeric table with one of ADBench's four kinds of anomaly.

    Parameters
    ----------
    kind : {"local", "global", "dependency", "clustered"}, default="local"
        How the anomalies differ from the normal rows (see the module docstring);
        ``cluster`` is accepted for ``clustered``.
    **options
        The other parameters of :func:`synthetic_arrays` (``n_rows=2000``,
        ``n_anomalies=100``, ``dim=20``, ``seed=0``, ``n_components=3``,
        ``alpha=5.0``, ``percentage=0.1``), documented there.

    Returns
    -------
    Table
        Features, labels (``is_anomaly``), rows shuffled.

    Examples
    --------
    >>> table = make_synthetic("global", n_rows=500, n_anomalies=25, dim=5)
    >>> table.features.shape, int(table.labels.sum())
    ((500, 5), 25)
    """
    X, y = synthetic_arrays(kind, **options)
    return Table(
        features=pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]),
        labels=pd.Series(y, name="is_anomaly"),
        ids=None,
        source="synthetic",
    )
