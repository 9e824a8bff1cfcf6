"""Exceptions raised by aedetect.

Every error a user can act on is an :class:`AedetectError`. Only the CLI turns
them into a one-line message and an exit code.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

__all__ = [
    "AedetectError",
    "ConfigError",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "OutputError",
]


class AedetectError(Exception):
    """Base class of every error aedetect raises on purpose."""


class DataError(AedetectError, ValueError):
    """The data cannot be used: names the file, column or row where possible."""


class ConfigError(AedetectError, ValueError):
    """A parameter has a value outside its allowed range or set."""


class ModelFileError(AedetectError):
    """A model file is missing, truncated, tampered with, foreign or too new."""


class OutputError(AedetectError, OSError):
    """An output file cannot be written, or its path is not a regular file: names the path."""


if TYPE_CHECKING:
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

    class NotFittedError(AedetectError, _SklearnNotFittedError):
        """A method that needs a fitted detector was called before ``fit``."""


def __getattr__(name: str) -> type:
    """Define :class:`NotFittedError` on first use.

    It is also scikit-learn's ``NotFittedError``; importing scikit-learn costs
    a second, so the class is made only when something asks for it.
    """
    if name != "NotFittedError":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(AedetectError, SklearnNotFittedError):
        """A method that needs a fitted detector was called before ``fit``."""

    globals()["NotFittedError"] = NotFittedError
    return NotFittedError
