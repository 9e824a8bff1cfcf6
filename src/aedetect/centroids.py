"""Centroids of a layer's activations and each row's distance to the nearest one.

Lloyd's k-means (k-means++ seeding) fits the centroids; the pooled
within-cluster covariance gives the whitening matrix of the Mahalanobis
distance. Distances for scores are computed row by row exactly, so an item's
score does not depend on what else is in the batch.
"""

from __future__ import annotations

import torch

__all__ = ["kmeans", "nearest_distance", "whitening"]

# Values per block of rows in the exact distances (2 MiB of float64).
_BLOCK_VALUES = 1 << 18


def _sq_distances(X: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Squared distance of every row to every centroid, (n, k), one centroid at a time.

    Row by row exact (no ``|x|^2 - 2xc + |c|^2`` cancellation), so an item's score
    does not depend on what else is in the batch. The rows go through in blocks of
    about :data:`_BLOCK_VALUES` values, in one reused buffer: a wide layer's
    differences stay in the cache instead of a fresh table-sized array per centroid.
    """
    out = torch.empty(len(X), len(centroids), dtype=X.dtype, device=X.device)
    rows = max(1, _BLOCK_VALUES // max(1, X.shape[1]))
    buffer = torch.empty(min(rows, len(X)), X.shape[1], dtype=X.dtype, device=X.device)
    for start in range(0, len(X), rows):
        block = X[start : start + rows]
        diff = buffer[: len(block)]
        for j, c in enumerate(centroids):
            torch.sub(block, c, out=diff).square_()
            torch.sum(diff, dim=1, out=out[start : start + len(block), j])
    return out


def _sq_distances_fast(
    X: torch.Tensor, centroids: torch.Tensor, x_sq: torch.Tensor | None = None
) -> torch.Tensor:
    """``|x|^2 - 2 x.c + |c|^2``: one matmul, for fitting (assignments), not for scores.

    ``x_sq``: ``X.square().sum(dim=1, keepdim=True)`` when the caller already has it.
    """
    if x_sq is None:
        x_sq = X.square().sum(dim=1, keepdim=True)
    sq = x_sq - 2.0 * (X @ centroids.T)  # not (2.0 * X) @ ...: a copy of X; the same values
    return (sq + centroids.square().sum(dim=1)).clamp_min(0.0)


def kmeans(X: torch.Tensor, k: int, generator: torch.Generator, n_iter: int = 30) -> torch.Tensor:
    """Lloyd's k-means with k-means++ seeding; returns (min(k, n // 2, distinct rows), d) centroids.

    At most one centroid per two rows: with as many as rows, every training
    distance would be 0. Deterministic for a given ``generator`` state. An empty
    cluster keeps its centroid.
    """
    n = len(X)
    k = min(k, max(1, n // 2))
    x_sq = X.square().sum(dim=1, keepdim=True)  # the same every iteration
    first = int(torch.randint(n, (1,), generator=generator))
    centroids = X[first : first + 1]
    closest = _sq_distances_fast(X, centroids, x_sq)[:, 0]
    while len(centroids) < k:
        total = closest.sum()
        if not total > 0:  # every row already on a centroid: fewer distinct rows than k
            break
        pick = int(torch.multinomial((closest / total).float(), 1, generator=generator))
        centroids = torch.cat([centroids, X[pick : pick + 1]])
        closest = torch.minimum(closest, _sq_distances_fast(X, X[pick : pick + 1], x_sq)[:, 0])
    assign = None
    for _ in range(n_iter):
        new_assign = _sq_distances_fast(X, centroids, x_sq).argmin(dim=1)
        if assign is not None and bool((new_assign == assign).all()):
            break
        assign = new_assign
        sums = torch.zeros_like(centroids).index_add_(0, assign, X)
        counts = torch.bincount(assign, minlength=len(centroids)).to(X.dtype)
        filled = counts > 0
        centroids = centroids.clone()
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids


def whitening(X: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Whitening matrix ``W``: ``|(x - c) @ W|^2`` is a Mahalanobis distance.

    The covariance is the pooled within-cluster one, shrunk 1% towards its
    diagonal, plus a small ridge (1e-4 of the mean variance) so that it is
    invertible with fewer rows than dimensions or with a constant unit.
    """
    resid = X - centroids[_sq_distances_fast(X, centroids).argmin(dim=1)]
    eye = torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    cov = resid.T @ resid / max(1, len(X) - len(centroids))
    diag = torch.diagonal(cov)
    level = float(diag.mean()) + 1e-12
    cov = 0.99 * cov + 0.01 * torch.diag(diag) + 1e-4 * level * eye
    chol, info = torch.linalg.cholesky_ex(cov)
    if int(info) == 0 and bool(torch.isfinite(chol).all()):
        inv = torch.linalg.solve_triangular(chol, eye, upper=False)
        return inv.T.contiguous()
    return _pseudo_whitening(cov, eye)


def _pseudo_whitening(cov: torch.Tensor, eye: torch.Tensor) -> torch.Tensor:
    """Whitening from the eigenvalues, floored: for a covariance Cholesky cannot factor.

    Units so large that their covariance overflows fall back to plain (Euclidean)
    distances instead of failing the fit.
    """
    if not bool(torch.isfinite(cov).all()):
        return eye.clone()
    try:
        values, vectors = torch.linalg.eigh(cov)
    except RuntimeError:  # no convergence (torch.linalg.LinAlgError)
        return eye.clone()
    floor = max(float(values.max()), 1e-300) * 1e-10
    return (vectors / values.clamp_min(floor).sqrt()).contiguous()


def nearest_distance(
    X: torch.Tensor, centroids: torch.Tensor, whiten: torch.Tensor | None = None
) -> torch.Tensor:
    """Distance of each row to its nearest centroid (Euclidean, or Mahalanobis with ``whiten``)."""
    if whiten is not None:
        X, centroids = X @ whiten, centroids @ whiten
    return _sq_distances(X, centroids).min(dim=1).values.sqrt()
