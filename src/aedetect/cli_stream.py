"""``aedetect score``'s work: streamed scoring, its progress line, and scoring on Dask.

``cli.score`` parses the options and calls :func:`score_command`; everything
here runs inside ``cli._guarded``, so library errors still become one line.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from aedetect.cli_logging import every_few_seconds

__all__ = ["rows_progress", "score_command"]

# Without a terminal, one progress line on stderr at most this often (seconds).


class _StdoutSink:
    """Scored rows as CSV on standard output, the header once."""

    def __init__(self) -> None:
        self.rows = 0

    def write(self, frame: Any) -> None:
        frame.to_csv(sys.stdout, index=False, header=self.rows == 0)
        self.rows += len(frame)


class _LazyFile:
    """Opens the output's temporary file at the first rows, so bad input touches nothing."""

    def __init__(self, stack: contextlib.ExitStack, output: Path) -> None:
        self.stack, self.output, self.sink = stack, output, None

    def write(self, frame: Any) -> None:
        from aedetect.outputs import writing_frames

        if self.sink is None:
            self.sink = self.stack.enter_context(writing_frames(self.output))
        self.sink.write(frame)


def _rate(done: int, start: float) -> str:
    seconds = max(time.monotonic() - start, 1e-9)
    return f"{done:,} rows, {done / seconds:,.0f} rows/s"


@contextlib.contextmanager
def rows_progress(
    quiet: bool, label: str = "scoring"
) -> Iterator[Callable[[int, int | None], None]]:
    """Yield ``on_rows(done, total)``: a bar with rows/s on a terminal, else a line every 5 s."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    start = time.monotonic()
    if quiet or not console.is_terminal:
        due = every_few_seconds()

        def log_line(done: int, total: int | None) -> None:
            if not quiet and due() is not None:
                of = f" of {total:,}" if total else ""
                typer.echo(f"{label}: {_rate(done, start)}{of}", err=True)

        yield log_line
        return
    columns = (TextColumn(label), BarColumn(), TextColumn("{task.fields[rate]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task(label, total=None, rate="")

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total, rate=_rate(done, start))

        yield update


def score_command(
    model: Path,
    request: Any,
    output: Path | None,
    all_scores: bool,
    chunk_rows: int,
    dask: str | None,
    quiet: bool,
) -> None:
    """Score DATA chunk by chunk into ``output`` (CSV or Parquet; None: CSV on stdout)."""
    from aedetect.outputs import check_target, table_format, writing_frames
    from aedetect.pipeline.streaming import score_chunks

    if dask is not None:
        _score_on_dask(model, request, output, all_scores, dask, quiet)
        return
    if output is not None:
        check_target(output)
        table_format(output)
    with rows_progress(quiet) as on_rows:
        if output is None:
            score_chunks(model, request, _StdoutSink(), chunk_rows, all_scores, on_rows)
            return
        with contextlib.ExitStack() as stack:
            sink = _LazyFile(stack, output)
            result = score_chunks(model, request, sink, chunk_rows, all_scores, on_rows)
            if sink.sink is None:  # no rows at all: still an output
                stack.enter_context(writing_frames(output))
    if not quiet:
        typer.echo(result.message(output), err=True)


def _score_on_dask(
    model: Path, request: Any, output: Path | None, all_scores: bool, address: str, quiet: bool
) -> None:
    """``--dask``: a Parquet file or folder scored on Dask into a partitioned Parquet folder."""
    from aedetect.data.chunks import parquet_files
    from aedetect.exceptions import ConfigError, DataError

    if output is None:
        raise ConfigError("--dask writes a folder of Parquet files: give it with --output DIR")
    if not parquet_files(request.data):
        raise DataError(f"{request.data}: --dask reads a Parquet file or a folder of them")
    from aedetect import dask as ae_dask

    # distributed's INFO lines (scheduler, nannies, workers) would drown the output
    quiet_logs = {"silence_logs": logging.ERROR} if address == "local" else {}
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with ae_dask.cluster(address, **quiet_logs) as client:
        if not quiet:
            typer.echo(f"dask: {address}, dashboard {client.dashboard_link}", err=True)
        rows = ae_dask.score_parquet(
            model, request.data, output, all_scores, request.label_column, request.id_column
        )
    if not quiet:
        typer.echo(f"scored {rows} rows; written to {output}/", err=True)
