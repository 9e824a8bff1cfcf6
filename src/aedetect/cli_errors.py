"""How the command line reports a failure: one line on stderr and an exit code.

- a library error (:class:`~aedetect.exceptions.AedetectError`): its message,
  exit code 2 for a parameter (``ConfigError``), 1 for data, model or output files;
- a usage error found while parsing (an unknown option, ``--hidden a,b``): one
  line naming it and the ``--help`` to read, exit code 2 (not Typer's boxed,
  multi-line report);
- anything unexpected: the exception's type and message, and how to see the
  traceback (``AEDETECT_DEBUG=1``), exit code 3. A safety net: each known bad
  input is refused at its cause, with its own message.

Messages are flattened to one line, and control characters (a terminal escape
sequence in a column name) are shown escaped, never sent to the terminal raw.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperGroup

from aedetect.cli_options import speak_flags
from aedetect.exceptions import AedetectError, ConfigError
from aedetect.outputs import reading

try:  # Typer >= 0.20 vendors Click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older Typer depends on Click
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

__all__ = [
    "DEBUG_ENV",
    "EXIT_DATA",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "OneLineGroup",
    "escape_controls",
    "guarded",
    "one_line",
    "unexpected",
]

EXIT_DATA, EXIT_USAGE, EXIT_UNEXPECTED = 1, 2, 3
#: Set to 1 to let an unexpected exception end in its traceback.
DEBUG_ENV = "AEDETECT_DEBUG"
# Control characters, and the Unicode marks that reorder text on the screen.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with control characters (a terminal escape sequence) shown escaped."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def one_line(message: object) -> str:
    """``message`` on one line: line breaks become spaces, control characters escapes."""
    return escape_controls(re.sub(r"\s*[\r\n]+\s*", " ", str(message)).strip())


def debugging() -> bool:
    """Whether ``AEDETECT_DEBUG`` asks for tracebacks."""
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def unexpected(exc: BaseException) -> str:
    """Say in one line what an exception no check foresaw was."""
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"unexpected error: {what} (run with {DEBUG_ENV}=1 to see the traceback)"


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Wrap a command: library errors and unexpected ones become one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        inputs = (kwargs.get(name) for name in ("data", "model", "scores"))
        try:
            with reading(*inputs):  # an output over DATA or MODEL is refused
                fn(*args, **kwargs)
        except ConfigError as exc:
            _fail(speak_flags(str(exc)), EXIT_USAGE)
        except AedetectError as exc:
            _fail(speak_flags(str(exc)), EXIT_DATA)
        except BrokenPipeError:  # `aedetect score ... | head`: the reader left
            sys.stdout = open(os.devnull, "w")
            raise typer.Exit(0) from None
        except OSError as exc:  # unwritable output folder, disk full, ...
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), EXIT_DATA)
        except (typer.Exit, typer.Abort, click_exceptions.ClickException):
            raise  # the command line's own: OneLineGroup reports them
        except Exception as exc:  # the safety net: each known case is refused at its cause
            if debugging():
                raise
            _fail(unexpected(exc), EXIT_UNEXPECTED)

    return wrapper


class OneLineGroup(TyperGroup):
    """Typer's command group, with usage errors reported on one line."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; in standalone mode, exit with its exit code."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click_exceptions.NoArgsIsHelpError as exc:
            if not getattr(self, "rich_markup_mode", None):  # Rich printed it already
                exc.show()
            sys.exit(exc.exit_code)
        except click_exceptions.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            typer.echo(f"error: {one_line(exc.format_message() + hint)}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(EXIT_DATA)
        except Exception as exc:  # raised outside a command body (an option's callback)
            if debugging():
                raise
            typer.echo(f"error: {one_line(unexpected(exc))}", err=True)
            sys.exit(EXIT_UNEXPECTED)
        sys.exit(rv if isinstance(rv, int) else 0)
