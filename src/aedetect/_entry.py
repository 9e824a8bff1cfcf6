"""The ``aedetect`` console script: ``--version`` and ``--help`` without importing the CLI.

Everything else goes to :func:`aedetect.cli.main`. ``aedetect --version`` prints
the version; ``aedetect --help`` with its output not on a terminal (piped,
captured) prints :data:`aedetect._help.HELP`, Typer's own text for that case
(80 columns, no colour), kept equal to it by ``tests/test_startup.py``. On a
terminal Typer renders the help itself, in colour and at the terminal's width.
Importing Typer and Rich alone takes about six times the bare interpreter.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> None:
    """Run the command line: the two light answers here, the rest through Typer."""
    args = sys.argv[1:]
    if args in (["--version"], ["--help"]) and _answer(args[0]):
        return
    from aedetect.cli import main as cli_main

    cli_main()


def _answer(flag: str) -> bool:
    """Print the version or the help text; False when Typer should do it instead."""
    if flag == "--version":
        from aedetect._version import __version__

        text = f"aedetect {__version__}\n"
    else:
        if sys.stdout.isatty():
            return False
        from aedetect._help import HELP

        text = HELP
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except UnicodeEncodeError:
        return False
    except BrokenPipeError:  # `aedetect --help | head -1`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return True
