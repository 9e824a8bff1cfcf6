"""One self-contained HTML report: figures inlined, no network, readable on a phone.

:func:`collect_report` gathers plain data and figures from a fitted detector and
its data; :func:`render_report` turns that into an HTML string. Nothing here
writes files: the caller does.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.report import plots

__all__ = ["ReportData", "collect_report", "render_report"]

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


def _binary(labels: pd.Series | None) -> np.ndarray | None:
    if labels is None:
        return None
    values = pd.to_numeric(labels, errors="coerce").to_numpy()
    if np.isnan(values).any() or set(np.unique(values)) != {0, 1}:
        return None
    return values.astype(int)


def collect_report(
    det: Any,
    features: pd.DataFrame,
    scores: np.ndarray,
    *,
    source: str,
    command: str,
    labels: pd.Series | None = None,
    ids: pd.Series | None = None,
) -> ReportData:
    """Gather the report's content from a fitted detector and the scored rows."""
    from aedetect import __version__
    from aedetect.metrics import evaluate

    hist = det.history_
    enc = det.encoder_
    binary = _binary(labels)
    flagged_mask = scores > det.threshold_
    figures = {
        "Training loss per epoch": plots.loss_plot(
            hist.train_loss, hist.val_loss or None, hist.best_epoch
        ),
        "Score distribution": plots.score_histogram(scores, binary, det.threshold_),
        "Score by row": plots.score_index_plot(scores, det.threshold_, binary),
    }
    if binary is not None:
        figures["ROC curve"] = plots.roc_plot(binary, scores)
        figures["Precision-recall curve"] = plots.pr_plot(binary, scores)
    codes = det.transform(features)
    figures["Latent codes" + (" (PCA)" if codes.shape[1] > 2 else "")] = plots.latent_scatter(
        plots.project_2d(codes), flagged_mask.astype(int), title="Latent codes"
    )
    shape = getattr(det, "image_shape_", None)
    if shape is not None and flagged_mask.any():
        figures["Most anomalous images (below each: its reconstruction)"] = _worst_images(
            det, features, scores, flagged_mask, tuple(shape)
        )
    cats = enc.categorical_columns_
    seqs = list(getattr(enc, "sequences_", {}) or {})
    data_lines = [
        ("Data", source),
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
    if labels is not None:
        data_lines.append(("Labels", f"column '{labels.name}'"))
    widths = [enc.n_features_out_, *det.hidden]
    network = " → ".join(map(str, widths + widths[-2::-1]))
    if getattr(det, "architecture", "dense") == "conv":
        decoder = det.conv_decoder or "mirror"
        network = (
            f"conv {'x'.join(map(str, det.image_shape_))}: encoder "
            f"{','.join(map(str, det.conv_encoder))}, decoder "
            f"{decoder if isinstance(decoder, str) else ','.join(map(str, decoder))}, "
            f"kernel {det.kernel_size}"
        )
    model_lines = [
        ("Network", f"{network} ({_activation(det.activation)}, output {det.output_activation})"),
        (
            "Training",
            f"{len(hist.train_loss)} epochs (best {hist.best_epoch}, "
            f"{'stopped early' if hist.stopped_early else 'ran to the end'}) "
            f"in {hist.seconds:.1f}s",
        ),
        ("Optimiser", f"{det.optimizer}, lr {det.lr}, batch {det.batch_size}, loss {det.loss}"),
        ("Scaling", f"{det.scaling}, inputs clipped at {det.clip} sd" if det.clip else det.scaling),
        ("Threshold", f"{det.threshold_:.6g}: {getattr(det, 'threshold_rule_', '')}"),
        ("Score", _score_words(det)),
        ("Seed", str(det.random_state)),
    ]
    metrics = None
    if binary is not None:
        metrics = evaluate(binary, scores, det.threshold_)
    return ReportData(
        title=f"aedetect report: {source}",
        command=command,
        version=__version__,
        data_lines=data_lines,
        model_lines=model_lines,
        figures={name: plots.figure_png(fig) for name, fig in figures.items()},
        flagged=_flagged_table(det, features, scores, flagged_mask, labels, ids),
        metrics=metrics,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _worst_images(
    det: Any, features: pd.DataFrame, scores: np.ndarray, flagged: np.ndarray, shape: tuple
) -> Any:
    """Draw the most anomalous flagged images above their reconstructions."""
    order = np.argsort(-scores, kind="stable")
    rows = [int(i) for i in order if flagged[i]][:MAX_IMAGES]
    subset = features.iloc[rows]
    recon = np.asarray(det.reconstruct(subset), dtype=np.float64)

    def images(flat: np.ndarray) -> np.ndarray:
        x = flat.reshape(len(flat), *shape)  # (n, c, h, w)
        return x[:, 0] if shape[0] == 1 else np.moveaxis(x, 1, -1)

    titles = [f"row {r + 1}: {scores[r]:.3g}" for r in rows]
    pixels = subset.to_numpy(dtype=np.float64)
    return plots.image_grid(images(pixels), images(recon), titles, title="Most anomalous images")


def _score_words(det: Any) -> str:
    kind = getattr(det, "model", "ae")
    score = getattr(det, "scoring", "reconstruction")
    model = {"ae": "autoencoder", "vae": "variational AE", "conv-vae": "conv variational AE"}
    return f"{score} ({model.get(kind, kind)}); higher = more anomalous"


def _short(names: list[str], n: int = 6) -> list[str]:
    return names[:n] + (["..."] if len(names) > n else [])


def _activation(activation: Any) -> str:
    return activation if isinstance(activation, str) else "/".join(activation)


def _flagged_table(
    det: Any,
    features: pd.DataFrame,
    scores: np.ndarray,
    flagged: np.ndarray,
    labels: pd.Series | None,
    ids: pd.Series | None,
) -> pd.DataFrame:
    order = np.argsort(-scores, kind="stable")
    rows = [int(i) for i in order if flagged[i]][:MAX_FLAGGED]
    if not rows:
        return pd.DataFrame()
    subset = features.iloc[rows].reset_index(drop=True)
    expl = det.explain(subset, top=3)
    why = {
        i: "; ".join(
            f"{r.column}: {_value(r.seen)} → {_value(r.expected)} ({r.share:.0%})"
            for r in part.itertuples()
        )
        for i, part in expl.groupby("row")
    }
    table = pd.DataFrame({"row": [r + 1 for r in rows], "score": scores[rows]})
    # The explanation comes first so that it is on screen on a phone too.
    table["why (seen → expected, share of error)"] = [why.get(i, "") for i in range(len(rows))]
    if ids is not None:
        table[str(ids.name)] = ids.iloc[rows].to_numpy()
    if labels is not None:
        table[str(labels.name)] = labels.iloc[rows].to_numpy()
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
