"""Read a model file's header and tensor bytes without torch.

The light half of :mod:`aedetect.persistence`: it checks the format, parses
the JSON metadata and verifies the checksum straight from the safetensors
layout (an 8-byte header length, a JSON header naming each tensor's dtype,
shape and byte range, then the bytes). Describing a model (``aedetect info``)
needs nothing more, so it never imports torch; building a detector does
(:func:`aedetect.persistence.load_model`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aedetect._version import __version__
from aedetect.exceptions import ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "RawTensor",
    "checksum",
    "parse_metadata",
    "raw_tensors",
    "read_file",
    "read_header",
    "read_metadata",
    "verified_tensors",
]

FORMAT = "aedetect-model"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 2**20

# safetensors dtype -> (torch's name of it, which the checksum hashes; NumPy dtype or None,
# bytes per item). NumPy itself loads only when a tensor is asked for.
_DTYPES: dict[str, tuple[str, str | None, int]] = {
    "F64": ("torch.float64", "<f8", 8),
    "F32": ("torch.float32", "<f4", 4),
    "F16": ("torch.float16", "<f2", 2),
    "BF16": ("torch.bfloat16", None, 2),
    "I64": ("torch.int64", "<i8", 8),
    "I32": ("torch.int32", "<i4", 4),
    "I16": ("torch.int16", "<i2", 2),
    "I8": ("torch.int8", "i1", 1),
    "U64": ("torch.uint64", "<u8", 8),
    "U32": ("torch.uint32", "<u4", 4),
    "U16": ("torch.uint16", "<u2", 2),
    "U8": ("torch.uint8", "u1", 1),
    "BOOL": ("torch.bool", "?", 1),
}

#: One stored tensor: (torch dtype name, shape, raw little-endian bytes, NumPy dtype or None).
RawTensor = tuple[str, tuple[int, ...], bytes, str | None]


def checksum(
    meta: dict[str, str], tensors: Iterable[tuple[str, str, tuple[int, ...], bytes]]
) -> str:
    """SHA-256 over the metadata (less ``checksum``) and each (name, dtype, shape, bytes).

    ``dtype`` is torch's name (``torch.float32``); the tensors are hashed in name
    order. The one definition of a model file's checksum, with or without torch.
    """
    h = hashlib.sha256()
    h.update(
        json.dumps({k: v for k, v in meta.items() if k != "checksum"}, sort_keys=True).encode()
    )
    for name, dtype, shape, data in sorted(tensors):
        h.update(f"{name}|{dtype}|{shape}|".encode())
        h.update(data)
    return h.hexdigest()


def read_file(path: str | os.PathLike[str]) -> tuple[bytes, dict[str, str]]:
    """Return a model file's bytes and its string metadata, format checked."""
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


def raw_tensors(path: str | os.PathLike[str], data: bytes) -> dict[str, RawTensor]:
    """Every stored tensor's dtype, shape and bytes, read from the safetensors layout."""
    damaged = ModelFileError(f"{path}: model file is truncated or damaged")
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    body = memoryview(data)[8 + header_len :]
    out: dict[str, RawTensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            torch_dtype, np_dtype, itemsize = _DTYPES[entry["dtype"]]
            shape = tuple(int(n) for n in entry["shape"])
            start, end = (int(n) for n in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise damaged from None
        if not 0 <= start <= end <= len(body) or end - start != math.prod(shape) * itemsize:
            raise damaged
        out[name] = (torch_dtype, shape, bytes(body[start:end]), np_dtype)
    return out


def verified_tensors(
    path: str | os.PathLike[str], data: bytes, meta: dict[str, str]
) -> dict[str, RawTensor]:
    """:func:`raw_tensors`, after checking the file's checksum."""
    tensors = raw_tensors(path, data)
    digest = checksum(meta, ((k, t[0], t[1], t[2]) for k, t in tensors.items()))
    if meta.get("checksum") != digest:
        raise ModelFileError(f"{path}: checksum mismatch: the model file was modified or damaged")
    return tensors


def parse_metadata(path: str | os.PathLike[str], meta: dict[str, str]) -> dict[str, Any]:
    """Parse the metadata's JSON fields."""
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


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Version, parameters and fitted state of a model file, without building a detector.

    The checksum is not verified (the tensors are not read): use it to describe
    a file cheaply; :func:`read_metadata` and :func:`aedetect.load` verify.
    """
    _, meta = read_file(path)
    return parse_metadata(path, meta)


def read_metadata(path: str | os.PathLike[str], tensor: str | None = None) -> dict[str, Any]:
    """Version, parameters and fitted state of a model file, checksum verified.

    With ``tensor``, the dict also holds that stored tensor as a NumPy array
    under its name (e.g. ``"decision_scores"``), from the same single read.
    """
    data, meta = read_file(path)
    tensors = verified_tensors(path, data, meta)
    parsed = parse_metadata(path, meta)
    if tensor is not None:
        if tensor not in tensors or tensors[tensor][3] is None:
            raise ModelFileError(f"{path}: damaged model file (no tensor {tensor!r})")
        import numpy as np

        _, shape, raw, np_dtype = tensors[tensor]
        native = np.dtype(np_dtype).newbyteorder("=")
        parsed[tensor] = np.frombuffer(raw, dtype=np_dtype).reshape(shape).astype(native)
    return parsed
