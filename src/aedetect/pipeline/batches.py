"""Scoring pandas DataFrames from a model file, the model loaded once per process.

The building block for engines that hand a Python worker batches of rows as
pandas DataFrames (Spark's ``mapInPandas``, Ray Data's ``map_batches``, Dask's
``map_partitions``): every batch is scored exactly as ``aedetect score``
scores rows (:func:`aedetect.pipeline.scores_frame`), and the model file is
read once per worker process however many batches it scores (again if the file
changes). Nothing here imports an engine.

Scores are bit-identical to ``aedetect score``'s for batches that hold whole
multiples of 8192 rows (its scoring blocks); other batch sizes can round a row's
score differently in the last float32 bits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from aedetect.data.readers import split_columns
from aedetect.pipeline.data import DataRequest
from aedetect.pipeline.model import open_model, scores_frame

__all__ = ["ModelScorer", "cached_model", "score_batches"]

_lock = threading.Lock()
_models: dict[tuple[str, int, int], tuple[Any, dict[str, Any]]] = {}
LOADS = [0]  # model files loaded by this process (what "once per worker" is tested on)


def cached_model(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Return the detector of the model file ``path`` and its ``extra``, loaded once per process.

    The file is read again when its size or modification time changes; one
    model is kept per process.
    """
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size)
    with _lock:
        if key not in _models:
            _models.clear()
            _models[key] = open_model(Path(path))
            LOADS[0] += 1
        return _models[key]


class ModelScorer:
    """A callable that scores a pandas DataFrame with a saved model.

    Parameters
    ----------
    model_path : path
        Model file written by ``aedetect fit`` / :func:`aedetect.save`; every
        worker must be able to read it.
    all_scores : bool, default=False
        Also every score the model can give, one column each.
    label_column, id_column : str, optional
        Kept out of the features and copied to the output; default: the
        model's, when a batch has them.

    Examples
    --------
    >>> scorer = ModelScorer("model.aedetect")  # doctest: +SKIP
    >>> scorer(frame)  # doctest: +SKIP
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        all_scores: bool = False,
        label_column: str | None = None,
        id_column: str | None = None,
    ) -> None:
        self.model_path = os.fspath(model_path)
        self.all_scores = all_scores
        self.label_column = label_column
        self.id_column = id_column
        cached_model(self.model_path)  # load now: a Ray actor loads it once, when it starts

    def columns(self, names: Iterable[Any]) -> tuple[str | None, str | None]:
        """Return the label and id columns used for a batch with columns ``names``."""
        _, extra = cached_model(self.model_path)
        request = DataRequest("", label_column=self.label_column, id_column=self.id_column)
        return request.model_columns(names, extra)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score ``frame``: the id column, ``score``, ``is_anomaly`` (0/1), other scores, label.

        Higher scores are more anomalous. The result keeps ``frame``'s index.
        """
        det, _ = cached_model(self.model_path)
        label, id_ = self.columns(frame.columns)
        table = split_columns(frame.reset_index(drop=True), "", label, id_)
        out = scores_frame(det, table, self.all_scores)
        out.index = frame.index
        return out


def score_batches(
    model_path: str | os.PathLike[str],
    batches: Iterable[pd.DataFrame],
    all_scores: bool = False,
    label_column: str | None = None,
    id_column: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Score each DataFrame of ``batches`` in turn (Spark's ``mapInPandas`` shape).

    See :class:`ModelScorer` for the parameters; empty batches are skipped.
    """
    scorer = ModelScorer(model_path, all_scores, label_column, id_column)
    for frame in batches:
        if len(frame):
            yield scorer(frame)
