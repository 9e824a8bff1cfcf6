"""The explain use case on a saved model: which columns made rows anomalous, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.sequences import lengths_already_said
from aedetect.data.table import Table
from aedetect.exceptions import ConfigError, DataError
from aedetect.outputs import write_bytes
from aedetect.pipeline.data import DataRequest, about, check_folder
from aedetect.pipeline.model import open_model
from aedetect.report.numbers import formats, number, reason_text

__all__ = ["ExplainResult", "explain"]


@dataclass
class ExplainResult:
    """Explanations of some rows: the frame, the text, the heat maps written."""

    frame: pd.DataFrame
    lines: list[str]
    heatmaps: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Return what ``aedetect explain`` prints."""
        return "\n".join(self.lines)


def explain(
    model: Path,
    request: DataRequest,
    rows: list[int] | None = None,
    reasons: int = 5,
    images_dir: Path | None = None,
    image_shape: tuple[int, int, int] | None = None,
    by: str = "cause",
    top: int = 10,
) -> ExplainResult:
    """Explain rows (numbered from 1; default: the ``top`` most anomalous flagged rows).

    ``reasons`` is how many columns to give per row.

    ``by`` is ``"cause"`` (columns ranked by how far the score falls when each
    alone is set to what the model expects; a category's fall weighed by how
    surprising its seen value is) or ``"error"`` (by reconstruction error). A
    series model always ranks its value columns by the window's reconstruction
    error, and takes neither ``images_dir`` nor ``image_shape``.
    With ``images_dir``, also write ``row-N.png`` heat maps (image,
    reconstruction, per-pixel error) there; ``image_shape`` when the model does
    not know it.
    """
    check_folder(images_dir)
    det, extra = open_model(model)
    if "series" in extra:
        from aedetect.pipeline.series_cases import explain_series

        _series_options(by, images_dir, image_shape)
        return ExplainResult(*explain_series(det, extra, request, rows, reasons, top))
    shape = _explain_shape(image_shape, det) if images_dir is not None else None
    table = request.load_for_model(det, extra)
    with about(table.source):
        chosen = _chosen(det, table, rows, top)
        subset = table.features.iloc[chosen].reset_index(drop=True)
        # Said when all rows were scored; rows asked for are numbered as in the table.
        with lengths_already_said(None if rows is None else [r + 1 for r in chosen]):
            scores = det.decision_function(subset)
            expl = det.explain(subset, top=reasons, by=by)
    expl["row"] = [chosen[i] + 1 for i in expl["row"]]
    written = []
    if shape is not None:
        with about(table.source):
            written = _write_heatmaps(det, subset, chosen, scores, shape, images_dir)
    lines = _lines(det, table, expl, dict(zip((r + 1 for r in chosen), scores, strict=True)), by)
    return ExplainResult(expl, lines, written)


def _series_options(by: str, images_dir: Path | None, image_shape: Any) -> None:
    """Refuse what a series model cannot do: it explains by error and draws no heat maps."""
    from aedetect.attribution import EXPLAIN_BY

    if by not in EXPLAIN_BY:
        raise ConfigError(f"by must be one of {', '.join(EXPLAIN_BY)}, got {by!r}")
    for name, value in (("images_dir", images_dir), ("image_shape", image_shape)):
        if value is not None:
            raise ConfigError(f"{name} needs an image model; this is a series model")


def _chosen(det: Any, table: Table, rows: list[int] | None, top: int) -> list[int]:
    n = len(table.features)
    if rows is None:
        scores = det.decision_function(table.features)
        order = np.argsort(-scores, kind="stable")
        return [int(i) for i in order[:top] if scores[i] > det.threshold_] or [int(order[0])]
    bad = [r for r in rows if not 1 <= r <= n]
    if bad or not rows:
        raise ConfigError(f"rows must be between 1 and {n}, got {bad[0] if bad else rows!r}")
    return [r - 1 for r in rows]


def _lines(
    det: Any, table: Table, expl: pd.DataFrame, scores: dict[int, float], by: str
) -> list[str]:
    fmt = formats(table.features)
    what = (
        "share of the score that goes if the column alone is as the model expects"
        if by == "cause"
        else "share of the row's reconstruction error"
    )
    lines = []
    parts = dict(tuple(expl.groupby("row", sort=False)))
    for row, score in scores.items():
        head = f"row {row}  score {number(score)}" + (
            "  (anomaly)" if score > det.threshold_ else ""
        )
        if table.ids is not None:
            head += f"  {table.ids.name}={table.ids.iloc[row - 1]}"
        if table.features.shape[1] <= 4:
            head += "  " + "  ".join(f"{k}={v}" for k, v in table.features.iloc[row - 1].items())
        lines.append(head)
        part = parts.get(row)
        if part is None:
            lines.append("  no single column stands out")
            continue
        lines.extend("  " + reason_text(r, fmt, by) for r in part.itertuples())
    return [*lines, f"(column: seen → expected; {what})"]


def _explain_shape(shape: tuple[int, ...] | None, det: Any) -> tuple[int, ...]:
    """Return the image shape given, else the model's, checked against its columns."""
    if shape is None:
        shape = getattr(det, "image_shape_", None)
        if shape is None:
            raise ConfigError("images_dir needs the image shape: give image_shape C,H,W")
    size = int(np.prod(shape))
    if size != det.n_features_in_:
        raise ConfigError(
            f"image_shape {','.join(map(str, shape))} holds {size} values, "
            f"but the model has {det.n_features_in_} columns"
        )
    return tuple(shape)


def _write_heatmaps(
    det: Any,
    subset: pd.DataFrame,
    chosen: list[int],
    scores: np.ndarray,
    shape: tuple[int, ...],
    folder: Path,
) -> list[str]:
    from aedetect.report.heatmap import error_heatmap
    from aedetect.report.plots import figure_png

    try:
        images = subset.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("images_dir needs numeric pixel columns") from None
    recon = np.asarray(det.reconstruct(subset), dtype=np.float64)
    errors = det.feature_errors(subset)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for k, row in enumerate(chosen):
        title = f"row {row + 1}, score {number(scores[k])}"
        fig = error_heatmap(images[k], recon[k], errors[k], shape, [title])
        names.append(f"row-{row + 1}.png")
        write_bytes(folder / names[-1], figure_png(fig))
    return names
