"""Fitting a detector on a table, opening a model file, scoring a table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.table import Table, binary_labels
from aedetect.exceptions import ConfigError
from aedetect.persistence import load_model, save_detector
from aedetect.pipeline.data import DataRequest, about, check_writable, text_columns

__all__ = ["FitResult", "check_params", "fit", "fit_table", "open_model", "scores_frame"]

EpochCallback = Callable[[int, float, float | None], None]


def check_params(det: Any) -> None:
    """Validate the detector's parameters before any data is read (fail fast)."""
    det.check_params()


def open_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """Load a model file (one read): the detector and the ``extra`` data saved beside it."""
    det, meta = load_model(path)
    return det, meta["extra"]


def adopt_data(det: Any, table: Table) -> None:
    """Use the sequence columns and image shape the data declares, unless set."""
    if table.sequence_columns and not det.sequence_columns:
        det.set_params(sequence_columns=tuple(table.sequence_columns))
    if table.image_shape is not None and det.image_shape is None:
        det.set_params(image_shape=tuple(table.image_shape))


def fit_table(det: Any, table: Table, on_epoch: EpochCallback | None = None) -> None:
    """Fit on the table's fit rows (all rows unless a normal class was picked)."""
    adopt_data(det, table)
    for role, column in (("label", table.labels), ("id", table.ids)):
        if column is not None and column.name in (det.categorical or ()):
            raise ConfigError(
                f"categorical column {column.name!r} is the {role} column, not a feature; "
                "it cannot be both"
            )
    rows = table.features if table.fit_rows is None else table.features[table.fit_rows]
    with about(table.source):
        labels = binary_labels(table.labels)
        if labels is None and table.labels is not None and det.threshold == "f1":
            raise ConfigError(
                f"threshold 'f1' needs 0/1 labels; label column {table.labels.name!r} holds "
                f"{_values(table.labels)}"
            )
        if labels is not None and table.fit_rows is not None:
            labels = labels[table.fit_rows]
        det.fit(rows, labels, on_epoch=on_epoch)


def _values(labels: pd.Series) -> str:
    """Return a few of a label column's distinct values, for a message."""
    distinct = pd.unique(labels.to_numpy())
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in distinct[:5])
    return shown + (", ..." if len(distinct) > 5 else "")


def model_extra(table: Table) -> dict[str, Any]:
    """Return what a model file keeps about its data: id and label columns, source."""
    return {
        "id_column": None if table.ids is None else str(table.ids.name),
        "label_column": None if table.labels is None else str(table.labels.name),
        "data": table.source,
    }


def scores_after_fit(det: Any, table: Table) -> np.ndarray:
    """Scores of every row of the table ``det`` was just fitted on (by :func:`fit_table`).

    Fitted on all rows, they are the training scores ``fit`` kept: no pass
    through the network. Only for the table of the fit that just ran.
    """
    if table.fit_rows is None:
        return np.asarray(det.decision_scores_, dtype=np.float64)
    with about(table.source):
        return det.decision_function(table.features)


def scores_frame(
    det: Any, table: Table, every: bool = False, scores: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per input row: id, ``score``, ``is_anomaly`` (and every score), labels."""
    each = None
    with about(table.source):
        if every:
            each = det.all_scores(table.features)
            scores = each[det.scoring].to_numpy()
        elif scores is None:
            scores = det.decision_function(table.features)
    out = pd.DataFrame({"score": scores, "is_anomaly": (scores > det.threshold_).astype(int)})
    if each is not None:
        for name in each.columns:
            out[name] = each[name].to_numpy()
    if table.ids is not None:
        out.insert(0, str(table.ids.name), table.ids.to_numpy())
    if table.labels is not None:
        name = str(table.labels.name)
        out[f"true_{name}" if name in out.columns else name] = table.labels.to_numpy()
    return out


@dataclass
class FitResult:
    """A fitted detector, the table it was fitted on, and where it was saved."""

    detector: Any
    table: Table
    output: Path
    rows: int | None = None  # rows trained on, when not the table's (a streamed fit)

    def message(self) -> str:
        """Return the one line ``aedetect fit`` prints."""
        det, table = self.detector, self.table
        n_rows = len(table.features) if table.fit_rows is None else int(table.fit_rows.sum())
        streamed = "" if self.rows is None else " streamed"
        n_rows = n_rows if self.rows is None else self.rows
        return (
            f"fitted{streamed} on {n_rows} rows x {table.features.shape[1]} columns in "
            f"{len(det.history_.train_loss)} epochs ({det.history_.seconds:.1f}s); "
            f"threshold {det.threshold_:.4g} flags {int(det.labels_.sum())} training rows; "
            f"model written to {self.output}"
        )


def fit(
    det: Any,
    request: DataRequest,
    output: Path,
    on_epoch: EpochCallback | None = None,
    progress: bool = False,
    stream: bool | None = None,
) -> FitResult:
    """Fit ``det`` on the requested data and save it to ``output``.

    ``stream``: train on a Parquet file or folder without loading it
    (:func:`aedetect.streamfit.fit_parquet`); None: when it is larger than
    :data:`aedetect.streamfit.STREAM_ABOVE` on disk.
    """
    check_params(det)
    check_writable(output)
    if stream or (stream is None and _large_parquet(request)):
        return _fit_streamed(det, request, output, on_epoch)
    table = request.load(progress=progress, text=text_columns(det))
    from aedetect.pipeline.series import is_series

    if is_series(det, request, table):
        from aedetect.pipeline.series_cases import fit_series_data

        return fit_series_data(det, request, table, output, on_epoch)  # type: ignore[return-value]
    fit_table(det, table, on_epoch)
    save_detector(det, output, extra=model_extra(table))
    return FitResult(det, table, output)


def _large_parquet(request: DataRequest) -> bool:
    from aedetect.data.chunks import parquet_files
    from aedetect.streamfit import should_stream

    return request.streams() and bool(parquet_files(request.data)) and should_stream(request.data)


def _fit_streamed(
    det: Any, request: DataRequest, output: Path, on_epoch: EpochCallback | None
) -> FitResult:
    from aedetect.data.chunks import parquet_files, table_rows
    from aedetect.streamfit import fit_parquet

    if not request.streams() or not parquet_files(request.data):
        raise ConfigError(f"stream needs a Parquet file or a folder of them, got {request.data!r}")
    fit_parquet(det, request.data, request.label_column, request.id_column, on_epoch=on_epoch)
    names = [str(n) for n in det.feature_names_in_]
    table = Table(pd.DataFrame(columns=names), source=request.shown)
    extra = {"id_column": request.id_column, "label_column": request.label_column}
    save_detector(det, output, extra={**extra, "data": request.shown})
    return FitResult(det, table, output, rows=table_rows(request.data))
