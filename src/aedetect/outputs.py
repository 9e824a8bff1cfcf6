"""Every file aedetect writes goes through here: whole or not at all, never over a non-file.

A target is written as a temporary file ``.NAME.XXXXXXXX.tmp`` in the target's
folder, flushed to disk, then renamed over the target, so that a reader sees
the old file or the new one, never half of one. Rules:

- a target that exists and is not a regular file (a folder, a FIFO, a device
  such as ``/dev/null``, a socket) is refused, never replaced;
- a symbolic link to a regular file is written through: the file it points to
  is replaced and the link stays; a link to anything else (or to nothing) is
  refused;
- a new file gets the usual mode for a new file (``0o666`` less the umask), a
  replaced file keeps its mode;
- the temporary file is removed on any exception, and it stays listed in a
  registry until then, so that a process ended by a signal can remove it
  (:func:`exit_cleanly_on_sigterm`, used by the CLI, makes SIGTERM and SIGINT
  end the process in a way that does);
- errors name the user's path, never the temporary file;
- ``-`` is standard output: the content is gathered whole, then written there
  (nothing is written if making it fails).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import secrets
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import pandas as pd

from aedetect.exceptions import ConfigError, OutputError

__all__ = [
    "STDOUT",
    "check_target",
    "copy_file",
    "exit_cleanly_on_sigterm",
    "is_stdout",
    "remove_pending",
    "reading",
    "removed_on_signal",
    "replacing",
    "replacing_folder",
    "table_format",
    "write_bytes",
    "writing_frames",
]

_KINDS = {
    stat.S_ISDIR: "a folder",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a device",
    stat.S_ISBLK: "a device",
    stat.S_ISSOCK: "a socket",
}
#: The path that means standard output.
STDOUT = "-"
_pending: set[str] = set()
_lock = threading.Lock()
_ending = False  # a signal is ending the process (see _terminated)
# The files and folders the running command reads: never an output (see reading()).
_inputs: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("inputs", default=())


@contextlib.contextmanager
def reading(*paths: str | os.PathLike[str] | None) -> Iterator[None]:
    """Within the block, refuse to write over any of ``paths`` (a command's DATA and MODEL).

    Writing a command's output over its own input would destroy the input
    (``score m.aedetect d.csv -o d.csv``); :func:`check_target` and
    :func:`replacing_folder` refuse it (a :class:`ConfigError`, naming both).
    """
    real = tuple(
        os.path.realpath(p)
        for p in paths
        if p is not None and str(p) != STDOUT and os.path.exists(p)
    )
    token = _inputs.set(real)
    try:
        yield
    finally:
        _inputs.reset(token)


def _check_not_input(path: str | os.PathLike[str]) -> None:
    real = os.path.realpath(path)
    if real in _inputs.get():
        raise ConfigError(f"{path}: is also an input of this command; give another output")


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS.items() if test(mode)), "not a regular file")


def check_target(path: str | os.PathLike[str]) -> Path:
    """Return the regular file that writing ``path`` replaces (``path`` itself, or a link's target).

    Raises
    ------
    OutputError
        ``path``'s folder is missing, or ``path`` exists and is not a regular
        file (nor a link to one).
    """
    target = Path(path)
    if is_stdout(path):
        return target
    _check_not_input(path)
    if target.is_symlink():
        if not target.exists():
            raise OutputError(f"{path}: is a symbolic link to a missing file")
        target = Path(os.path.realpath(target))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise OutputError(f"{path}: is {_kind(mode)}, not a regular file; give a file name")
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise OutputError(f"{path}: is read-only; not replaced (give another name)")
    return target


def _open_temp(target: Path) -> tuple[str, int]:
    """Create and register ``.NAME.XXXXXXXX.tmp`` beside ``target``; return its name and fd."""
    while True:
        tmp = str(target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp"))
        with _lock:
            _pending.add(tmp)  # listed before it exists: a signal never leaves it unlisted
        try:
            # 0o666: the kernel applies the umask, as for any new file
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            _forget(tmp)
        except BaseException:
            _forget(tmp)
            raise


def _forget(tmp: str) -> None:
    with _lock:
        _pending.discard(tmp)


def _remove(tmp: str) -> None:
    """Delete a temporary file or folder (from replacing_folder), if it is there."""
    with contextlib.suppress(OSError):
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp)
        else:
            os.unlink(tmp)


def _discard(tmp: str) -> None:
    _remove(tmp)
    _forget(tmp)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` when the block ends without error.

    Raises
    ------
    OutputError
        ``path`` cannot be written (see :func:`check_target`), or writing fails
        (disk full, permission denied): the message names ``path``.
    """
    if is_stdout(path):
        with _to_stdout() as fh:
            yield fh
        return
    target = check_target(path)
    try:
        old_mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        old_mode = None
    try:
        tmp, fd = _open_temp(target)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if old_mode is not None:
                os.fchmod(fh.fileno(), old_mode)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _forget(tmp)
    except OutputError:
        _discard(tmp)
        raise
    except OSError as exc:
        _discard(tmp)
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _discard(tmp)
        raise
    _fsync_folder(target.parent)


def is_stdout(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is ``-``, standard output."""
    return path is not None and os.fspath(path) == STDOUT


@contextlib.contextmanager
def _to_stdout() -> Iterator[BinaryIO]:
    buffer = io.BytesIO()
    yield buffer
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stream (captured output): bytes as text
        sys.stdout.write(buffer.getvalue().decode("utf-8", "replace"))
    else:
        sys.stdout.flush()
        out.write(buffer.getvalue())
        out.flush()


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data``, whole or not at all (see :func:`replacing`)."""
    with replacing(path) as fh:
        fh.write(data)


def copy_file(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Replace ``path`` with a copy of file ``source``, whole or not at all."""
    with open(source, "rb") as src, replacing(path) as fh:
        shutil.copyfileobj(src, fh)


#: Names of table formats aedetect does not write: refused rather than written as CSV.
OTHER_FORMATS = frozenset(
    ".xlsx .xls .xlsm .ods .json .jsonl .ndjson .feather .arrow .orc .avro .h5 .hdf5 .hdf "
    ".pkl .pickle .npy .npz .xml .html .sqlite .db .dta .sav .sas7bdat".split()
)


def table_format(
    path: str | os.PathLike[str], allowed: tuple[str, ...] = ("csv", "parquet")
) -> str:
    """``"parquet"`` for a ``.parquet`` / ``.pq`` name, else ``"csv"``.

    Raises
    ------
    OutputError
        The name's suffix is another table format (``.xlsx``, ``.json``, ...) or
        one not in ``allowed``.
    """
    if is_stdout(path):
        return "csv"
    suffix = Path(path).suffix.lower()
    fmt = "parquet" if suffix in (".parquet", ".pq") else "csv"
    if suffix in OTHER_FORMATS or fmt not in allowed:
        names = " or ".join(f".{f}" for f in allowed)
        raise OutputError(
            f"{path}: aedetect writes {names} tables here, not {suffix}; give a {names} name"
        )
    return fmt


class _FrameWriter:
    """Appends DataFrames to an open binary file as one CSV or one Parquet table."""

    def __init__(self, fh: BinaryIO, fmt: str, path: str | os.PathLike[str] = "") -> None:
        self.fh, self.fmt, self.path, self.rows = fh, fmt, path, 0
        self._parquet: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows (the first frame sets the columns and, for Parquet, types)."""
        if self.fmt == "csv":
            text = frame.to_csv(index=False, header=self.rows == 0, lineterminator="\n")
            self.fh.write(text.encode())
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                schema = pa.Schema.from_pandas(frame, preserve_index=False)
                self._parquet = pq.ParquetWriter(self.fh, schema)
            try:
                table = pa.Table.from_pandas(
                    frame, schema=self._parquet.schema, preserve_index=False
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise OutputError(
                    f"{self.path}: rows after {self.rows} do not fit the column types of "
                    f"the first rows ({str(exc).splitlines()[0]})"
                ) from None
            self._parquet.write_table(table)
        self.rows += len(frame)

    def close(self) -> None:
        """Finish the file (Parquet's footer)."""
        if self._parquet is not None:
            self._parquet.close()


@contextlib.contextmanager
def writing_frames(path: str | os.PathLike[str], fmt: str | None = None) -> Iterator[_FrameWriter]:
    """Yield a writer whose ``write(frame)`` appends rows to ``path``, replaced at the end.

    The rows go to the temporary file as they come (memory stays flat) and
    ``path`` is replaced only when the block ends without error, as with
    :func:`replacing`; on an error or Ctrl-C no output is left and an existing
    ``path`` stays intact. ``fmt``: ``"csv"`` or ``"parquet"`` (default: from
    the suffix, :func:`table_format`).
    """
    fmt = fmt or table_format(path)
    with replacing(path) as fh:
        writer = _FrameWriter(fh, fmt, path)
        try:
            yield writer
        except BaseException:
            with contextlib.suppress(Exception):  # the temporary file is discarded anyway
                writer.close()
            raise
        writer.close()


@contextlib.contextmanager
def replacing_folder(path: str | os.PathLike[str], owned: str = "*.parquet") -> Iterator[Path]:
    """Yield an empty temporary folder that becomes ``path`` when the block ends without error.

    For outputs written as many files (a partitioned Parquet table). An existing
    folder at ``path`` is replaced only then: moved aside, the new one renamed
    in, the old one removed; on an error or Ctrl-C the temporary folder is
    removed and ``path`` is left as it was. Only a folder that holds nothing
    but files matching ``owned`` (an earlier output of this kind) is replaced.

    Raises
    ------
    OutputError
        ``path``'s folder is missing, ``path`` exists and is not a folder (or is
        a link), or it holds something else than ``owned`` files.
    """
    target = Path(path)
    _check_not_input(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{path}: exists and is not a folder")
    if target.exists():
        _check_replaceable(target, path, owned)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    with _lock:
        _pending.add(str(tmp))
    try:
        try:
            tmp.mkdir()
        except OSError as exc:
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        yield tmp
        _swap_in(tmp, target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _forget(str(tmp))
    _fsync_folder(parent)


def _check_replaceable(target: Path, path: str | os.PathLike[str], owned: str) -> None:
    """Refuse to replace a folder holding anything but regular ``owned`` files."""
    try:
        entries = list(target.iterdir())
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.is_symlink() or not entry.is_file() or not entry.match(owned):
            raise OutputError(
                f"{path}: the folder holds {entry.name!r}, not only {owned} files of an "
                "earlier output; not replaced (give a new or empty folder)"
            )


def _swap_in(tmp: Path, target: Path, path: str | os.PathLike[str]) -> None:
    """Rename folder ``tmp`` to ``target``, an existing ``target`` moved aside then removed."""
    try:
        if not target.exists():
            os.replace(tmp, target)
            return
        old = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None


@contextlib.contextmanager
def removed_on_signal(path: str | os.PathLike[str]) -> Iterator[None]:
    """Remove ``path`` (a temporary file or folder) too if a signal ends the process."""
    with _lock:
        _pending.add(str(path))
    try:
        yield
    finally:
        _forget(str(path))


def remove_pending() -> None:
    """Remove every temporary file still being written (after a signal ended the write)."""
    with _lock:
        names = list(_pending)
    for tmp in names:
        _discard(tmp)


def _terminated(signum: int, frame: object) -> None:
    """End the process now: temp files removed, child processes stopped, exit 128 + signum.

    Raising from a signal handler is not safe everywhere: an exception raised while
    a C++ extension has called back into Python aborts the process. So nothing is
    raised; no lock is taken (the handler may run while the main thread holds one).
    """
    global _ending
    if _ending:  # a second signal while the first one ends the process: one line, one exit
        return
    _ending = True
    import multiprocessing

    for tmp in list(_pending):
        _remove(tmp)
    for child in multiprocessing.active_children():  # e.g. Dask's local workers
        with contextlib.suppress(Exception):
            child.terminate()
    what = "interrupted" if signum == signal.SIGINT else "terminated"
    with contextlib.suppress(OSError):
        os.write(2, f"error: {what}\n".encode())
    os._exit(128 + signum)


@contextlib.contextmanager
def exit_cleanly_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT end the process cleanly (exit 143 / 130).

    The temporary file of any output being written is removed and the previous
    output is left as it was; nothing half-written stays behind. For a program's
    entry point (main thread only): the library itself never installs a signal
    handler, and raises ``KeyboardInterrupt`` on Ctrl-C as Python does.
    """
    previous = {sig: signal.signal(sig, _terminated) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        remove_pending()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
