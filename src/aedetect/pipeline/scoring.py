"""The score use case on a saved model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aedetect.exceptions import ConfigError
from aedetect.pipeline.data import DataRequest
from aedetect.pipeline.model import open_model, scores_frame

__all__ = ["score"]


def score(model: Path, request: DataRequest, all_scores: bool = False) -> pd.DataFrame:
    """Score every row of the requested data with a saved model (one row per input row)."""
    det, extra = open_model(model)
    if "series" in extra:
        from aedetect.pipeline.series_cases import score_series

        if all_scores:
            raise ConfigError("all_scores needs a table model; a series model gives one score")
        return score_series(det, extra, request)
    table = request.load_for_model(det, extra)
    return scores_frame(det, table, every=all_scores)
