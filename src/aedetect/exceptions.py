"""Exceptions raised by aedetect.

Every error a user can act on is an :class:`AedetectError`. Only the CLI turns
them into a one-line message and an exit code.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

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


class NotFittedError(AedetectError, _SklearnNotFittedError):
    """A method that needs a fitted detector was called before ``fit``."""


class OutputError(AedetectError, OSError):
    """An output file cannot be written, or its path is not a regular file: names the path."""
