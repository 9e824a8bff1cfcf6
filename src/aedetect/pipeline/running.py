"""The run use case: fit, score, write model, CSVs, figures and report, summarise."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.table import Table, binary_labels, why_not_binary
from aedetect.describe import ModelFacts
from aedetect.outputs import write_bytes
from aedetect.persistence import save_detector
from aedetect.pipeline.data import DataRequest, about, check_folder, text_columns, write_csv
from aedetect.pipeline.model import (
    EpochCallback,
    check_params,
    fit_table,
    model_extra,
    scores_after_fit,
    scores_frame,
)
from aedetect.pipeline.reporting import report_input, write_report
from aedetect.staged import staged_folder

__all__ = ["RunResult", "run"]


@dataclass
class RunResult:
    """What ``run`` did: the fitted detector, its table, scores and the files written."""

    detector: Any
    table: Table
    scores: pd.DataFrame
    output_dir: Path
    written: list[str] = field(default_factory=list)
    top: int = 5

    @property
    def report_path(self) -> Path:
        """The HTML report."""
        return self.output_dir / "report.html"

    def summary(self) -> str:
        """Return the summary ``aedetect run`` prints: data, model, threshold, top rows."""
        det, table, scores = self.detector, self.table, self.scores
        lines = [
            f"data       {table.source}: {len(table.features)} rows x "
            f"{table.features.shape[1]} columns",
            f"model      {ModelFacts.from_detector(det).summary_line()}",
            f"threshold  {det.threshold_:.4g}: {int(scores['is_anomaly'].sum())} rows flagged "
            f"({det.threshold_rule_})",
        ]
        metrics = _label_metrics(table, scores["score"].to_numpy())
        if metrics:
            lines.append(metrics)
        lines.append("most anomalous rows (numbered from 1):")
        order = np.argsort(-scores["score"].to_numpy(), kind="stable")
        from aedetect.report.numbers import formats

        write = formats(table.features) if table.features.shape[1] <= 4 else {}
        lines += [_row_line(table, scores, int(i), write) for i in order[: self.top]]
        lines.append(f"written    {self.output_dir}/{', '.join(self.written)}")
        return "\n".join(lines)


def _label_metrics(table: Table, s: np.ndarray) -> str:
    labels, where = binary_labels(table.labels), ""
    if table.fit_rows is not None and labels is not None:  # judge on the held-out rows only
        test = ~table.fit_rows
        labels, s = binary_labels(table.labels[test]), s[test]
        where = f" on the {int(test.sum())} test rows"
    if labels is None:
        if table.labels is None:
            return ""
        return f"labels     no AUROC: {why_not_binary(table.labels)} (see the report)"
    from sklearn.metrics import average_precision_score, roc_auc_score

    return (
        f"labels     AUROC {roc_auc_score(labels, s):.3f}, "
        f"average precision {average_precision_score(labels, s):.3f}{where}"
    )


def _row_line(table: Table, scores: pd.DataFrame, i: int, write: dict[str, Any]) -> str:
    desc = f"  row {i + 1:>6}  score {scores['score'].iloc[i]:.4g}"
    if table.ids is not None:
        desc += f"  {table.ids.name}={table.ids.iloc[i]}"
    if table.labels is not None:
        desc += f"  {table.labels.name}={table.labels.iloc[i]}"
    if "split" in scores.columns:
        desc += f"  ({scores['split'].iloc[i]})"
    if table.features.shape[1] <= 4:  # narrow tables: the values say it best (as the report does)
        desc += "  " + "  ".join(
            f"{k}={write[str(k)](v) if str(k) in write else v}"
            for k, v in table.features.iloc[i].items()
        )
    return desc


def run(
    det: Any,
    request: DataRequest,
    output_dir: Path,
    *,
    command: str = "",
    top: int = 5,
    on_epoch: EpochCallback | None = None,
    progress: bool = False,
) -> RunResult:
    """Fit ``det`` on the data, score it, and write everything to ``output_dir``.

    Writes ``model.aedetect``, ``scores.csv``, ``anomalies.csv``, ``anomalies.png``
    (images), ``latent.png`` (a 2-unit latent) and ``report.html``. After
    fitting, the data goes through the network once for the latent codes, and
    once for the scores only when a one-class split held rows out of the fit.
    """
    check_params(det)
    check_folder(output_dir)
    table = request.load(progress=progress, text=text_columns(det))
    from aedetect.pipeline.series import is_series

    if is_series(det, request, table):
        from aedetect.pipeline.series_cases import run_series

        with staged_folder(output_dir) as out:
            result = run_series(det, request, table, out, command, top, on_epoch)
        result.output_dir = output_dir
        return result
    fit_table(det, table, on_epoch)
    scores = scores_frame(det, table, scores=scores_after_fit(det, table))
    if table.fit_rows is not None:
        scores["split"] = np.where(table.fit_rows, "fit", "test")
    with staged_folder(output_dir) as out:  # the files land together, or none of them
        save_detector(det, out / "model.aedetect", extra=model_extra(table))
        written = _write_tables(table, scores, out)
        with about(table.source):
            codes = det.transform(table.features)
        written += _write_figures(det, table, scores, codes, out)
        inp = report_input(det, table, scores["score"].to_numpy(), command, codes=codes)
        write_report(out / "report.html", inp)
        written.append("report.html")
    return RunResult(det, table, scores, output_dir, written, top)


def _write_tables(table: Table, scores: pd.DataFrame, out: Path) -> list[str]:
    order = np.argsort(-scores["score"].to_numpy(), kind="stable")
    flagged = order[scores["is_anomaly"].to_numpy()[order] == 1]
    shown = table.features.iloc[flagged] if table.image_shape is None else None
    rows = pd.DataFrame({"row": flagged + 1}, index=scores.index[flagged])  # from 1, as errors
    anomalies = pd.concat([rows, scores.iloc[flagged], shown], axis=1)
    write_csv(scores, out / "scores.csv")
    write_csv(anomalies, out / "anomalies.csv")
    return ["model.aedetect", "scores.csv", "anomalies.csv"]


def _write_figures(
    det: Any, table: Table, scores: pd.DataFrame, codes: np.ndarray, out: Path
) -> list[str]:
    from aedetect.report.plots import figure_png, image_grid, latent_scatter

    written = []
    order = np.argsort(-scores["score"].to_numpy(), kind="stable")
    if table.image_shape is not None and len(order):
        top_rows = order[:25]
        pixels = table.features.iloc[top_rows].to_numpy().reshape(-1, *table.image_shape)
        titles = [f"row {i + 1}" for i in top_rows]
        fig = image_grid(pixels, titles=titles, title=f"Most anomalous: {table.source}")
        write_bytes(out / "anomalies.png", figure_png(fig))
        written.append("anomalies.png")
    if codes.shape[1] == 2:  # the 2-unit-latent presets: draw the codes
        names = [" ".join(map(str, row)) for row in table.features.itertuples(index=False)]
        fig = latent_scatter(codes, det.labels_, names, title=f"Latent codes: {table.source}")
        write_bytes(out / "latent.png", figure_png(fig))
        written.append("latent.png")
    return written
