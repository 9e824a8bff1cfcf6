"""Score the rows of one request: scores, flags and, when asked, the columns behind them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aedetect.serve.registry import ServedModel
from aedetect.serve.requests import Rows

__all__ = ["score_rows"]


def score_rows(served: ServedModel, rows: Rows, explain: bool = False, top: int = 5) -> dict:
    """Return the response to a scoring request, JSON-ready.

    ``scores`` are the model's (higher = more anomalous), exactly as
    ``aedetect score`` gives them for the same rows; ``is_anomaly`` is 1 above the
    model's threshold. A score too large for a number (a value far outside
    anything seen in training) is ``null``, flagged, and named in ``warnings``.
    With ``explain``, ``explanations`` lists per row the ``top`` columns with the
    largest error, the value seen and the value the model expected.
    """
    det = served.detector
    scores = det.decision_function(rows.features)
    flags = (scores > det.threshold_) | np.isnan(scores)
    warnings = list(rows.warnings)
    bad = np.flatnonzero(~np.isfinite(scores))
    warnings += [f"row {i + 1}: the score is not a finite number" for i in bad[:5]]
    out: dict[str, Any] = {
        "model": served.name,
        "rows": len(scores),
        "threshold": float(det.threshold_),
        "scores": [_number(s) for s in scores.tolist()],
        "is_anomaly": flags.astype(int).tolist(),
    }
    if rows.ids is not None:
        out["ids"] = rows.ids
    if explain:
        out["explanations"] = _explanations(det, rows, top)
    out["warnings"] = warnings
    return out


def _explanations(det: Any, rows: Rows, top: int) -> list[list[dict[str, Any]]]:
    frame = det.explain(rows.features, top=top)
    per_row: list[list[dict[str, Any]]] = [[] for _ in range(len(rows.features))]
    for r in frame.itertuples(index=False):
        per_row[int(r.row)].append(
            {
                "column": str(r.column),
                "seen": _value(r.seen),
                "expected": _value(r.expected),
                "error": _number(float(r.error)),
                "share": _number(float(r.share)),
            }
        )
    return per_row


def _number(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _value(v: Any) -> Any:
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        v = v.item()
    if isinstance(v, float):
        return _number(v)
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)
