"""Robust refitting (``refit``): fit again on the rows the previous fit calls normal.

The training table usually holds its anomalies, and an autoencoder learns to rebuild
a group of them once they are among its training rows. With ``refit=k`` the
detector, after its first fit, scores its training rows, leaves out those beyond the
default threshold rule's fence (``iqr:1.5`` on the training scores) or, when
``contamination`` is given, the worst ``contamination`` share, and trains the same
network further (another ``epochs``, early stopping as before) on the rest; ``k``
times. (A fresh network, same seed, on the kept rows measured worse on ADBench:
BENCHMARKS.md.) The final network's scorer and threshold are fitted on every
training row, so ``decision_scores_`` and ``labels_`` cover the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from aedetect.thresholds import threshold_rule

__all__ = ["kept_rows", "passes"]


def kept_rows(scores: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Mask of the rows a refit trains on: at or below the drop rule's threshold.

    The drop rule is the default threshold rule (or the ``contamination``
    quantile), whatever ``threshold`` says: a fixed value or an F1-optimal cut
    says nothing about which rows to trust.
    """
    rule = threshold_rule(
        None, params["contamination"], params["scoring"], params["ensemble_method"]
    )
    return np.asarray(scores <= float(rule.fit(scores).threshold_))


def _subset(idx: torch.Tensor | None, keep: np.ndarray) -> torch.Tensor | None:
    if idx is None:
        return None
    out = idx[torch.from_numpy(keep[idx.numpy()])]
    return out if len(out) else None


def passes(
    detector: Any, params: Mapping[str, Any], train_idx: torch.Tensor, val_idx: torch.Tensor | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, torch.nn.Module | None]]:
    """Yield each pass's training rows, validation rows and the network to train further.

    First every row and a fresh network (None); then ``params["refit"]`` times
    the rows the detector's current ``decision_scores_`` call normal and its
    current network. A refit that would leave nothing out (or fewer than 2
    training rows) ends the passes: it would only train longer.
    """
    yield train_idx, val_idx, None
    for _ in range(int(params["refit"])):
        keep = kept_rows(detector.decision_scores_, params)
        kept_train = _subset(train_idx, keep)
        if bool(keep.all()) or kept_train is None or len(kept_train) < 2:
            return
        yield kept_train, _subset(val_idx, keep), detector.module_
