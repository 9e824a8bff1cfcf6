"""Scales for combining scores: ranks, z-scores and z-scores of logs among training scores.

Each function takes the sorted training scores of one score and new values of it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["log_stats", "logz", "rank", "zscore"]


def _log_floor(train_sorted: np.ndarray) -> float:
    positive = train_sorted[train_sorted > 0]
    return 1e-3 * float(np.median(positive)) if len(positive) else 1e-300


def log_stats(train_sorted: np.ndarray) -> tuple[float, float, float]:
    """Floor, mean and standard deviation of the logs of the training scores."""
    floor = _log_floor(train_sorted)
    logs = np.log(np.maximum(train_sorted, floor))
    return floor, float(logs.mean()), float(logs.std()) or 1.0


def logz(train_sorted: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Return ``s``'s logs standardised by the training scores' logs (floored)."""
    floor, mean, sd = log_stats(train_sorted)
    return (np.log(np.maximum(s, floor)) - mean) / sd


def rank(train_sorted: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Share of training scores below ``s`` (mid-rank).

    Continued linearly above the training maximum, in training standard
    deviations, so that items beyond every training score stay ordered.
    """
    n = len(train_sorted)
    below = np.searchsorted(train_sorted, s, "left") + np.searchsorted(train_sorted, s, "right")
    rank = below / (2.0 * n)
    spread = float(np.std(train_sorted)) or 1.0
    return rank + np.maximum(0.0, s - train_sorted[-1]) / spread


def zscore(train_sorted: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Return ``s`` standardised by the training scores' mean and standard deviation."""
    return (s - float(np.mean(train_sorted))) / (float(np.std(train_sorted)) or 1.0)
