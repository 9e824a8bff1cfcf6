"""The score use case in bounded memory: read, score and write a chunk of rows at a time.

Scores are bit-identical to scoring the whole table at once: rows are scored
in blocks that start and end on the same :data:`aedetect.scoring.CHUNK`
boundaries as the in-memory pass (float32 matrix products can round a row
differently with another number of rows beside it), whatever ``chunk_rows`` is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from aedetect.data.chunks import read_chunks, table_rows
from aedetect.data.readers import split_columns
from aedetect.data.table import Table
from aedetect.exceptions import ConfigError, DataError
from aedetect.pipeline.data import DataRequest, about, text_columns
from aedetect.pipeline.model import open_model, scores_frame
from aedetect.scoring import CHUNK

log = logging.getLogger("aedetect")

__all__ = ["CHUNK_ROWS", "FrameSink", "StreamResult", "score_chunks"]

# Rows read at a time by default: 8 scoring blocks; about 30 MB for 50 float64 columns.
CHUNK_ROWS = 8 * CHUNK


class FrameSink(Protocol):
    """Where scored rows go: ``write(frame)`` appends them (``outputs.writing_frames``)."""

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows."""


@dataclass
class StreamResult:
    """What a streamed scoring pass did."""

    rows: int
    anomalies: int

    def message(self, output: Path | None) -> str:
        """Return the status line ``aedetect score`` prints."""
        where = f"; written to {output}" if output is not None else ""
        return f"scored {self.rows} rows, {self.anomalies} anomalies{where}"


def score_chunks(
    model: Path,
    request: DataRequest,
    sink: FrameSink,
    chunk_rows: int = CHUNK_ROWS,
    all_scores: bool = False,
    on_rows: Callable[[int, int | None], None] | None = None,
) -> StreamResult:
    """Score every row of the requested data, handing ``sink`` the scores a chunk at a time.

    Parameters
    ----------
    model : Path
        Model file written by ``fit``.
    request : DataRequest
        The data. A CSV / TSV / Parquet file or a folder of Parquet files is
        read ``chunk_rows`` rows at a time; anything else is loaded whole and
        scored in chunks.
    sink : FrameSink
        Receives the scored rows in input order, as :func:`scores_frame` gives them.
    chunk_rows : int, default=65536
        Rows read at a time. Memory grows with it, not with the input.
    all_scores : bool, default=False
        Also every score the model can give, one column each.
    on_rows : callable, optional
        Called as ``on_rows(done, total)`` after each write (``total`` is None
        when unknown, as for CSV).

    Returns
    -------
    StreamResult
        Rows scored and rows flagged.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    det, extra = open_model(model)
    if "series" in extra:  # a series is scored whole (its window state runs through it)
        from aedetect.pipeline.scoring import score

        frame = score(model, request, all_scores)
        sink.write(frame)
        if on_rows is not None:
            on_rows(len(frame), len(frame))
        return StreamResult(len(frame), int(frame["is_anomaly"].sum()))
    total = table_rows(request.data) if request.streams() else None
    result = StreamResult(0, 0)
    for block in _aligned(_tables(det, extra, request, chunk_rows)):
        if not result.rows:
            warn_unseen(det, block)
        frame = _score_block(det, block, all_scores, result.rows)
        sink.write(frame)
        result.rows += len(frame)
        result.anomalies += int(frame["is_anomaly"].sum())
        if on_rows is not None:
            on_rows(result.rows, total)
    return result


def _tables(
    det: Any, extra: dict[str, Any], request: DataRequest, chunk_rows: int
) -> Iterator[Table]:
    """Yield the requested data as Tables of at most ``chunk_rows`` rows, in order."""
    if not request.streams():
        table = request.load_for_model(det, extra)
        for start in range(0, len(table.features), chunk_rows):
            yield _rows(table, slice(start, start + chunk_rows))
        return
    source = request.shown
    columns: tuple[str | None, str | None] | None = None
    for frame in read_chunks(request.data, chunk_rows, text_columns(det)):
        if columns is None:
            columns = request.model_columns(frame.columns, extra)
        yield split_columns(frame, source, *columns)


def _rows(table: Table, rows: slice) -> Table:
    def part(x: Any) -> Any:
        return None if x is None else x.iloc[rows].reset_index(drop=True)

    return Table(part(table.features), part(table.labels), part(table.ids), table.source)


def _concat(tables: list[Table]) -> Table:
    if len(tables) == 1:
        return tables[0]

    def joined(parts: list[Any]) -> Any:
        return None if parts[0] is None else pd.concat(parts, ignore_index=True)

    return Table(
        joined([t.features for t in tables]),
        joined([t.labels for t in tables]),
        joined([t.ids for t in tables]),
        tables[0].source,
    )


def _aligned(tables: Iterator[Table]) -> Iterator[Table]:
    """Regroup tables into blocks of whole multiples of ``CHUNK`` rows (the last one: the rest)."""
    pending: list[Table] = []
    held = 0
    for table in tables:
        pending.append(table)
        held += len(table.features)
        if held >= CHUNK:
            block = _concat(pending)
            cut = held - held % CHUNK
            yield _rows(block, slice(0, cut))
            pending = [_rows(block, slice(cut, held))] if cut < held else []
            held -= cut
    if held:
        yield _concat(pending)


#: Share of a category column's values never seen in training that earns a warning.
UNSEEN_WARNING = 0.5


def warn_unseen(det: Any, block: Table) -> None:
    """Warn for a category column most of whose values the model never saw in training.

    Every such value is scored as an unseen category (usually anomalous): the
    sign of a column coded otherwise than at fit time (codes for names, say).
    """
    for col in getattr(det.encoder_, "columns_", []):
        if col.kind != "categorical" or col.name not in block.features.columns:
            continue
        values = block.features[col.name].dropna().astype(str)
        unseen = values[~values.isin(col.categories)]
        if len(values) and len(unseen) > UNSEEN_WARNING * len(values):
            log.warning(
                "column %r: %.0f%% of the values were never seen in training (e.g. %r; "
                "training had e.g. %r): they score as unseen categories",
                col.name, 100 * len(unseen) / len(values), unseen.iloc[0], col.categories[0],
            )  # fmt: skip


_ROW = re.compile(r"\brow (\d+)")


def _score_block(det: Any, block: Table, all_scores: bool, offset: int) -> pd.DataFrame:
    """Score one block; a data error names the row of the whole input, not of the block."""
    try:
        with about(block.source):
            return scores_frame(det, block, every=all_scores)
    except DataError as exc:
        if not offset:
            raise
        msg = _ROW.sub(lambda m: f"row {int(m.group(1)) + offset}", str(exc), count=1)
        raise DataError(msg) from None
