"""A small HTTP scoring service over saved models (FastAPI; the ``serve`` extra).

:func:`create_app` builds the FastAPI application from models loaded with
:func:`load_models` and a :class:`Limits`; ``aedetect serve`` runs it under
uvicorn. Only :mod:`aedetect.serve.app` imports FastAPI, so the request parsing
and the model registry work (and are tested) without it.
"""

from typing import TYPE_CHECKING

from aedetect._lazy import lazy_exports

if TYPE_CHECKING:
    from aedetect.serve.app import create_app
    from aedetect.serve.limits import Limits
    from aedetect.serve.registry import ServedModel, load_models

__all__ = ["Limits", "ServedModel", "create_app", "load_models"]

__getattr__ = lazy_exports(
    __name__,
    {
        "create_app": "aedetect.serve.app",
        "Limits": "aedetect.serve.limits",
        "ServedModel": "aedetect.serve.registry",
        "load_models": "aedetect.serve.registry",
    },
)
