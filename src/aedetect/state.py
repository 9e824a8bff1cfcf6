"""A fitted detector as plain data: JSON-ready parameters and state, plus named tensors.

:meth:`AutoencoderDetector.to_state` and :meth:`AutoencoderDetector.from_state`
use these; :mod:`aedetect.persistence` only writes and reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["params_from_json", "params_to_json", "prefixed", "tensors_of"]

_TUPLES = (
    "categorical",
    "sequence_columns",
    "ensemble",
    "ensemble_weights",
    "image_shape",
    "series_shape",
)
_TOKENS = ("conv_encoder", "conv_decoder")
#: Parameters added after a file format was in use, with the values that
#: reproduce what files written before them did.
_BEFORE: dict[str, Any] = {"trim": 0.0, "refit": 0, "ensemble_weights": None, "n_neighbors": 5}


def _plain(value: Any) -> Any:
    """Numpy integers as Python ints (JSON), strings unchanged."""
    return value if isinstance(value, str) else int(value)


def params_to_json(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return constructor arguments as JSON-ready values (tuples as lists, numpy ints as ints)."""
    out = dict(params)
    out["hidden"] = [int(h) for h in out["hidden"]]
    for key in ("categorical", "sequence_columns"):
        out[key] = list(out[key]) if out[key] else None
    out["ensemble"] = list(out["ensemble"])
    if out.get("ensemble_weights") is not None:
        out["ensemble_weights"] = [float(w) for w in out["ensemble_weights"]]
    if not isinstance(out["activation"], str):
        out["activation"] = list(out["activation"])
    for key in ("image_shape", "series_shape", *_TOKENS):
        out[key] = None if out[key] is None else [_plain(v) for v in out[key]]
    if not (out["random_state"] is None or isinstance(out["random_state"], int)):
        out["random_state"] = None
    return out


def params_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return constructor arguments from :func:`params_to_json`'s output (lists as tuples)."""
    params = {**_BEFORE, **data}
    params["hidden"] = tuple(params["hidden"])
    for key in ("categorical", "sequence_columns"):
        params[key] = tuple(params[key]) if params.get(key) else None
    for key in ("activation", *_TUPLES, *_TOKENS):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    return params


def tensors_of(prefix: str, values: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``values`` (tensors or arrays) as contiguous CPU tensors named ``prefix.key``."""
    out = {}
    for key, value in values.items():
        t = (
            torch.from_numpy(np.ascontiguousarray(value))
            if isinstance(value, np.ndarray)
            else value
        )
        out[f"{prefix}.{key}"] = t.detach().cpu().contiguous()
    return out


def prefixed(prefix: str, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return the tensors named ``prefix.key``, keyed by ``key``."""
    start = f"{prefix}."
    return {k.removeprefix(start): v for k, v in tensors.items() if k.startswith(start)}
