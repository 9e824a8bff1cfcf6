"""Lazy package attributes: import a submodule on first use (PEP 562).

Keeps ``import aedetect`` and the command line's start-up light: torch,
scikit-learn and pandas load only when something that needs them is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """Return a module ``__getattr__`` that imports ``exports[name]`` (a module) on use."""

    def getattr_(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        globals_ = importlib.import_module(package).__dict__
        globals_[name] = value
        return value

    return getattr_
