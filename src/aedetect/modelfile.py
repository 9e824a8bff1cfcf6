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
import stat
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aedetect._version import __version__
from aedetect.exceptions import ModelFileError
from aedetect.modelschema import check_metadata

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_DEPTH",
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
#: Deepest JSON nesting read from a model file (its own data is about 5 levels deep).
MAX_DEPTH = 32

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


def read_file(
    path: str | os.PathLike[str], header_only: bool = False
) -> tuple[bytes, dict[str, str]]:
    """Return a model file's bytes and its string metadata, format checked.

    The 8-byte length and the header are read and checked first; the tensors'
    bytes only then, and only as many as the header declares (a file longer than
    that is damaged). With ``header_only``, the bytes returned are the length
    and header alone.
    """
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise ModelFileError(f"{p}: model file does not exist") from None
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise ModelFileError(f"{p}: is a folder, not a model file")
    if not stat.S_ISREG(mode):  # a FIFO could block, a device such as /dev/zero never end
        raise ModelFileError(f"{p}: is not a regular file (a FIFO or device?), not a model file")
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise ModelFileError(f"{p}: not an aedetect model file (only {len(head)} bytes)")
            (header_len,) = struct.unpack("<Q", head)
            if header_len > min(_MAX_HEADER, size - 8):
                raise ModelFileError(
                    f"{p}: not an aedetect model file, or truncated (bad header length)"
                )
            raw_header = f.read(header_len)
            header = _json(p, raw_header, "not an aedetect model file (unreadable header)")
            meta = _checked_meta(p, header)
            data = head + raw_header
            if not header_only:
                body = _declared_body(header)
                if body is not None and size > 8 + header_len + body:
                    raise ModelFileError(f"{p}: model file is damaged (bytes after its tensors)")
                data += f.read(size - 8 - header_len if body is None else body)
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read: {exc.strerror or exc}") from None
    return data, meta


def _declared_body(header: Any) -> int | None:
    """Bytes of tensor data the header declares (the largest end offset), None if unreadable."""
    try:
        ends = [
            int(entry["data_offsets"][1])
            for name, entry in header.items()
            if name != "__metadata__"
        ]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return max(ends, default=0)


def _checked_meta(p: Path, header: Any) -> dict[str, str]:
    """Return the header's aedetect metadata, its format and version checked."""
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{p}: not an aedetect model file (no aedetect metadata)")
    if not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError(f"{p}: damaged model file (metadata values must be text)")
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
    return meta


def raw_tensors(path: str | os.PathLike[str], data: bytes) -> dict[str, RawTensor]:
    """Every stored tensor's dtype, shape and bytes, read from the safetensors layout."""
    damaged = ModelFileError(f"{path}: model file is truncated or damaged")
    (header_len,) = struct.unpack("<Q", data[:8])
    header = _json(path, data[8 : 8 + header_len], "model file is truncated or damaged")
    body = memoryview(data)[8 + header_len :]
    out: dict[str, RawTensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            if len(entry["shape"]) > 8:
                raise ValueError("too many dimensions")
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


def _json(path: str | os.PathLike[str], text: bytes | str, problem: str) -> Any:
    """Parse JSON at most :data:`MAX_DEPTH` levels deep, else :class:`ModelFileError`."""
    try:
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelFileError(f"{path}: {problem}") from None
    if _depth(value) > MAX_DEPTH:
        raise ModelFileError(f"{path}: {problem} (nested more than {MAX_DEPTH} levels)")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level <= MAX_DEPTH and isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            stack.extend((v, level + 1) for v in children)
    return deepest


def parse_metadata(path: str | os.PathLike[str], meta: dict[str, str]) -> dict[str, Any]:
    """Parse the metadata's JSON fields and check their layout (:func:`check_metadata`)."""
    unreadable = "damaged model file (unreadable metadata)"
    try:
        parsed = {
            "aedetect_version": meta.get("aedetect_version"),
            "format_version": int(meta["format_version"]),
            "params": _json(path, meta["params"], unreadable),
            "state": _json(path, meta["state"], unreadable),
            "extra": _json(path, meta.get("extra", "{}"), unreadable),
        }
    except (KeyError, ValueError):
        raise ModelFileError(f"{path}: {unreadable}") from None
    check_metadata(path, parsed)
    return parsed


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Version, parameters and fitted state of a model file, without building a detector.

    The checksum is not verified (the tensors are not read): use it to describe
    a file cheaply; :func:`read_metadata` and :func:`aedetect.load` verify.
    """
    _, meta = read_file(path, header_only=True)
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
        if tensor == "decision_scores" and (len(tensors[tensor][1]) != 1 or not tensors[tensor][2]):
            raise ModelFileError(f"{path}: damaged model file (no training scores)")
        import numpy as np

        _, shape, raw, np_dtype = tensors[tensor]
        native = np.dtype(np_dtype).newbyteorder("=")
        parsed[tensor] = np.frombuffer(raw, dtype=np_dtype).reshape(shape).astype(native)
    return parsed
