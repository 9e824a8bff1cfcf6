"""Evaluation of scores against known 0/1 labels (1 = anomaly = positive).

All functions take plain arrays: ``labels`` (0/1) and ``scores`` (higher = more
anomalous). A row is flagged when its score is above the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

from aedetect.exceptions import ConfigError, DataError

__all__ = [
    "check_labels",
    "confusion",
    "evaluate",
    "precision_at_k",
    "separation",
    "threshold_sweep",
]


def check_labels(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores: same length, labels 0/1 with both present."""
    y = np.asarray(labels).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise DataError(f"labels have {len(y)} rows but scores have {len(s)}")
    if not np.isfinite(s).all():
        row = int(np.flatnonzero(~np.isfinite(s))[0]) + 1
        raise DataError(f"score in row {row} is not a finite number")
    outside = ~pd.Series(y).isin([0, 1]).to_numpy()
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        bad = y[row]
        shown = "no value" if pd.isna(bad) else repr(bad.item() if hasattr(bad, "item") else bad)
        raise DataError(f"labels must be 0/1 (1 = anomaly); row {row + 1} has {shown}")
    y = y.astype(np.int64)
    if y.min() == y.max():
        raise DataError(f"labels are all {y[0]}: need both normal (0) and anomalous (1) rows")
    return y, s


def confusion(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, int]:
    """True/false positives and negatives at ``threshold`` (flagged = score > threshold)."""
    flagged = scores > threshold
    pos = labels == 1
    return {
        "tp": int((flagged & pos).sum()),
        "fp": int((flagged & ~pos).sum()),
        "fn": int((~flagged & pos).sum()),
        "tn": int((~flagged & ~pos).sum()),
    }


def precision_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of anomalies among the ``k`` highest scores."""
    k = max(1, min(int(k), len(scores)))
    top = np.argsort(-scores, kind="stable")[:k]
    return float(labels[top].mean())


def separation(labels: np.ndarray, scores: np.ndarray) -> float:
    """Compute reference A's separation statistic ``(mu_in - mu_out)^2 / (var_in + var_out)``.

    Without any variance it is infinite when the means differ, NaN (undefined)
    when they do not.
    """
    inl, out = scores[labels == 0], scores[labels == 1]
    var, gap = inl.var() + out.var(), (inl.mean() - out.mean()) ** 2
    if var > 0:
        return float(gap / var)
    return float("inf") if gap > 0 else float("nan")


def evaluate(labels: Any, scores: Any, threshold: float, k: int | None = None) -> dict[str, Any]:
    """Every metric of a scored, labelled set at one threshold.

    Parameters
    ----------
    labels : array-like of 0/1
        Known labels, 1 = anomaly.
    scores : array-like of float
        Anomaly scores, higher = more anomalous.
    threshold : float
        Rows with a score above it are flagged.
    k : int, optional
        For precision at k; default the number of known anomalies.

    Returns
    -------
    dict
        ``auroc``, ``average_precision``, ``pr_auc`` (trapezoidal area under the
        precision-recall curve), ``precision``, ``recall``, ``f1`` (at the
        threshold), ``k``, ``precision_at_k``, ``tp``, ``fp``, ``fn``, ``tn``,
        ``separation``, ``threshold``, ``n``, ``n_anomalies``.
    """
    y, s = check_labels(labels, scores)
    counts = confusion(y, s, threshold)
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision, recall, _ = precision_recall_curve(y, s)
    k = int(y.sum()) if k is None else int(k)
    return {
        "auroc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
        "pr_auc": float(auc(recall, precision)),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn else 0.0,
        "k": k,
        "precision_at_k": precision_at_k(y, s, k),
        **counts,
        "separation": separation(y, s),
        "threshold": float(threshold),
        "n": len(y),
        "n_anomalies": int(y.sum()),
    }


def threshold_sweep(
    labels: Any,
    scores: Any,
    step: float | None = None,
    n_points: int = 1000,
    start: float | None = None,
) -> pd.DataFrame:
    """Sweep thresholds as reference A did: per threshold, what is rejected and F1.

    Parameters
    ----------
    labels, scores : array-like
        0/1 labels (1 = outlier) and scores.
    step : float, optional
        Spacing of the thresholds from the lowest to the highest score (reference
        A used 0.001 on MNIST MSE). Default: ``n_points`` evenly spaced ones.
    n_points : int, default=1000
        Number of thresholds when ``step`` is not given.
    start : float, optional
        First threshold (reference A started at 0); default the lowest score.
        The last threshold is at or above the highest score.

    Returns
    -------
    DataFrame
        ``threshold``, ``outliers_rejected`` (share of outliers above it: recall),
        ``inliers_rejected`` (share of inliers above it: false-positive rate),
        ``precision``, ``f1`` (``tp / (tp + 0.5 (fp + fn))``, outliers positive).
    """
    y, s = check_labels(labels, scores)
    lo, hi = float(s.min()) if start is None else float(start), float(s.max())
    if step is not None:
        if not step > 0:
            raise ConfigError(f"step must be > 0, got {step}")
        count = int(np.ceil((hi - lo) / step - 1e-9)) + 1
        if count > 1_000_000:
            raise DataError(
                f"step {step} gives {count:,} thresholds between {lo:.4g} and {hi:.4g}; "
                "use a larger step"
            )
        thresholds = lo + step * np.arange(count)
    else:
        thresholds = np.linspace(lo, hi, max(2, int(n_points)))
    out_sorted = np.sort(s[y == 1])
    in_sorted = np.sort(s[y == 0])
    # Rows above t = n - (rows <= t).
    tp = len(out_sorted) - np.searchsorted(out_sorted, thresholds, side="right")
    fp = len(in_sorted) - np.searchsorted(in_sorted, thresholds, side="right")
    fn = len(out_sorted) - tp
    flagged = tp + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(flagged > 0, tp / np.maximum(flagged, 1), 1.0)
        f1 = tp / (tp + 0.5 * (fp + fn))
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "outliers_rejected": tp / len(out_sorted),
            "inliers_rejected": fp / len(in_sorted),
            "precision": precision,
            "f1": np.nan_to_num(f1),
        }
    )
