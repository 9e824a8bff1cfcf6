"""Save and load fitted detectors as one safetensors file. Nothing is ever unpickled.

The file is a standard safetensors file. Its tensors are the module's weights,
the training scores and the scorer's fitted arrays (``scorer.*``: centroids,
whitening, standardisation); its string metadata holds:

- ``format`` = ``aedetect-model`` and ``format_version`` (an integer),
- ``aedetect_version``, the package version that wrote it,
- ``params``: the estimator's constructor arguments, as JSON,
- ``state``: the fitted encoder, threshold, column names and history, as JSON,
- ``checksum``: SHA-256 over the other metadata and every tensor's name, dtype,
  shape and bytes, so that a modified or damaged file is refused.

Loading rebuilds ``AutoencoderDetector(**params)`` and loads the state into it.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from aedetect.data.encoding import TabularEncoder
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import ModelFileError
from aedetect.training import History

__all__ = ["FORMAT", "FORMAT_VERSION", "load_detector", "read_metadata", "save_detector"]

FORMAT = "aedetect-model"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 2**20


def _version() -> str:
    from aedetect import __version__

    return __version__


def _checksum(meta: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps({k: v for k, v in meta.items() if k != "checksum"}, sort_keys=True).encode()
    )
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _json_params(det: AutoencoderDetector) -> dict[str, Any]:
    params = det.get_params(deep=False)
    params["hidden"] = [int(h) for h in params["hidden"]]
    for key in ("categorical", "sequence_columns"):
        params[key] = list(params[key]) if params[key] else None
    params["ensemble"] = list(params["ensemble"])
    if not isinstance(params["activation"], str):
        params["activation"] = list(params["activation"])
    for key in ("image_shape", "conv_encoder", "conv_decoder"):
        params[key] = None if params[key] is None else [_plain(v) for v in params[key]]
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        params["random_state"] = None
    return params


def _plain(value: Any) -> Any:
    """Numpy integers as Python ints (JSON), strings unchanged."""
    return value if isinstance(value, str) else int(value)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_detector(
    det: AutoencoderDetector, path: str | os.PathLike[str], extra: dict[str, Any] | None = None
) -> None:
    """Write a fitted detector to ``path`` (atomically: no half-written file).

    ``extra`` is plain JSON-ready data stored beside the detector (the CLI keeps
    the id and label column names there).
    """
    det._check_fitted()
    tensors = {
        f"module.{k}": v.detach().cpu().contiguous() for k, v in det.module_.state_dict().items()
    }
    tensors["decision_scores"] = torch.from_numpy(np.ascontiguousarray(det.decision_scores_))
    for key, value in det.scorer_.get_state().items():
        tensors[f"scorer.{key}"] = torch.from_numpy(np.ascontiguousarray(value))
    names = getattr(det, "feature_names_in_", None)
    state = {
        "encoder": det.encoder_.get_state(),
        "threshold": det.threshold_,
        "threshold_rule": getattr(det, "threshold_rule_", ""),
        "n_features_in": det.n_features_in_,
        "feature_names_in": None if names is None else [str(n) for n in names],
        "history": det.history_.to_dict(),
        "image_shape": None if det.image_shape_ is None else list(det.image_shape_),
    }
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "aedetect_version": _version(),
        "params": json.dumps(_json_params(det)),
        "state": json.dumps(state),
        "extra": json.dumps(extra or {}),
    }
    meta["checksum"] = _checksum(meta, tensors)
    atomic_write_bytes(path, st_save(tensors, metadata=meta))


def _read(path: str | os.PathLike[str]) -> tuple[bytes, dict[str, str]]:
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: model file does not exist")
    if p.is_dir():
        raise ModelFileError(f"{p}: is a folder, not a model file")
    data = p.read_bytes()
    if len(data) < 8:
        raise ModelFileError(f"{p}: not an aedetect model file (only {len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > min(_MAX_HEADER, len(data) - 8):
        raise ModelFileError(f"{p}: not an aedetect model file, or truncated (bad header length)")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{p}: not an aedetect model file (unreadable header)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{p}: not an aedetect model file (no aedetect metadata)")
    try:
        file_version = int(meta.get("format_version", ""))
    except ValueError:
        raise ModelFileError(f"{p}: damaged model file (bad format_version)") from None
    if file_version > FORMAT_VERSION:
        raise ModelFileError(
            f"{p}: written by aedetect {meta.get('aedetect_version', '?')} in model format "
            f"{file_version}; this aedetect {_version()} reads format {FORMAT_VERSION}: "
            "upgrade aedetect"
        )
    return data, meta


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Version, parameters and fitted state of a model file, checksum verified."""
    data, meta = _read(path)
    _tensors(path, data, meta)
    return {
        "aedetect_version": meta.get("aedetect_version"),
        "format_version": int(meta["format_version"]),
        "params": json.loads(meta["params"]),
        "state": json.loads(meta["state"]),
        "extra": json.loads(meta.get("extra", "{}")),
    }


def _tensors(
    path: str | os.PathLike[str], data: bytes, meta: dict[str, str]
) -> dict[str, torch.Tensor]:
    try:
        tensors = st_load(data)
    except Exception:  # safetensors raises its own error types for any damage
        raise ModelFileError(f"{path}: model file is truncated or damaged") from None
    if meta.get("checksum") != _checksum(meta, tensors):
        raise ModelFileError(f"{path}: checksum mismatch: the model file was modified or damaged")
    return tensors


def load_detector(path: str | os.PathLike[str]) -> AutoencoderDetector:
    """Load a detector written by :func:`save_detector`; scores are bit-identical."""
    data, meta = _read(path)
    tensors = _tensors(path, data, meta)
    try:
        params = json.loads(meta["params"])
        state = json.loads(meta["state"])
        params["hidden"] = tuple(params["hidden"])
        for key in ("categorical", "sequence_columns"):
            params[key] = tuple(params[key]) if params.get(key) else None
        if isinstance(params.get("activation"), list):
            params["activation"] = tuple(params["activation"])
        if isinstance(params.get("ensemble"), list):
            params["ensemble"] = tuple(params["ensemble"])
        for key in ("image_shape", "conv_encoder", "conv_decoder"):
            if params.get(key) is not None:
                params[key] = tuple(params[key])
        image_shape = state.get("image_shape")
        image_shape = None if image_shape is None else tuple(int(v) for v in image_shape)
        det = AutoencoderDetector(**params)
        det._validate_params()
        encoder = TabularEncoder.from_state(state["encoder"])
        module = det._build_module(encoder.n_features_out_, image_shape)
        weights = {
            k.removeprefix("module."): v for k, v in tensors.items() if k.startswith("module.")
        }
        module.load_state_dict(weights, strict=True)
        history = History(**state["history"])
        scorer_state = {
            k.removeprefix("scorer."): v.numpy()
            for k, v in tensors.items()
            if k.startswith("scorer.")
        }
    except ModelFileError:
        raise
    except Exception as exc:  # a checksummed file that still does not fit this version
        raise ModelFileError(f"{path}: model file does not match this aedetect: {exc}") from None
    device = det._torch_device()
    names = state["feature_names_in"]
    weights = torch.from_numpy(encoder.feature_weights_).to(device)
    scorer = det._scorer(weights, len(encoder.columns_), det._bounds(encoder, device))
    det._set_fitted(
        encoder=encoder,
        module=module.to(device).eval(),
        history=history,
        n_features_in=int(state["n_features_in"]),
        feature_names=names,
        device=device,
        scores=tensors["decision_scores"].numpy().astype(np.float64),
        scorer=scorer.set_state(scorer_state),
        threshold=float(state["threshold"]),
        image_shape=image_shape,
    )
    det.threshold_rule_ = state.get("threshold_rule", "")
    return det
