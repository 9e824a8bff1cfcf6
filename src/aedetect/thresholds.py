"""Thresholds that turn scores into 0/1 labels: ``fit(scores) -> self``, ``threshold_``."""

from __future__ import annotations

import numpy as np

from aedetect.exceptions import ConfigError

__all__ = ["ContaminationThreshold", "check_contamination"]


def check_contamination(contamination: float) -> float:
    """Validate a contamination share: a number in (0, 0.5]."""
    ok = isinstance(contamination, (int, float)) and not isinstance(contamination, bool)
    if not ok or not 0.0 < float(contamination) <= 0.5:
        raise ConfigError(f"contamination must be in (0, 0.5], got {contamination!r}")
    return float(contamination)


class ContaminationThreshold:
    """Threshold at the ``1 - contamination`` quantile of training scores.

    Parameters
    ----------
    contamination : float, default=0.1
        Expected share of anomalies in the training data, in (0, 0.5].
    """

    def __init__(self, contamination: float = 0.1) -> None:
        self.contamination = contamination

    def fit(self, scores: np.ndarray) -> ContaminationThreshold:
        """Set ``threshold_`` from training scores."""
        q = 1.0 - check_contamination(self.contamination)
        self.threshold_ = float(np.quantile(np.asarray(scores, dtype=np.float64), q))
        return self
