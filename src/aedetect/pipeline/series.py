"""The use cases on a time series: fit, score (or continue), explain, report, run.

A DATA argument is a series when a time column is named (``time_column``) or
declared by the data set (``nab:``), when value columns are named
(``value_column``), or when the detector is a :class:`SeriesDetector` (a
``window``, ``stride`` or a window model such as ``conv1d`` was asked for). Rows
are put in time order (and said so), gaps in time are reported, and the model
file keeps the window, stride, channels, time column and the scoring stream's
state, so that ``score`` continues a series where ``fit`` stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.frames import looks_numeric, parse_numeric
from aedetect.data.series import TimeCheck, parse_time, to_times, window_ends
from aedetect.data.table import Table, binary_labels
from aedetect.describe import series_lines
from aedetect.exceptions import ConfigError, DataError
from aedetect.pipeline.data import DataRequest, about
from aedetect.series_detector import SeriesDetector, SeriesScores

__all__ = [
    "SeriesData",
    "is_series",
    "series_data",
    "series_detector",
    "series_extra",
    "series_frame",
    "series_lines",
]

log = logging.getLogger("aedetect")
MAX_GAPS_SHOWN = 3


@dataclass
class SeriesData:
    """A series in time order: value columns, times, labels and ids, what was checked.

    ``times`` are parsed (naive, UTC where the file gave a zone); ``shown_times`` are
    the same rows' time values as the file wrote them, for outputs and messages.
    """

    values: pd.DataFrame
    times: pd.Series | None
    labels: pd.Series | None
    ids: pd.Series | None
    source: str
    time_column: str | None = None
    check: TimeCheck | None = None
    notes: list[str] = field(default_factory=list)
    shown_times: pd.Series | None = None

    def time_text(self, row: int) -> str:
        """Return the time of a row (0-based) as the file wrote it, or ``row N``."""
        if self.times is None:
            return f"row {row + 1}"
        return str((self.times if self.shown_times is None else self.shown_times).iloc[row])


def is_series(det: Any, request: DataRequest, table: Table | None = None) -> bool:
    """Whether the use case is on a series (see the module's docstring)."""
    return (
        isinstance(det, SeriesDetector)
        or request.time_column is not None
        or request.value_column is not None
        or (table is not None and table.time_column is not None)
    )


def series_detector(det: Any) -> SeriesDetector:
    """``det`` as a :class:`SeriesDetector` (a table detector becomes its window model)."""
    return det if isinstance(det, SeriesDetector) else SeriesDetector(det)


def _names(text: str | None) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()] if text else []


def series_data(
    table: Table,
    time_column: str | None = None,
    value_columns: str | list[str] | None = None,
    given: bool = True,
) -> SeriesData:
    """Turn a table into a series: parse and sort the time column, pick the value columns.

    Value columns default to every numeric column but the time column. Unsorted rows
    are sorted (logged); gaps longer than 1.5 times the usual step are logged.
    ``given``: the value columns were asked for (else they are the model's), for messages.
    """
    if time_column == "":
        raise ConfigError("time_column must name a column, got ''")
    frame = table.features
    time_column = time_column or table.time_column
    wanted = _names(value_columns) if isinstance(value_columns, str | None) else value_columns
    if isinstance(value_columns, str) and not wanted:
        raise ConfigError(f"value_column must name columns, comma-separated, got {value_columns!r}")
    extra = {"__label": table.labels, "__id": table.ids}
    frame = frame.assign(**{k: v.to_numpy() for k, v in extra.items() if v is not None})
    _check_values(table, wanted, time_column, given)
    check = None
    if time_column:  # the values as written travel with their rows (sorted with them)
        frame = frame.assign(__time=frame[time_column] if time_column in frame else None)
        frame, check = parse_time(frame, time_column, table.source, sort=True, duplicates=True)
    notes = _time_notes(table.source, time_column, check)
    for note in notes:
        log.warning("%s", note)
    if not wanted:
        wanted = [
            str(c)
            for c in table.features.columns
            if c != time_column
            and (pd.api.types.is_numeric_dtype(frame[c]) or looks_numeric(frame[c]))
        ]
        if not wanted:
            raise DataError(f"{table.source}: no numeric column to use as the series' values")
        left = [str(c) for c in table.features.columns if c != time_column and str(c) not in wanted]
        if left:
            shown = ", ".join(repr(c) for c in left[:5]) + (" ..." if len(left) > 5 else "")
            log.warning("%s: text column(s) %s left out of the series' values", table.source, shown)
    for name in wanted:  # text in a value column: named by its row in the file
        if not pd.api.types.is_numeric_dtype(frame[name]):
            with about(table.source):
                parse_numeric(table.features[name], name)
            frame[name] = parse_numeric(frame[name], name)
    labels, ids = (
        None if table.labels is None else frame["__label"].rename(table.labels.name),
        None if table.ids is None else frame["__id"].rename(table.ids.name),
    )
    times = frame[time_column].reset_index(drop=True) if time_column else None
    shown = frame["__time"].rename(time_column).reset_index(drop=True) if time_column else None
    values = frame[wanted].reset_index(drop=True)
    return SeriesData(values, times, labels, ids, table.source, time_column, check, notes, shown)


def _check_values(
    table: Table, wanted: list[str], time_column: str | None, given: bool = True
) -> None:
    """Refuse value columns named twice, the time, label or id column, or not in the data."""
    whose = "value_column" if given else "the model's value column"
    if len(set(wanted)) < len(wanted):
        twice = next(n for n in wanted if wanted.count(n) > 1)
        raise ConfigError(
            f"value_column {','.join(wanted)!r} names {twice!r} twice: name each column once"
        )
    roles = {"time_column": time_column}
    roles.update({f"{k}_column": None if v is None else v.name for k, v in _ided(table)})
    for name in wanted:
        role = next((k for k, v in roles.items() if v is not None and str(v) == name), None)
        if role is not None:
            raise ConfigError(f"{role} {name!r} is also {whose} {name!r}: give a column one role")
        if name not in table.features.columns:
            raise DataError(f"{table.source}: {whose} {name!r} is not a column")


def _ided(table: Table) -> list[tuple[str, pd.Series | None]]:
    return [("label", table.labels), ("id", table.ids)]


def _time_notes(source: str, time_column: str | None, check: TimeCheck | None) -> list[str]:
    if check is None:
        return []
    notes = []
    if check.sorted:
        notes.append(f"{source}: rows were not in time order; sorted by {time_column!r}")
    if check.repeated:
        shown = ", ".join(f"row {row} ({t})" for row, t in check.repeated[:MAX_GAPS_SHOWN])
        notes.append(
            f"{source}: {len(check.repeated)} row(s) repeat the timestamp before them: {shown}"
        )
    if check.gaps:
        shown = ", ".join(
            f"before row {row} ({a} -> {b})" for row, a, b in check.gaps[:MAX_GAPS_SHOWN]
        )
        more = f" and {len(check.gaps) - MAX_GAPS_SHOWN} more" if len(check.gaps) > 3 else ""
        notes.append(
            f"{source}: {len(check.gaps)} gap(s) in {time_column!r} longer than 1.5x the "
            f"usual step {_duration(check.step)}: {shown}{more} (rows numbered in time order)"
        )
    return notes


def series_extra(det: SeriesDetector, data: SeriesData) -> dict[str, Any]:
    """Return what the model file keeps beside the window model (its ``extra``)."""
    check = data.check
    return {
        "id_column": None if data.ids is None else str(data.ids.name),
        "label_column": None if data.labels is None else str(data.labels.name),
        "data": data.source,
        "series": {
            **det.to_extra(),
            "time_column": data.time_column,
            "last_time": None if data.times is None else data.time_text(len(data.times) - 1),
            "step": None if check is None or check.step is None else _duration(check.step),
            "gaps": 0 if check is None else len(check.gaps),
        },
    }


def _duration(step: pd.Timedelta) -> str:
    """``5min``, ``1h``, ``1D``: a step as pandas writes a frequency."""
    try:
        text = pd.tseries.frequencies.to_offset(step).freqstr
    except ValueError:
        return str(step)
    return text if text[:1].isdigit() else f"1{text}"


def open_series(det: Any, extra: dict[str, Any]) -> SeriesDetector | None:
    """Return the saved series detector of a model file, or None for a table model."""
    if "series" not in extra:
        return None
    return SeriesDetector.from_extra(det, extra["series"])


def load_series(request: DataRequest, extra: dict[str, Any]) -> SeriesData:
    """Load DATA as the series a saved model was fitted on (its time and value columns)."""
    saved = extra["series"]
    table = request.load_for_model(None, extra)
    time_column = saved.get("time_column") if request.time_column is None else request.time_column
    if time_column is not None and time_column not in table.features.columns:
        if request.time_column is None:
            time_column = None  # the saved one is not in this file: row order is time
    given = request.value_column is not None
    return series_data(
        table, time_column, request.value_column if given else saved["channels"], given
    )


def resumes(extra: dict[str, Any], data: SeriesData) -> bool:
    """Whether DATA continues the training series: its first time is after the last one."""
    last = extra["series"].get("last_time")
    if last is None or data.times is None or not len(data.times):
        return False
    return bool(data.times.iloc[0] > to_times(pd.Series([last])).iloc[0])  # (NaT: False)


def score_data(det: SeriesDetector, data: SeriesData, resume: bool) -> SeriesScores:
    """Score a loaded series (whole, or continuing the training series)."""
    with about(data.source):
        if resume:
            log.info("%s continues the training series: scored from where fit stopped", data.source)
        return det.score_series(data.values, resume=resume)


def series_frame(det: SeriesDetector, data: SeriesData, out: SeriesScores) -> pd.DataFrame:
    """One row per input row, in time order: time, id, ``score``, ``is_anomaly``, labels."""
    frame = pd.DataFrame({"score": out.scores, "is_anomaly": det.flags(out)})
    if data.ids is not None:
        frame.insert(0, str(data.ids.name), data.ids.to_numpy())
    if data.times is not None:
        times = data.times if data.shown_times is None else data.shown_times
        frame.insert(0, str(data.time_column), times.to_numpy())
    if data.labels is not None:
        name = str(data.labels.name)
        frame[f"true_{name}" if name in frame.columns else name] = data.labels.to_numpy()
    return frame


def check_rows(rows: list[int] | None, n: int) -> None:
    """Refuse row numbers (from 1) outside the series."""
    if rows is None:
        return
    bad = [r for r in rows if not 1 <= r <= n]
    if bad or not rows:
        raise ConfigError(f"rows must be between 1 and {n}, got {bad[0] if bad else rows!r}")


def chosen_rows(det: SeriesDetector, out: SeriesScores, limit: int = 10) -> list[int]:
    """Return the flagged rows (0-based), highest score first; else the highest-scoring row."""
    flags = det.flags(out).astype(bool)
    scores = np.nan_to_num(out.scores, nan=-np.inf)
    order = np.argsort(-scores, kind="stable")
    picked = [int(i) for i in order if flags[i]][:limit]
    return picked or [int(order[0])]


def explanation(det: SeriesDetector, data: SeriesData, rows: list[int], top: int) -> pd.DataFrame:
    """Explain rows (0-based): channel, time range and peak of the largest errors."""
    with about(data.source):
        expl = det.explain_rows(data.values, rows, top)
    for col in ("start", "end", "peak"):
        expl[f"{col}_time"] = [data.time_text(int(r)) for r in expl[col]]
    return expl


def explain_lines(
    det: SeriesDetector, data: SeriesData, expl: pd.DataFrame, out: SeriesScores
) -> list[str]:
    """Return what ``explain`` prints for a series: per row, its channels and time ranges."""
    flags = det.flags(out)
    lines = []
    for row, part in expl.groupby("row", sort=False):
        row = int(row)
        head = f"row {row + 1}"
        if data.times is not None:
            head += f" ({data.time_text(row)})"
        head += f"  score {out.scores[row]:.4g}" + ("  (anomaly)" if flags[row] else "")
        lines.append(head)
        for r in part.itertuples():
            lines.append(
                f"  {r.channel:<16} {r.start_time} .. {r.end_time}  peak {r.peak_time}: "
                f"seen {r.seen:.4g}, expected {r.expected:.4g}  ({r.share:.0%} of the error)"
            )
    return [*lines, "(value columns ranked by their share of the window's reconstruction error)"]


def fit_series(
    det: Any, data: SeriesData, on_epoch: Callable[[int, float, float | None], None] | None
) -> SeriesDetector:
    """Fit a series detector on a loaded series."""
    sd = series_detector(det)
    labels = binary_labels(data.labels)
    with about(data.source):
        sd.fit(data.values, labels if _needs_labels(sd) else None, on_epoch=on_epoch)
    return sd


def _needs_labels(det: SeriesDetector) -> bool:
    model = det.detector
    return model is not None and model.threshold == "f1"


def fitted_summary(det: SeriesDetector, data: SeriesData) -> str:
    """``fit``'s one line for a series."""
    model = det.detector_
    h = model.history_
    return (
        f"fitted on {len(data.values)} rows x {data.values.shape[1]} value column(s) as "
        f"{len(window_ends(len(data.values), det.window_, det.stride_))} windows of "
        f"{det.window_} rows ({det.window_source_}) in {len(h.train_loss)} epochs "
        f"({h.seconds:.1f}s); threshold {det.threshold_:.4g} flags {int(det.labels_.sum())} "
        "training rows"
    )
