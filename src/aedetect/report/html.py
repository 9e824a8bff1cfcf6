"""One self-contained HTML report: figures inlined, no network, readable on a phone.

:func:`collect_report` turns plain report input (scores, latent codes,
explanations, filled by :mod:`aedetect.pipeline`) into cards and figures;
:func:`render_report` turns that into an HTML string. Nothing here runs a model
or writes files.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.table import binary_labels, why_not_binary
from aedetect.report import plots
from aedetect.report.numbers import column_format, formats, number, reason_text
from aedetect.report.series import SeriesView, series_figures

__all__ = ["ReportData", "ReportInput", "collect_report", "flagged_rows", "render_report"]

MAX_FLAGGED = 20
MAX_VALUE_COLUMNS = 8
MAX_IMAGES = 8


@dataclass
class Plot:
    """One figure of the report: inline SVG, drawn at the size it is shown, and its caption."""

    svg: str
    caption: str


@dataclass
class ReportData:
    """Everything the report shows, as plain data."""

    title: str
    command: str
    version: str
    data_lines: list[tuple[str, str]]
    model_lines: list[tuple[str, str]]
    figures: dict[str, Plot] = field(default_factory=dict)
    flagged: pd.DataFrame | None = None
    metrics: dict[str, Any] | None = None
    generated: str = ""
    # Why there are no metrics, when there are none.
    no_metrics: str = ""


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

    binary = binary_labels(inp.labels)
    rows = flagged_rows(inp.scores, inp.threshold) if inp.flagged is None else inp.flagged
    figures = {
        name: Plot(plots.figure_svg(fig, f"f{i}"), caption)
        for i, (name, (fig, caption)) in enumerate(_figures(inp, binary, rows).items())
    }
    return ReportData(
        title=f"aedetect report: {inp.source}",
        command=inp.command,
        version=inp.version,
        data_lines=_data_lines(inp, _flag_mask(inp)),
        model_lines=list(inp.model_lines),
        figures=figures,
        flagged=_flagged_table(inp, rows),
        metrics=None if binary is None else evaluate(binary, inp.scores, inp.threshold),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        no_metrics="" if binary is not None else _why_no_metrics(inp.labels),
    )


def _flag_mask(inp: ReportInput) -> np.ndarray:
    """Return the flagged rows: above the threshold, or a series' flags (one per burst)."""
    if inp.series is not None:
        return np.asarray(inp.series.flags, dtype=bool)
    return np.asarray(inp.scores) > inp.threshold


def _figures(inp: ReportInput, binary: np.ndarray | None, rows: list[int]) -> dict[str, Any]:
    """Each figure with its caption, in the order shown; captions say what the axes are."""
    scores, thr, hist = inp.scores, inp.threshold, inp.history
    flagged = _flag_mask(inp)
    figures = {
        "Training loss per epoch": (
            plots.loss_plot(
                hist["train_loss"], hist.get("val_loss") or None, hist["best_epoch"], title=""
            ),
            "Training loss (y) per epoch (x); the dotted line marks the epoch whose weights "
            "were kept.",
        ),
        "Score distribution": (
            plots.score_histogram(scores, binary, thr, title=""),
            "Rows per score bin (y, log scale) against the score (x); rows right of the "
            + (
                "dashed threshold are flagged."
                if inp.series is None
                else "dashed threshold are above it (a series flags the first row of a burst)."
            ),
        ),
        "Score by row": (
            plots.score_index_plot(scores, thr, binary, title="", flagged=flagged),
            "Each row's score (y) against its row number (x).",
        ),
    }
    if binary is not None:
        figures["ROC curve"] = (
            plots.roc_plot(binary, scores, title=""),
            "True-positive rate (y: share of the anomalies flagged) against false-positive "
            "rate (x: share of the normal rows flagged) as the threshold moves.",
        )
        figures["Precision-recall curve"] = (
            plots.pr_plot(binary, scores, title=""),
            "Precision (y: share of flagged rows that are anomalies) against recall (x: share "
            "of the anomalies flagged) as the threshold moves; dotted: the share of anomalies.",
        )
    wide = inp.codes.shape[1] > 2
    axes = ("PC 1", "PC 2") if wide else ("latent unit 1", "latent unit 2")
    name = "Latent codes (PCA)" if wide else "Latent codes"
    figures[name] = (
        plots.latent_scatter(
            plots.project_2d(inp.codes), flagged, title="", known=binary, axes=axes
        ),
        f"The {inp.codes.shape[1]}-unit latent code of each row"
        + (", projected on its first two principal components (PC 1, PC 2)." if wide else "."),
    )
    if inp.series is not None:
        for name, fig in series_figures(inp.series).items():
            figures[name] = (
                fig,
                "The series' values (top) and each row's score (bottom) "
                "against time; flagged rows and labelled windows marked.",
            )
    if inp.image_shape is not None and inp.reconstructions is not None and rows:
        figures["Most anomalous images"] = (
            _worst_images(inp, rows[:MAX_IMAGES]),
            "Each flagged image (row number and score above it) over its reconstruction.",
        )
    return figures


def _why_no_metrics(labels: pd.Series | None) -> str:
    if labels is None:
        return (
            "No metrics: the data has no label column (label_column names one holding "
            "0/1, 1 = anomaly)."
        )
    return (
        f"No metrics: {why_not_binary(labels)}. Give a 0/1 column, or pick the normal "
        "classes (--normal; normal= in Python) to make a one-class problem with 0/1 labels."
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
    titles = [f"row {r + 1}\n{number(float(f'{inp.scores[r]:.3g}'))}" for r in rows]
    pixels = inp.rows.iloc[rows].to_numpy(dtype=np.float64)
    return plots.image_grid(images(pixels), images(recon), titles, title="")


def _short(names: list[str], n: int = 6) -> list[str]:
    return names[:n] + (["..."] if len(names) > n else [])


WHY = "why (column: seen → expected, share of the score it explains)"


def _flagged_table(inp: ReportInput, rows: list[int]) -> pd.DataFrame:
    """Write the flagged rows as text, each number for people, alike down a column."""
    if not rows:
        return pd.DataFrame()
    features = inp.rows
    subset = features.iloc[rows].reset_index(drop=True)
    fmt = formats(features)
    expl = inp.explanation if inp.explanation is not None else pd.DataFrame(columns=["row"])
    why = {
        i: "; ".join(reason_text(r, fmt, quote=False) for r in part.itertuples())
        for i, part in expl.groupby("row")
    }
    score = column_format(inp.scores[rows], smallest=True)
    table = pd.DataFrame({"row": [f"{r + 1:,}" for r in rows]})
    table["score"] = [score(v) for v in inp.scores[rows]]
    # The explanation comes first so that it is on screen on a phone too.
    table[WHY] = [why.get(i, "no single column stands out") for i in range(len(rows))]
    if inp.ids is not None:
        table[str(inp.ids.name)] = [str(v) for v in inp.ids.iloc[rows]]
    if inp.labels is not None:
        table[str(inp.labels.name)] = [str(v) for v in inp.labels.iloc[rows]]
    if features.shape[1] <= MAX_VALUE_COLUMNS:
        for col in features.columns:
            write = fmt.get(str(col), str)
            table[str(col)] = [write(v) for v in subset[col]]
    return table


# ------------------------------------------------------------------ render
_CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.3em 0;overflow-wrap:anywhere}h2{font-size:1.15em;margin:1.4em 0 .5em;
border-bottom:1px solid #dde1e7;padding-bottom:.2em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}dt{color:#5b6475}
dd{margin:0;overflow-wrap:anywhere}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 10px;font-size:.95em}
.legend span{white-space:nowrap}.dot{display:inline-block;width:.8em;height:.8em;
border-radius:50%;margin-right:.35em;vertical-align:-.05em}.ring{background:none!important;
border:2px solid}.dash{display:inline-block;width:1.4em;border-top:2px dashed #222;
margin-right:.35em;vertical-align:.3em}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px}
figure label{display:block;cursor:zoom-in}.plot svg{display:block;width:100%;height:auto}
.plot svg text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif}
figcaption{font-size:.9em;color:#4a5263}figcaption b{color:#1d2330}
.zoom{position:absolute;opacity:0;pointer-events:none}
.zoom:checked+.plot{position:fixed;inset:0;z-index:10;background:rgba(246,247,249,.97);
display:flex;align-items:center;justify-content:center;padding:2vmin;cursor:zoom-out}
.zoom:checked+.plot svg{width:auto;height:auto;max-width:96vw;max-height:96vh;
min-width:min(96vw,calc(96vh*1.3))}
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e7;border-radius:8px}
table{border-collapse:collapse;font-size:.9em;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
td{white-space:nowrap}td.why{white-space:normal;min-width:16em;overflow-wrap:break-word}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:640px){.rows table,.rows tbody,.rows tr{display:block}
.rows tr.head{display:none}.rows tr{border-bottom:1px solid #dde1e7;padding:6px 0}
.rows td{display:inline-block;border:0;padding:1px 10px 1px 10px;white-space:normal;
min-width:0;text-align:left}.rows td.why{display:block;padding:2px 10px 4px}
.rows td::before{content:attr(data-label) ": ";color:#5b6475}
.rows td.why::before{content:"";display:none}}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px}
.metric{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px;text-align:center}
.metric b{display:block;font-size:1.3em}
pre{background:#1d2330;color:#e8ebf0;padding:10px;border-radius:8px;overflow-x:auto;
white-space:pre-wrap;overflow-wrap:anywhere}
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
    else:
        parts.append(f"<h2>Metrics</h2><p>{esc(data.no_metrics)}</p>")
    parts.append("<h2>Figures</h2>" + _legend() + "<div class='figs'>")
    for name, plot in data.figures.items():
        parts.append(
            f"<figure><label title='click to enlarge, click again to close'>"
            f"<input type='checkbox' class='zoom' aria-label='enlarge {esc(name)}'>"
            f"<span class='plot'>{plot.svg}</span></label>"
            f"<figcaption><b>{esc(name)}</b>. {esc(plot.caption)}</figcaption></figure>"
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


def _legend() -> str:
    """Return the one legend every plot follows (a colour means one thing in all)."""
    items = [
        f"<span><i class='dot' style='background:{plots.NORMAL}'></i>normal row</span>",
        f"<span><i class='dot' style='background:{plots.FLAGGED}'></i>flagged: score above "
        "the threshold</span>",
        f"<span><i class='dot ring' style='border-color:{plots.KNOWN}'></i>known anomaly "
        f"(label; filled <i class='dot' style='background:{plots.KNOWN}'></i>in the "
        "histogram)</span>",
        "<span><i class='dash'></i>threshold</span>",
    ]
    return "<p class='legend'>" + "".join(items) + " · click a figure to enlarge it</p>"


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
        (f"Precision@{m['k']:,}", f"{m['precision_at_k']:.3f}"),
        ("TP / FP / FN / TN", f"{m['tp']:,} / {m['fp']:,} / {m['fn']:,} / {m['tn']:,}"),
    ]
    cells = "".join(
        f"<div class='metric'>{html.escape(k)}<b>{html.escape(v)}</b></div>" for k, v in shown
    )
    return f"<div class='metrics'>{cells}</div>"


def _table(frame: pd.DataFrame | None) -> str:
    """Render the flagged rows (already text): a table, one card per row on a phone."""
    if frame is None or frame.empty:
        return "<p>No row is above the threshold.</p>"
    esc = html.escape
    names = [str(c) for c in frame.columns]
    head = "".join(f"<th>{esc(c)}</th>" for c in names)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for name, v in zip(names, row, strict=True):
            text = str(v)
            if name == WHY:  # one reason a line
                label, shown = "why", "<br>".join(esc(part) for part in text.split("; "))
                cells.append(f"<td class='why' data-label='{label}'>{shown}</td>")
                continue
            cls = "num" if _looks_numeric(text) else ""
            cells.append(f"<td class='{cls}' data-label='{esc(name)}'>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<div class='scroll rows'><table><tr class='head'>{head}</tr>{''.join(body)}</table></div>"
    )


def _looks_numeric(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "").lstrip("-").isdigit()
