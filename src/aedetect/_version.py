"""The package version: one source, read by the build (``pyproject.toml``) and the code.

A plain string, not the installed distribution's metadata: reading that imports
``importlib.metadata``, two thirds of ``aedetect --version``'s own time.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
