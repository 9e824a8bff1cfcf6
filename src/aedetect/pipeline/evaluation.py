"""The evaluate use case: metrics of a scores file against known labels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.readers import read_table
from aedetect.exceptions import ConfigError, DataError
from aedetect.outputs import write_bytes
from aedetect.pipeline.data import check_folder, write_csv
from aedetect.staged import staged_folder

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """Metrics of scores against labels, and where they were written."""

    metrics: dict[str, Any]
    scores: Path
    output_dir: Path | None = None

    def text(self) -> str:
        """Return what ``aedetect evaluate`` prints."""
        m = self.metrics
        lines = [
            f"evaluated {m['n']} rows of {self.scores}, {m['n_anomalies']} known anomalies",
            f"AUROC              {m['auroc']:.4f}",
            f"average precision  {m['average_precision']:.4f}",
            f"PR-AUC             {m['pr_auc']:.4f}",
            f"threshold          {m['threshold']:.6g} ({m['threshold_rule']})",
            f"precision          {m['precision']:.4f}",
            f"recall             {m['recall']:.4f}",
            f"F1                 {m['f1']:.4f}",
            f"precision at {m['k']:<5} {m['precision_at_k']:.4f}",
            f"confusion          TP {m['tp']}  FP {m['fp']}  FN {m['fn']}  TN {m['tn']}",
            f"separation         {_undefined(m['separation'])}  "
            "((mu_in - mu_out)^2 / (var_in + var_out))",
        ]
        if self.output_dir is not None:
            lines.append(
                f"written to {self.output_dir}: metrics.json, sweep.csv, histogram/roc/pr/sweep.png"
            )
        return "\n".join(lines)

    def json(self) -> str:
        """Return the metrics as strict JSON: a value that is not finite is null."""
        return json.dumps(finite_or_none(self.metrics), indent=2)


def finite_or_none(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics`` with every float that is not finite (``inf``, NaN) as None."""
    return {
        k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in metrics.items()
    }


def _undefined(value: float) -> str:
    if np.isnan(value):
        return "undefined (no variance, equal means)"
    return f"{value:.4g}" + (" (no variance)" if np.isinf(value) else "")


def evaluate(
    scores: Path,
    labels: str,
    score_column: str = "score",
    threshold: str | None = None,
    top_k: int | None = None,
    step: float | None = None,
    output_dir: Path | None = None,
) -> Evaluation:
    """Evaluate a scores file against labels (a column of it, or FILE / FILE:COLUMN).

    The threshold is the rule given, else the model's own (read from an
    ``is_anomaly`` column), else ``contamination:0.1``. With ``output_dir``, also
    write metrics.json, sweep.csv and the ROC, PR, histogram and sweep plots.
    """
    from aedetect.metrics import check_labels, threshold_sweep
    from aedetect.metrics import evaluate as evaluate_scores

    if step is not None and not step > 0:
        raise ConfigError(f"step must be > 0, got {step}")
    check_folder(output_dir)
    frame = read_table(scores)
    if score_column not in frame.columns:
        raise DataError(f"{scores}: no column {score_column!r} (columns: {_columns(frame)})")
    values = pd.to_numeric(frame[score_column], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values))[0])
        cell = frame[score_column].iloc[row]
        what = "has no value" if pd.isna(cell) else f"{str(cell)!r} is not a finite number"
        raise DataError(f"{scores}: column {score_column!r} row {row + 1}: {what}")
    truth = _labels_for(labels, frame, scores)
    try:
        y, s = check_labels(truth.to_numpy(), values)
    except DataError as exc:
        raise DataError(f"{truth.name}: {exc}") from None
    if top_k is not None and not 1 <= top_k <= len(y):
        raise ConfigError(f"top_k must be between 1 and {len(y)} (the rows), got {top_k}")
    thr, rule = _evaluation_threshold(threshold, frame, y, s)
    metrics = evaluate_scores(y, s, thr, k=top_k)
    metrics["threshold_rule"] = rule
    if output_dir is not None:
        with staged_folder(output_dir) as out:  # the files land together, or none of them
            _write_evaluation(out, metrics, y, s, threshold_sweep(y, s, step=step))
    return Evaluation(metrics, scores, output_dir)


def _columns(frame: pd.DataFrame) -> str:
    names = list(map(str, frame.columns))
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _labels_for(spec: str, frame: pd.DataFrame, scores: Path) -> pd.Series:
    """Labels from a column of the scores file, or from FILE / FILE:COLUMN."""
    if spec in frame.columns and not Path(spec).is_file():
        # `aedetect score` renames a label column that clashes with its own
        # is_anomaly flags to true_<name>: the known labels are there.
        name = f"true_{spec}" if f"true_{spec}" in frame.columns else spec
        return frame[name].rename(f"{scores}: column {name!r}")
    path, column = Path(spec), None
    if not path.is_file() and ":" in spec:
        head, _, column = spec.rpartition(":")
        path = Path(head)
    if not path.is_file():
        raise DataError(
            f"labels {spec!r} is neither a column of {scores} ({_columns(frame)}) nor a file"
        )
    table = read_table(path)
    if column is None:
        if table.shape[1] != 1:
            raise DataError(f"{path}: has {table.shape[1]} columns; name one: labels {path}:COLUMN")
        column = str(table.columns[0])
    if column not in table.columns:
        raise DataError(f"{path}: no column {column!r} (columns: {_columns(table)})")
    if len(table) != len(frame):
        raise DataError(f"{path}: has {len(table)} rows but {scores} has {len(frame)}")
    _check_same_order(table, frame, column, path, scores)
    return table[column].rename(f"{path}: column {column!r}")


def _check_same_order(
    table: pd.DataFrame, frame: pd.DataFrame, label: str, path: Path, scores: Path
) -> None:
    """Refuse a labels file whose columns shared with SCORES (ids) are in another order."""
    for name in table.columns:
        if name == label or name not in frame.columns or name in ("score", "is_anomaly"):
            continue
        mine, theirs = table[name].astype(str).to_numpy(), frame[name].astype(str).to_numpy()
        differ = np.flatnonzero(mine != theirs)
        if differ.size:
            row = int(differ[0])
            raise DataError(
                f"{path}: column {name!r} row {row + 1} is {mine[row]!r} where {scores} has "
                f"{theirs[row]!r}; labels are matched to scores by row: put both in one order"
            )


def _evaluation_threshold(
    text: str | None, frame: pd.DataFrame, y: np.ndarray, s: np.ndarray
) -> tuple[float, str]:
    """Fit the chosen rule; by default reuse the model's flags in an is_anomaly column."""
    from aedetect.thresholds import parse_threshold

    if text is None and "is_anomaly" in frame.columns:
        flags = pd.to_numeric(frame["is_anomaly"], errors="coerce").to_numpy()
        if set(np.unique(flags)) <= {0, 1} and flags.max() == 1 and flags.min() == 0:
            return float(s[flags == 0].max()), "the model's threshold (is_anomaly column)"
    rule = parse_threshold(text or "contamination:0.1")
    if rule.needs_labels:
        rule.fit(s, y)
    elif rule.needs_normal_scores:
        rule.fit(s[y == 0])
    else:
        rule.fit(s)
    return rule.threshold_, rule.describe()


def _write_evaluation(
    out: Path, metrics: dict[str, Any], y: np.ndarray, s: np.ndarray, sweep: pd.DataFrame
) -> None:
    from aedetect.report import plots

    write_bytes(out / "metrics.json", json.dumps(finite_or_none(metrics), indent=2).encode())
    write_csv(sweep, out / "sweep.csv")
    thr = metrics["threshold"]
    figures = {
        "histogram.png": plots.score_histogram(s, y, thr),
        "roc.png": plots.roc_plot(y, s),
        "pr.png": plots.pr_plot(y, s),
        "sweep.png": plots.sweep_plot(sweep),
    }
    for name, fig in figures.items():
        write_bytes(out / name, plots.figure_png(fig))
