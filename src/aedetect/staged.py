"""A command's several output files in one folder: all of the new ones, or none.

``run`` writes a model, tables, figures and a report. Written straight into the
output folder, a failure or Ctrl-C half-way would leave new files beside the
old ones of an earlier run (a new model beside an old report). Written through
:func:`staged_folder`, they land together at the end.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from aedetect.exceptions import OutputError
from aedetect.outputs import check_target, copy_file, removed_on_signal

__all__ = ["staged_folder"]


@contextlib.contextmanager
def staged_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder whose files land in folder ``path`` when the block ends.

    A new ``path`` is the temporary folder renamed. In an existing one, each
    file replaces its namesake, whole or not at all, once every name has been
    checked as a target (a regular file or a link to one, not an input of the
    command): other files there are left alone. On an error or a signal the
    temporary folder is removed and ``path`` is as it was.

    Raises
    ------
    OutputError
        ``path`` exists and is not a folder, or one of the files cannot replace
        what has its name there.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{path}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    where = target if target.is_dir() else target.parent
    tmp = where / f".{target.name}.{secrets.token_hex(4)}.tmp"
    with removed_on_signal(tmp):
        try:
            tmp.mkdir()
            yield tmp
            _land(tmp, target, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already once renamed to ``path``


def _land(tmp: Path, target: Path, path: str | os.PathLike[str]) -> None:
    """Move the files of ``tmp`` into ``target`` (see :func:`staged_folder`)."""
    if not target.exists():
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        return
    names = sorted(entry.name for entry in tmp.iterdir())
    real = {name: check_target(target / name) for name in names}  # all checked first
    here = os.path.realpath(target)
    for name in names:
        if os.path.realpath(real[name].parent) == here:
            os.replace(tmp / name, real[name])  # the same folder: a rename
        else:
            copy_file(tmp / name, target / name)  # a link to elsewhere: its target replaced
