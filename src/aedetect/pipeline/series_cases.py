"""fit, score, explain, report and run on a series (``pipeline.series`` loads and describes it).

The table use cases hand over to these when the data or the model file is a series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.series import sliding_windows, window_ends
from aedetect.data.table import Table, binary_labels
from aedetect.describe import ModelFacts
from aedetect.persistence import save_detector
from aedetect.pipeline.data import DataRequest, about, write_csv
from aedetect.pipeline.model import EpochCallback
from aedetect.pipeline.running import RunResult
from aedetect.pipeline.series import (
    SeriesData,
    check_rows,
    chosen_rows,
    explain_lines,
    explanation,
    fit_series,
    fitted_summary,
    load_series,
    open_series,
    resumes,
    score_data,
    series_data,
    series_extra,
    series_frame,
    series_lines,
)
from aedetect.report.html import ReportInput
from aedetect.report.series import SeriesView
from aedetect.series_detector import SeriesDetector, SeriesScores

__all__ = [
    "SeriesFitResult",
    "SeriesRunResult",
    "explain_series",
    "fit_series_data",
    "report_series",
    "run_series",
    "score_series",
]


@dataclass
class SeriesFitResult:
    """A fitted series detector, its series, and where it was saved."""

    detector: SeriesDetector
    data: SeriesData
    output: Path

    def message(self) -> str:
        """Return the one line ``aedetect fit`` prints."""
        return f"{fitted_summary(self.detector, self.data)}; model written to {self.output}"


def _request_data(request: DataRequest, table: Table) -> SeriesData:
    return series_data(table, request.time_column, request.value_column)


def fit_series_data(
    det: Any, request: DataRequest, table: Table, output: Path, on_epoch: EpochCallback | None
) -> SeriesFitResult:
    """Fit on a loaded series and save the model file (window model + series state)."""
    data = _request_data(request, table)
    sd = fit_series(det, data, on_epoch)
    save_detector(sd.detector_, output, extra=series_extra(sd, data))
    return SeriesFitResult(sd, data, output)


def _open(model: Any, extra: dict[str, Any], request: DataRequest) -> tuple[Any, Any, Any, bool]:
    det = open_series(model, extra)
    data = load_series(request, extra)
    resume = resumes(extra, data)
    return det, data, score_data(det, data, resume), resume


def score_series(model: Any, extra: dict[str, Any], request: DataRequest) -> pd.DataFrame:
    """Score a series with a saved series model: a continuation resumes where fit stopped."""
    det, data, out, _ = _open(model, extra, request)
    return series_frame(det, data, out)


def explain_series(
    model: Any,
    extra: dict[str, Any],
    request: DataRequest,
    rows: list[int] | None,
    reasons: int,
    top: int = 10,
) -> tuple[pd.DataFrame, list[str]]:
    """Explain rows of a series (from 1; default: the flagged rows): channel, time range."""
    det, data, out, _ = _open(model, extra, request)
    check_rows(rows, len(data.values))
    if rows:
        chosen = [r - 1 for r in rows]
    else:  # a continuation's first rows end no window of DATA alone: they cannot be shown
        picked = chosen_rows(det, out, top)
        chosen = [r for r in picked if r >= det.window_ - 1] or picked
    expl = explanation(det, data, chosen, reasons)
    lines = explain_lines(det, data, expl, out)
    frame = expl.assign(row=expl["row"] + 1, score=out.scores[expl["row"].to_numpy()])
    return frame.drop(columns=["start", "end", "peak"]), lines


def series_report_input(
    det: SeriesDetector, data: SeriesData, out: SeriesScores, extra: dict[str, Any], command: str
) -> ReportInput:
    """Return the report's input for a series: rows, scores, flags, explanations."""
    from aedetect import __version__

    flags = det.flags(out)
    scores = out.scores
    low = np.nanmin(scores) if np.isfinite(scores).any() else 0.0
    filled = np.where(np.isnan(scores), low, scores)  # rows before the first window
    order = np.argsort(-filled, kind="stable")
    rows = [int(i) for i in order if flags[i]][:20]
    expl = None
    if rows:
        e = explanation(det, data, [r for r in rows if r >= det.window_ - 1], 2)
        position = {r: k for k, r in enumerate(rows)}
        spans = zip(e["channel"], e["start_time"], e["end_time"], strict=True)
        expl = pd.DataFrame(
            {
                "row": [position[int(r)] for r in e["row"]],
                "column": [f"{c} {a} .. {b}" for c, a, b in spans],
                "seen": e["seen"],
                "expected": e["expected"],
                "share": e["share"],
            }
        )
    with about(data.source):
        codes = _row_codes(det, data)
    view = SeriesView(
        times=None if data.times is None else data.times.to_numpy(),
        values=data.values,
        scores=scores,
        flags=flags,
        threshold=det.threshold_,
        labels=binary_labels(data.labels),
        lines=series_lines(extra) + [("notes", n) for n in data.notes],
    )
    frame = data.values
    if data.times is not None:  # the rows' times as the file wrote them
        shown = data.times if data.shown_times is None else data.shown_times
        frame = frame.assign(**{str(data.time_column): shown})
    return ReportInput(
        source=data.source,
        command=command,
        version=__version__,
        rows=frame,
        scores=filled,
        threshold=float(det.threshold_),
        history=det.detector_.history_.to_dict(),
        model_lines=_window_model_lines(det),
        codes=codes,
        explanation=expl,
        labels=data.labels,
        ids=data.ids,
        series=view,
        flagged=rows,
    )


def _window_model_lines(det: SeriesDetector) -> list[tuple[str, str]]:
    """Return the window model's card, its own threshold (on window errors) said as such."""
    lines = ModelFacts.from_detector(det.detector_).report_lines()
    return [
        ("Window threshold", f"{v} (on window errors; the series' threshold is in Data)")
        if k == "Threshold"
        else (k, v)
        for k, v in lines
    ]


def _row_codes(det: SeriesDetector, data: SeriesData) -> np.ndarray:
    """Latent code per row: the latest window ending at or before it (the first for early rows)."""
    n = len(data.values)
    windows = sliding_windows(det._scaled(data.values.to_numpy(float)), det.window_, det.stride_)
    codes = det.detector_.transform(windows)
    k = np.searchsorted(window_ends(n, det.window_, det.stride_), np.arange(n), side="right") - 1
    return codes[np.maximum(k, 0)]


def report_series(
    model: Any, extra: dict[str, Any], request: DataRequest, output: Path, command: str
) -> Path:
    """Write the HTML report of a saved series model on a series."""
    from aedetect.pipeline.reporting import write_report

    det, data, out, _ = _open(model, extra, request)
    write_report(output, series_report_input(det, data, out, extra, command))
    return output


@dataclass
class SeriesRunResult(RunResult):
    """What ``run`` did on a series: :class:`RunResult` plus the series and its settings."""

    data: SeriesData | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """Return the summary ``aedetect run`` prints."""
        det, data, scores = self.detector, self.data, self.scores
        assert data is not None  # set by run_series
        lines = [
            f"data       {data.source}: {len(data.values)} rows x {data.values.shape[1]} value "
            f"column(s) ({', '.join(det.channels_)})",
            f"model      {ModelFacts.from_detector(det.detector_).summary_line()}",
        ]
        lines += [f"{k:<10} {v}" for k, v in series_lines(self.extra) if k != "training"]
        lines.append(f"flagged    {int(scores['is_anomaly'].sum())} rows")
        labels = binary_labels(data.labels)
        s = scores["score"].to_numpy()
        ok = ~np.isnan(s)
        if labels is not None and len(set(labels[ok])) == 2:
            from sklearn.metrics import average_precision_score, roc_auc_score

            lines.append(
                f"labels     AUROC {roc_auc_score(labels[ok], s[ok]):.3f}, average precision "
                f"{average_precision_score(labels[ok], s[ok]):.3f} (rows with a score)"
            )
        lines.append("most anomalous rows (numbered from 1, in time order):")
        order = np.argsort(-np.nan_to_num(s, nan=-np.inf), kind="stable")[: self.top]
        for i in order:
            when = f"  {data.time_text(int(i))}" if data.times is not None else ""
            flag = "  flagged" if scores["is_anomaly"].iloc[i] else ""
            lines.append(f"  row {i + 1:>6}{when}  score {s[i]:.4g}{flag}")
        lines.append(f"written    {self.output_dir}/{', '.join(self.written)}")
        return "\n".join(lines)


def run_series(
    det: Any,
    request: DataRequest,
    table: Table,
    output_dir: Path,
    command: str,
    top: int,
    on_epoch: EpochCallback | None,
) -> SeriesRunResult:
    """Fit on a series, score it, write the model, CSVs, the series figures and the report.

    ``output_dir`` exists (``run`` passes its staged folder).
    """
    from aedetect.pipeline.reporting import write_report

    data = _request_data(request, table)
    sd = fit_series(det, data, on_epoch)
    extra = series_extra(sd, data)
    out = sd.score_series(data.values)  # the training scores, with their alarms
    frame = series_frame(sd, data, out)
    save_detector(sd.detector_, output_dir / "model.aedetect", extra=extra)
    write_csv(frame, output_dir / "scores.csv")
    flagged = frame[frame["is_anomaly"] == 1]
    anomalies = pd.concat([flagged, data.values.loc[flagged.index]], axis=1)
    anomalies.insert(0, "row", flagged.index + 1)
    write_csv(anomalies, output_dir / "anomalies.csv")
    written = ["model.aedetect", "scores.csv", "anomalies.csv"]
    write_report(output_dir / "report.html", series_report_input(sd, data, out, extra, command))
    written.append("report.html")
    return SeriesRunResult(sd, table, frame, output_dir, written, top, data, extra)
