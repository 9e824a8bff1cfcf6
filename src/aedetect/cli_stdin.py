"""``-`` as DATA: a CSV read from standard input, with the checks a CSV file gets.

Standard input is copied, a block at a time, to a CSV file in a temporary
folder (removed when the command ends, on an error or a signal too), and the
command reads that file as any other: the same checks (blank lines, header
size, ragged rows), and `score` reads it in chunks, so memory stays bounded by
the chunk, not the input. Messages name ``stdin``, not the temporary file.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aedetect.exceptions import ConfigError, DataError
from aedetect.outputs import removed_on_signal

__all__ = ["STDIN", "data_name", "reads_stdin", "stdin_csv"]

#: The DATA argument that means standard input, and the name messages give it.
STDIN, STDIN_NAME = "-", "stdin"
_BLOCK = 1 << 20
# The temporary files standing for standard input now, and the name they go by.
_NAMES: dict[str, str] = {}


def data_name(data: str) -> str | None:
    """Return the name DATA goes by in messages and outputs: ``stdin`` for its copy, else None."""
    return _NAMES.get(data)


@contextlib.contextmanager
def stdin_csv() -> Iterator[Path]:
    """Copy standard input to a temporary CSV file; yield its path; remove it afterwards."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise ConfigError(
            "DATA is -, standard input, but nothing is piped into it: "
            "pipe a CSV in (cat data.csv | aedetect ...) or name a file"
        )
    with (
        tempfile.TemporaryDirectory(prefix="aedetect-stdin-") as folder,
        removed_on_signal(folder),  # a signal ends the process without the cleanup below
    ):
        path = Path(folder) / "stdin.csv"
        source = getattr(stream, "buffer", stream)
        with path.open("wb") as fh:
            shutil.copyfileobj(source, fh, _BLOCK)
        _NAMES[str(path)] = STDIN_NAME
        try:
            yield path
        except (DataError, ConfigError) as exc:
            message = str(exc).replace(str(path), STDIN_NAME)
            raise type(exc)(message) from None
        finally:
            _NAMES.pop(str(path), None)


def reads_stdin(fn: Callable[..., None]) -> Callable[..., None]:
    """Let a command's ``data`` argument be ``-``: standard input, read as a CSV file."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("data") != STDIN:
            return fn(*args, **kwargs)
        with stdin_csv() as path:
            kwargs["data"] = str(path)
            return fn(*args, **kwargs)

    return wrapper
