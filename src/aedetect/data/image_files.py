"""IDX files and CIFAR batches named as DATA, read as sets of images.

- An IDX file (MNIST's format, gzipped or not; recognised by its magic number,
  whatever its name) holding images shaped (n, h, w) or (n, h, w, c). Beside an
  images file named like MNIST's (``train-images-idx3-ubyte.gz``,
  ``t10k-images.idx3-ubyte``) its labels file (``train-labels-idx1-ubyte.gz``) is
  read too, as the ``label`` column.
- CIFAR-10/100 "python version" batches: one batch file (``data_batch_1``,
  ``test_batch``, CIFAR-100's ``train`` / ``test``), a folder of them
  (``cifar-10-batches-py``) or the downloaded ``.tar.gz``; read with the
  restricted unpickler of :mod:`aedetect.data.images` (never plain pickle).

``image_size`` resizes and ``color`` converts them as for an image folder.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import numpy as np

from aedetect.data.images import (
    _IDX_TYPES,
    IMAGE_SUFFIXES,
    MAX_FOLDER_PIXELS,
    _is_batch,
    images_table,
    read_cifar,
    read_idx,
)
from aedetect.data.table import Table
from aedetect.exceptions import DataError

__all__ = ["conform", "is_cifar", "is_idx", "load_cifar_path", "load_idx_file"]


def is_idx(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts like an IDX file (gzipped or not)."""
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if head[:2] == b"\x1f\x8b":  # a deflate block's start gives the first bytes
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 4)
        except zlib.error:
            return False
    if len(head) < 4 or head[:2] != b"\x00\x00":
        return False
    return head[2] in _IDX_TYPES and 1 <= head[3] <= 4


def is_cifar(path: Path) -> bool:
    """Whether ``path`` is a CIFAR batch file, a folder of them, or a tar archive of them."""
    if path.is_dir():
        entries = [f for f in path.iterdir() if f.is_file()]
        images = any(f.suffix.lower() in IMAGE_SUFFIXES for f in entries)
        return not images and any(_is_batch(f.name, None) for f in entries)
    if not path.is_file():
        return False
    if _is_batch(path.name, None):
        return True
    name = path.name.lower()
    if not name.endswith((".tar", ".tar.gz", ".tgz")) or not tarfile.is_tarfile(path):
        return False
    try:
        with tarfile.open(path) as tar:
            return any(m.isfile() and _is_batch(Path(m.name).name, None) for m in tar)
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return False  # the table reader then says what the file is not


def load_cifar_path(
    path: Path, size: tuple[int, int] | None = None, color: str | None = None
) -> Table:
    """Read CIFAR batches (a file, a folder or the .tar.gz) as a Table with labels."""
    images, labels = read_cifar(path)
    return images_table(conform(images, size, color, str(path)), labels, str(path), "label")


def load_idx_file(
    path: Path, size: tuple[int, int] | None = None, color: str | None = None
) -> Table:
    """Read an IDX images file (and its labels file beside it, if any) as a Table."""
    arr = read_idx(path)
    if arr.ndim == 4 and arr.shape[3] in (1, 3):
        images = arr.transpose(0, 3, 1, 2)
    elif arr.ndim == 3:
        images = arr[:, None]
    else:
        what = "labels only" if arr.ndim == 1 else f"an array of shape {arr.shape}"
        raise DataError(
            f"{path}: IDX file of {what}; aedetect reads IDX images shaped (n, h, w) "
            "or (n, h, w, c) (a labels file is read beside its images file)"
        )
    labels = _labels_beside(path, len(images))
    return images_table(conform(images, size, color, str(path)), labels, str(path), "label")


def _labels_beside(path: Path, n: int) -> np.ndarray | None:
    """Read the labels file named like ``path`` (``images`` -> ``labels``), if there is one."""
    name = path.name
    if "images" not in name:
        return None
    other = name.replace("images", "labels").replace("idx3", "idx1")
    stem = other.removesuffix(".gz")
    for candidate in (path.with_name(stem), path.with_name(stem + ".gz")):
        if candidate.is_file() and candidate != path and is_idx(candidate):
            labels = read_idx(candidate)
            if labels.ndim != 1 or len(labels) != n:
                raise DataError(
                    f"{candidate}: holds {labels.shape} labels for the {n} images of {name}"
                )
            return labels
    return None


def conform(
    images: np.ndarray, size: tuple[int, int] | None, color: str | None, source: str
) -> np.ndarray:
    """Resize (bilinear) and convert images (n, c, h, w) as an image folder's would be."""
    n, c, h, w = images.shape
    if color not in (None, "gray", "rgb"):
        raise DataError(f"color must be gray or rgb, got {color!r}")
    if c not in (1, 3):
        if color is not None or size is not None:
            raise DataError(f"{source}: images with {c} channels cannot be converted or resized")
        return images
    want_c = c if color is None else (1 if color == "gray" else 3)
    want = (h, w) if size is None else (int(size[0]), int(size[1]))
    if (want_c, *want) == (c, h, w):
        return images
    if n * want_c * want[0] * want[1] > MAX_FOLDER_PIXELS:
        raise DataError(
            f"{source}: {n} images of {want[0]}x{want[1]} make more than {MAX_FOLDER_PIXELS} "
            "values; use a smaller image_size"
        )
    if images.dtype != np.uint8:
        raise DataError(
            f"{source}: images of {images.dtype} values; only 8-bit images are resized or converted"
        )
    from PIL import Image

    mode = "L" if want_c == 1 else "RGB"
    pixels = images
    out = np.empty((n, want[0], want[1], want_c), dtype=np.uint8)
    for i in range(n):
        im = Image.fromarray(pixels[i, 0] if c == 1 else pixels[i].transpose(1, 2, 0))
        im = im.convert(mode)
        if im.size != (want[1], want[0]):
            im = im.resize((want[1], want[0]), Image.Resampling.BILINEAR)
        out[i] = np.asarray(im).reshape(want[0], want[1], want_c)
    return out.transpose(0, 3, 1, 2)
