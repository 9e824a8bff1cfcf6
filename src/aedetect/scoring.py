"""Anomaly scores from a trained autoencoder: reconstruction errors.

Scores are computed chunk by chunk so that memory stays flat on large inputs.
Higher = more anomalous.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

__all__ = ["Bounds", "feature_squared_errors", "reconstruction_scores", "reconstructions"]

CHUNK = 8192
# (low, high) per encoded feature: the network sees inputs clamped to them, and
# errors are measured against the unclamped values.
Bounds = tuple[torch.Tensor, torch.Tensor] | None


def _forward(module: nn.Module, xb: torch.Tensor, bounds: Bounds) -> torch.Tensor:
    return module(xb if bounds is None else xb.clamp(bounds[0], bounds[1]))


def _chunks(X: torch.Tensor, chunk: int) -> Iterator[torch.Tensor]:
    for start in range(0, len(X), chunk):
        yield X[start : start + chunk]


@torch.no_grad()
def reconstructions(
    module: nn.Module, X: torch.Tensor, bounds: Bounds = None, chunk: int = CHUNK
) -> np.ndarray:
    """Reconstructed encoded rows, as a float32 array."""
    module.eval()
    parts = [_forward(module, xb, bounds).cpu().numpy() for xb in _chunks(X, chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, X.shape[1]), dtype=np.float32)


@torch.no_grad()
def reconstruction_scores(
    module: nn.Module,
    X: torch.Tensor,
    weights: torch.Tensor,
    n_columns: int,
    bounds: Bounds = None,
    chunk: int = CHUNK,
) -> np.ndarray:
    """Weighted mean squared reconstruction error per row.

    ``sum_j weights[j] * (x_j - xhat_j) ** 2 / n_columns``: for a purely numeric
    table with unit weights this is the plain per-row MSE.
    """
    module.eval()
    out = [
        ((_forward(module, xb, bounds) - xb).square() @ weights).div(n_columns).cpu()
        for xb in _chunks(X, chunk)
    ]
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


@torch.no_grad()
def feature_squared_errors(
    module: nn.Module, X: torch.Tensor, bounds: Bounds = None, chunk: int = CHUNK
) -> np.ndarray:
    """Unweighted squared error of every encoded feature, shape (n, n_encoded)."""
    module.eval()
    parts = [(_forward(module, xb, bounds) - xb).square().cpu().numpy() for xb in _chunks(X, chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, X.shape[1]), dtype=np.float32)
