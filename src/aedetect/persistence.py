"""Save and load fitted detectors as one safetensors file. Nothing is ever unpickled.

The file is a standard safetensors file. Its tensors are the module's weights,
the training scores and the scorer's fitted arrays (``scorer.*``: centroids,
whitening, standardisation); its string metadata holds:

- ``format`` = ``aedetect-model`` and ``format_version`` (an integer),
- ``aedetect_version``, the package version that wrote it,
- ``params``: the estimator's constructor arguments, as JSON,
- ``state``: the fitted encoder, threshold, column names, history and the
  network's spec (``model_spec``; files from 0.1.0 lack it), as JSON,
- ``checksum``: SHA-256 over the other metadata and every tensor's name, dtype,
  shape and bytes, so that a modified or damaged file is refused.

The detector gives and takes its content as plain data
(:meth:`~aedetect.AutoencoderDetector.to_state` /
:meth:`~aedetect.AutoencoderDetector.from_state`); this module only writes and
reads the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from aedetect._version import __version__
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import ModelFileError
from aedetect.outputs import write_bytes

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "load_detector",
    "load_model",
    "read_header",
    "read_metadata",
    "save_detector",
]

FORMAT = "aedetect-model"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 2**20


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


def save_detector(
    det: AutoencoderDetector, path: str | os.PathLike[str], extra: dict[str, Any] | None = None
) -> None:
    """Write a fitted detector to ``path`` (atomically: no half-written file).

    ``extra`` is plain JSON-ready data stored beside the detector (the CLI keeps
    the id and label column names there).
    """
    data, tensors = det.to_state()
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "aedetect_version": __version__,
        "params": json.dumps(data["params"]),
        "state": json.dumps(data["state"]),
        "extra": json.dumps(extra or {}),
    }
    meta["checksum"] = _checksum(meta, tensors)
    write_bytes(path, st_save(tensors, metadata=meta))


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
            f"{file_version}; this aedetect {__version__} reads format {FORMAT_VERSION}: "
            "upgrade aedetect"
        )
    return data, meta


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Version, parameters and fitted state of a model file, without building a detector.

    The checksum is not verified (the tensors are not read): use it to describe
    a file cheaply; :func:`read_metadata` and :func:`load_detector` verify.
    """
    _, meta = _read(path)
    return _parsed(path, meta)


def _parsed(path: str | os.PathLike[str], meta: dict[str, str]) -> dict[str, Any]:
    try:
        return {
            "aedetect_version": meta.get("aedetect_version"),
            "format_version": int(meta["format_version"]),
            "params": json.loads(meta["params"]),
            "state": json.loads(meta["state"]),
            "extra": json.loads(meta.get("extra", "{}")),
        }
    except (KeyError, ValueError):
        raise ModelFileError(f"{path}: damaged model file (unreadable metadata)") from None


def read_metadata(path: str | os.PathLike[str], tensor: str | None = None) -> dict[str, Any]:
    """Version, parameters and fitted state of a model file, checksum verified.

    With ``tensor``, the dict also holds that stored tensor as a NumPy array
    under its name (e.g. ``"decision_scores"``), from the same single read.
    """
    data, meta = _read(path)
    tensors = _tensors(path, data, meta)
    parsed = _parsed(path, meta)
    if tensor is not None:
        if tensor not in tensors:
            raise ModelFileError(f"{path}: damaged model file (no tensor {tensor!r})")
        parsed[tensor] = tensors[tensor].numpy()
    return parsed


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
    return load_model(path)[0]


def load_model(path: str | os.PathLike[str]) -> tuple[AutoencoderDetector, dict[str, Any]]:
    """Load a detector and the file's metadata (as :func:`read_metadata`) in one read."""
    data, meta = _read(path)
    tensors = _tensors(path, data, meta)
    parsed = _parsed(path, meta)
    try:
        content = {"params": parsed["params"], "state": parsed["state"]}
        return AutoencoderDetector.from_state(content, tensors), parsed
    except ModelFileError:
        raise
    except Exception as exc:  # a checksummed file that still does not fit this version
        raise ModelFileError(f"{path}: model file does not match this aedetect: {exc}") from None
