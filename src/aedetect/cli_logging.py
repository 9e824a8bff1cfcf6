"""What the command line says besides its results and errors: warnings, status, summaries.

- Log records and Python warnings (a ``RuntimeWarning`` from NumPy, a library's
  ``UserWarning``) become one ``WARNING: ...`` line on stderr each, and each line
  is said once per command, however often the library repeats it.
- ``-q`` keeps errors only (and the output the command was asked to print).
- Text printed to the terminal has its control characters escaped: a column
  name holding a terminal escape sequence is shown, never obeyed.
- Training progress: a bar on a terminal, a line every few seconds otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import typer

from aedetect.cli_errors import escape_controls, one_line

# Seconds between progress lines when stderr is not a terminal.
LOG_EVERY = 5.0

__all__ = ["say", "setup_logging"]

_log = logging.getLogger("aedetect")


class _OneLineOnce(logging.Filter):
    """Let each message through once, flattened to one line with controls escaped.

    Our messages name parameters as the command line's flags (``speak_flags``).

    Other libraries' records below WARNING are dropped: some (Dask's ``distributed``)
    set their own loggers to INFO when imported, after this handler is set up.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == "aedetect" or record.name.startswith("aedetect.")
        if not ours and record.levelno < logging.WARNING:  # another library's chatter
            return False
        message = one_line(record.getMessage())
        if ours:  # parameter names as the command line's flags, as errors say them
            from aedetect.cli_options import speak_flags

            message = speak_flags(message)
        key = (record.levelno, message)
        if key in self.seen:
            return False
        self.seen.add(key)
        record.msg, record.args = message, None
        return True


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Say a Python warning as one log line: its kind and message, not its source line."""
    _log.warning("%s: %s", category.__name__, message)


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Send log records and warnings to stderr, one line each, once; ``quiet``: errors only.

    Raises
    ------
    typer.BadParameter
        Both ``verbose`` and ``quiet`` (``-v`` and ``-q`` ask for opposites).
    """
    if verbose and quiet:
        raise typer.BadParameter("give -q (errors only) or -v (every epoch), not both")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(_OneLineOnce())
    # Other libraries' loggers (Dask's, say) go through the same handler and level.
    logging.basicConfig(
        handlers=[handler], force=True, level=logging.ERROR if quiet else logging.WARNING
    )
    _log.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    warnings.showwarning = _show_warning


def say(text: str, err: bool = False, quiet: bool = False) -> None:
    """Print ``text`` (unless ``quiet``), its control characters escaped, line breaks kept."""
    if not quiet:
        typer.echo("\n".join(escape_controls(line) for line in text.split("\n")), err=err)


@contextlib.contextmanager
def progress_bar(
    epochs: int | str, quiet: bool
) -> Iterator[Callable[[int, float, float | None], None]]:
    """Show a training progress bar on stderr (on a terminal); yield the epoch callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
    )
    console = Console(stderr=True)
    if not quiet and not console.is_terminal:  # piped: a plain line every few seconds
        yield _epoch_lines(epochs)
        return
    with Progress(*columns, console=console, disable=quiet) as bar:
        task = bar.add_task("fit", total=epochs if isinstance(epochs, int) else None, loss="-")

        def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
            shown = f"{train_loss:.4g}" + (f" val {val_loss:.4g}" if val_loss is not None else "")
            bar.update(task, completed=epoch, loss=shown)

        yield on_epoch


def every_few_seconds() -> Callable[[], float | None]:
    """Return ``due()``: seconds since now once LOG_EVERY more have passed, else None.

    What paces progress lines when stderr is not a terminal (piped or logged).
    """
    start = time.monotonic()
    last = [start]

    def due() -> float | None:
        now = time.monotonic()
        if now - last[0] < LOG_EVERY:
            return None
        last[0] = now
        return now - start

    return due


def _epoch_lines(epochs: int | str) -> Callable[[int, float, float | None], None]:
    """Return an epoch callback printing ``training: epoch E/N, loss L`` every LOG_EVERY s."""
    due = every_few_seconds()
    total = f"/{epochs}" if isinstance(epochs, int) else ""

    def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
        if (elapsed := due()) is None:
            return
        shown = f"{train_loss:.4g}" + (f", val {val_loss:.4g}" if val_loss is not None else "")
        typer.echo(f"training: epoch {epoch}{total}, loss {shown}, {elapsed:.0f}s", err=True)

    return on_epoch
