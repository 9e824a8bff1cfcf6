"""One self-contained HTML report: figures inlined, no network, readable on a phone.

:func:`collect_report` turns plain report input (scores, latent codes,
explanations, filled by :mod:`aedetect.pipeline`) into cards and figures;
:func:`render_report` turns that into an HTML string. Nothing here runs a model
or writes files.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.table import binary_labels
from aedetect.report import plots
from aedetect.report.series import SeriesView, series_figures

__all__ = ["ReportData", "ReportInput", "collect_report", "flagged_rows", "render_report"]

MAX_FLAGGED = 20
MAX_VALUE_COLUMNS = 8
MAX_IMAGES = 10


@dataclass
class ReportData:
    """Everything the report shows, as plain data."""

    title: str
    command: str
    version: str
    data_lines: list[tuple[str, str]]
    model_lines: list[tuple[str, str]]
    figures: dict[str, bytes] = field(default_factory=dict)
    flagged: pd.DataFrame | None = None
    metrics: dict[str, Any] | None = None
    generated: str = ""


@dataclass
class ReportInput:
    """What the use-case layer hands the report: arrays and frames, no model.

    ``rows`` are the rows reported on and ``scores`` their scores; ``codes``
    their latent codes; ``explanation`` explains the rows of
    :func:`flagged_rows` (its ``row`` is the position in that list);
    ``reconstructions`` are those rows' reconstructions, for images.
    """

    source: str
    command: str
    version: str
    rows: pd.DataFrame
    scores: np.ndarray
    threshold: float
    history: Mapping[str, Any]
    model_lines: list[tuple[str, str]]
    codes: np.ndarray
    explanation: pd.DataFrame | None
    labels: pd.Series | None = None
    ids: pd.Series | None = None
    categorical: Sequence[str] = ()
    sequences: Sequence[str] = ()
    image_shape: tuple[int, ...] | None = None
    reconstructions: np.ndarray | None = None
    # A series: its figures and settings; ``flagged`` (positions, highest score first)
    # then replaces the rows above the threshold (a series flags one row per burst).
    series: SeriesView | None = None
    flagged: list[int] | None = None


def flagged_rows(scores: np.ndarray, threshold: float, limit: int = MAX_FLAGGED) -> list[int]:
    """Positions of the most anomalous rows above ``threshold``, highest score first."""
    order = np.argsort(-scores, kind="stable")
    return [int(i) for i in order if scores[i] > threshold][:limit]


def collect_report(inp: ReportInput) -> ReportData:
    """Turn the report's input into its cards, figures and tables."""
    from aedetect.metrics import evaluate

    scores, thr, hist = inp.scores, inp.threshold, inp.history
    binary = binary_labels(inp.labels)
    flagged_mask = scores > thr
    if inp.series is not None:
        flagged_mask = np.asarray(inp.series.flags, dtype=bool)
    figures = {
        "Training loss per epoch": plots.loss_plot(
            hist["train_loss"], hist.get("val_loss") or None, hist["best_epoch"]
        ),
        "Score distribution": plots.score_histogram(scores, binary, thr),
        "Score by row": plots.score_index_plot(scores, thr, binary),
    }
    if binary is not None:
        figures["ROC curve"] = plots.roc_plot(binary, scores)
        figures["Precision-recall curve"] = plots.pr_plot(binary, scores)
    codes = inp.codes
    figures["Latent codes" + (" (PCA)" if codes.shape[1] > 2 else "")] = plots.latent_scatter(
        plots.project_2d(codes), flagged_mask.astype(int), title="Latent codes"
    )
    if inp.series is not None:
        figures.update(series_figures(inp.series))
    rows = flagged_rows(scores, thr) if inp.flagged is None else inp.flagged
    if inp.image_shape is not None and inp.reconstructions is not None and rows:
        figures["Most anomalous images (below each: its reconstruction)"] = _worst_images(
            inp, rows[:MAX_IMAGES]
        )
    return ReportData(
        title=f"aedetect report: {inp.source}",
        command=inp.command,
        version=inp.version,
        data_lines=_data_lines(inp, flagged_mask),
        model_lines=list(inp.model_lines),
        figures={name: plots.figure_png(fig) for name, fig in figures.items()},
        flagged=_flagged_table(inp, rows),
        metrics=None if binary is None else evaluate(binary, scores, thr),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _data_lines(inp: ReportInput, flagged_mask: np.ndarray) -> list[tuple[str, str]]:
    features, cats, seqs = inp.rows, list(inp.categorical), list(inp.sequences)
    lines = [
        ("Data", inp.source),
        ("Rows", f"{len(features):,}"),
        (
            "Columns",
            f"{features.shape[1]} ({features.shape[1] - len(cats) - len(seqs)} numeric"
            + (f", categorical: {', '.join(_short(cats))}" if cats else "")
            + (f", sequences: {', '.join(seqs)}" if seqs else "")
            + ")",
        ),
        ("Flagged", f"{int(flagged_mask.sum()):,} rows ({flagged_mask.mean():.2%})"),
    ]
    if inp.labels is not None:
        lines.append(("Labels", f"column '{inp.labels.name}'"))
    if inp.series is not None:
        lines += [(k.capitalize(), v) for k, v in inp.series.lines]
    return lines


def _worst_images(inp: ReportInput, rows: list[int]) -> Any:
    """Draw the most anomalous flagged images above their reconstructions."""
    shape = tuple(inp.image_shape or ())

    def images(flat: np.ndarray) -> np.ndarray:
        x = flat.reshape(len(flat), *shape)  # (n, c, h, w)
        return x[:, 0] if shape[0] == 1 else np.moveaxis(x, 1, -1)

    recon = np.asarray(inp.reconstructions, dtype=np.float64)[: len(rows)]
    titles = [f"row {r + 1}: {inp.scores[r]:.3g}" for r in rows]
    pixels = inp.rows.iloc[rows].to_numpy(dtype=np.float64)
    return plots.image_grid(images(pixels), images(recon), titles, title="Most anomalous images")


def _short(names: list[str], n: int = 6) -> list[str]:
    return names[:n] + (["..."] if len(names) > n else [])


def _flagged_table(inp: ReportInput, rows: list[int]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    features = inp.rows
    subset = features.iloc[rows].reset_index(drop=True)
    expl = inp.explanation if inp.explanation is not None else pd.DataFrame(columns=["row"])
    why = {
        i: "; ".join(
            f"{r.column}: {_value(r.seen)} → {_value(r.expected)} ({r.share:.0%})"
            for r in part.itertuples()
        )
        for i, part in expl.groupby("row")
    }
    table = pd.DataFrame({"row": [r + 1 for r in rows], "score": inp.scores[rows]})
    # The explanation comes first so that it is on screen on a phone too.
    table["why (seen → expected, share of error)"] = [why.get(i, "") for i in range(len(rows))]
    if inp.ids is not None:
        table[str(inp.ids.name)] = inp.ids.iloc[rows].to_numpy()
    if inp.labels is not None:
        table[str(inp.labels.name)] = inp.labels.iloc[rows].to_numpy()
    if features.shape[1] <= MAX_VALUE_COLUMNS:
        for col in features.columns:
            table[str(col)] = subset[col].to_numpy()
    return table


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


# ------------------------------------------------------------------ render
_CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.15em;margin:1.4em 0 .5em;border-bottom:1px solid
#dde1e7;padding-bottom:.2em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}dt{color:#5b6475}
dd{margin:0;overflow-wrap:anywhere}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px}
figure img{width:100%;height:auto;display:block}figcaption{font-size:.9em;color:#5b6475}
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e7;border-radius:8px}
table{border-collapse:collapse;font-size:.9em;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top;
white-space:nowrap}td.why{white-space:normal;min-width:22em}
th{background:#eef1f5;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px}
.metric{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px;text-align:center}
.metric b{display:block;font-size:1.3em}
pre{background:#1d2330;color:#e8ebf0;padding:10px;border-radius:8px;overflow-x:auto;
white-space:pre-wrap;word-break:break-all}
footer{color:#5b6475;font-size:.85em;margin:2em 0 1em}
"""


def render_report(data: ReportData) -> str:
    """Render :class:`ReportData` as one self-contained HTML page."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(data.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{esc(data.title)}</h1>",
        "<div class='cards'>",
        _card("Data", data.data_lines),
        _card("Model and training", data.model_lines),
        "</div>",
    ]
    if data.metrics is not None:
        parts.append("<h2>Metrics (labels known)</h2>" + _metrics(data.metrics))
    parts.append("<h2>Figures</h2><div class='figs'>")
    for name, png in data.figures.items():
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        parts.append(
            f"<figure><img alt='{esc(name)}' src='{uri}'><figcaption>{esc(name)}</figcaption>"
            "</figure>"
        )
    parts.append("</div>")
    parts.append(f"<h2>Most anomalous flagged rows (up to {MAX_FLAGGED})</h2>")
    parts.append(_table(data.flagged))
    parts.append("<h2>Reproduce</h2><pre>" + esc(data.command) + "</pre>")
    parts.append(
        f"<footer>aedetect {esc(data.version)} · generated {esc(data.generated)} · rows are "
        "numbered from 1 (the first data row)</footer></main></body></html>"
    )
    return "\n".join(parts)


def _card(title: str, lines: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in lines)
    return f"<div class='card'><h2>{html.escape(title)}</h2><dl>{items}</dl></div>"


def _metrics(m: dict[str, Any]) -> str:
    shown = [
        ("AUROC", f"{m['auroc']:.3f}"),
        ("Average precision", f"{m['average_precision']:.3f}"),
        ("PR-AUC", f"{m['pr_auc']:.3f}"),
        ("F1 at threshold", f"{m['f1']:.3f}"),
        ("Precision", f"{m['precision']:.3f}"),
        ("Recall", f"{m['recall']:.3f}"),
        (f"Precision@{m['k']}", f"{m['precision_at_k']:.3f}"),
        ("TP / FP / FN / TN", f"{m['tp']} / {m['fp']} / {m['fn']} / {m['tn']}"),
    ]
    cells = "".join(
        f"<div class='metric'>{html.escape(k)}<b>{html.escape(v)}</b></div>" for k, v in shown
    )
    return f"<div class='metrics'>{cells}</div>"


def _table(frame: pd.DataFrame | None) -> str:
    if frame is None or frame.empty:
        return "<p>No row is above the threshold.</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            numeric = isinstance(v, (int, float, np.integer, np.floating))
            text = _value(v) if numeric else str(v)
            cls = " class='num'" if numeric else ""
            if len(text) > 40:
                cls = " class='why'"
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>"
