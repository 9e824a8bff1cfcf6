"""The report use case: fill the report's plain input from a model and its data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aedetect.data.sequences import lengths_already_said
from aedetect.data.table import Table
from aedetect.describe import ModelFacts
from aedetect.outputs import write_bytes
from aedetect.pipeline.data import DataRequest, about, check_writable
from aedetect.pipeline.model import open_model
from aedetect.report.html import ReportInput, collect_report, flagged_rows, render_report

__all__ = ["report", "report_input", "write_report"]


def _version() -> str:
    from aedetect import __version__

    return __version__


def report_input(
    det: Any,
    table: Table,
    scores: np.ndarray,
    command: str,
    codes: np.ndarray | None = None,
) -> ReportInput:
    """Everything the report shows, computed once from the model: codes, explanations.

    A one-class split is judged on its held-out rows. ``codes`` are the latent
    codes of every row of ``table`` when the caller has them already.
    """
    features, labels, ids, source = table.features, table.labels, table.ids, table.source
    if table.fit_rows is not None:  # a one-class split: judge on the held-out rows
        test = ~np.asarray(table.fit_rows, dtype=bool)
        features, scores = features[test], scores[test]
        labels = None if labels is None else labels[test]
        ids = None if ids is None else ids[test]
        codes = None if codes is None else codes[test]
        source = f"{source} (the {int(test.sum()):,} held-out rows)"
    with about(table.source):
        if codes is None:
            codes = det.transform(features)
        rows = flagged_rows(scores, det.threshold_)
        subset = features.iloc[rows].reset_index(drop=True)
        with lengths_already_said():  # every row was scored above
            explanation = det.explain(subset, top=3) if rows else None
            shape = getattr(det, "image_shape_", None)
            recon = None
            if shape is not None and rows:
                recon = np.asarray(det.reconstruct(subset), dtype=np.float64)
    enc = det.encoder_
    return ReportInput(
        source=source,
        command=command,
        version=_version(),
        rows=features,
        scores=scores,
        threshold=float(det.threshold_),
        history=det.history_.to_dict(),
        model_lines=ModelFacts.from_detector(det).report_lines(),
        codes=codes,
        explanation=explanation,
        labels=labels,
        ids=ids,
        categorical=list(enc.categorical_columns_),
        sequences=list(getattr(enc, "sequences_", {}) or {}),
        image_shape=None if shape is None else tuple(shape),
        reconstructions=recon,
    )


def write_report(path: Path, inp: ReportInput) -> None:
    """Render the report and write it to ``path``, atomically."""
    write_bytes(path, render_report(collect_report(inp)).encode("utf-8"))


def report(model: Path, request: DataRequest, output: Path, command: str = "") -> Path:
    """Write one self-contained HTML report of a saved model on the requested data."""
    check_writable(output)
    det, extra = open_model(model)
    if "series" in extra:
        from aedetect.pipeline.series_cases import report_series

        return report_series(det, extra, request, output, command)
    table = request.load_for_model(det, extra)
    with about(table.source):
        scores = det.decision_function(table.features)
    write_report(output, report_input(det, table, scores, command))
    return output
