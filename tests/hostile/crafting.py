"""Craft hostile inputs: model files with a recomputed (valid) checksum, odd .npy, PNG, IDX."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aedetect.modelfile import _DTYPES, checksum, raw_tensors, read_file

_CODES = {torch_name: code for code, (torch_name, _, _) in _DTYPES.items()}


def write_model(path: Path, meta: dict[str, str], tensors: dict[str, tuple]) -> None:
    """Write a safetensors file from string metadata and (torch dtype, shape, bytes) tensors."""
    header: dict[str, Any] = {"__metadata__": meta}
    offset, body = 0, b""
    for name in sorted(tensors):
        dtype, shape, data = tensors[name][:3]
        header[name] = {
            "dtype": _CODES[dtype],
            "shape": list(shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        body += data
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


def resealed(
    source: Path,
    target: Path,
    meta_edit: Callable[[dict[str, Any]], None] | None = None,
    tensor_edit: Callable[[dict[str, tuple]], None] | None = None,
) -> Path:
    """Copy a model file with its metadata / tensors edited and the checksum recomputed.

    ``meta_edit`` gets the metadata with ``params``, ``state`` and ``extra``
    parsed from JSON; values it leaves as text (or sets to text) are stored as is.
    """
    data, meta = read_file(source)
    tensors = {k: v[:3] for k, v in raw_tensors(source, data).items()}
    parsed: dict[str, Any] = dict(meta)
    for key in ("params", "state", "extra"):
        parsed[key] = json.loads(meta[key])
    if meta_edit is not None:
        meta_edit(parsed)
    if tensor_edit is not None:
        tensor_edit(tensors)
    new = {k: v if isinstance(v, str) else json.dumps(v) for k, v in parsed.items()}
    new.pop("checksum", None)
    new["checksum"] = checksum(new, ((k, *v) for k, v in tensors.items()))
    write_model(target, new, tensors)
    return target


def png(path: Path, width: int, height: int, whole: bool = False) -> Path:
    """A grayscale PNG whose header says ``width`` x ``height``.

    Its pixel data is a few bytes (not the whole image) unless ``whole``: then
    every row, all black, compressed about 1000:1.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * ((width + 1) * height if whole else 64), 9)
    sig = b"\x89PNG\r\n\x1a\n"
    path.write_bytes(sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def npy_header(path: Path, descr: str, shape: tuple, body: bytes = b"", version: int = 1) -> Path:
    """A .npy file whose header declares ``shape`` and ``descr``, followed by ``body``."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    size_fmt, prefix = ("<H", 10) if version == 1 else ("<I", 12)
    pad = -(prefix + len(text) + 1) % 64
    text = text + " " * pad + "\n"
    magic = b"\x93NUMPY" + bytes([version, 0])
    path.write_bytes(magic + struct.pack(size_fmt, len(text)) + text.encode("latin1") + body)
    return path
