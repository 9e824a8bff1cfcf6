"""Images: readers for MNIST IDX files, CIFAR batches, image folders and .npy arrays.

Every reader returns images as a uint8 or float array shaped (n, channels,
height, width). :func:`images_table` turns them into a :class:`Table` of flat
pixel columns (channel-first order) that remembers the image shape, so the
same commands and estimator serve tables and images.

CIFAR's "python version" batches are pickles. They are read with a restricted
unpickler that admits only plain dicts, lists, tuples, bytes, str, numbers and
numpy arrays of numbers: a file that asks for anything else (a function to call,
any other class) is refused with a :class:`DataError` before anything runs.
"""

from __future__ import annotations

import io
import logging
import math
import pickle
import struct
import tarfile
import warnings
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.readers import load_npy
from aedetect.data.table import Table
from aedetect.exceptions import ConfigError, DataError

__all__ = [
    "IMAGE_SUFFIXES",
    "image_rows",
    "folder_image_files",
    "images_table",
    "parse_image_shape",
    "parse_image_size",
    "read_cifar",
    "read_cifar_batch",
    "read_idx",
    "read_image_folder",
    "read_npy_images",
    "sample_photo_patches",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Largest image read (pixels), most pixels (values) in a folder's images, and most bytes
#: a gzip or tar member may unpack to.
MAX_PIXELS, MAX_FOLDER_PIXELS, MAX_DECOMPRESSED = 2**25, 2**28, 2**29
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- layouts
def image_rows(X: Any) -> tuple[Any, tuple[int, int, int] | None]:
    """Flatten an image array; leave anything else as it is.

    An ndarray shaped (n, h, w) (grayscale) or (n, h, w, c) (channels last) is a
    set of images: it comes back as flat rows in channel-first order, with its
    ``(c, h, w)`` shape. Any other input comes back unchanged with ``None``.
    """
    if not isinstance(X, np.ndarray) or X.ndim not in (3, 4):
        return X, None
    chw = X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)
    n, c, h, w = chw.shape
    return np.ascontiguousarray(chw).reshape(n, c * h * w), (c, h, w)


def pixel_names(shape: tuple[int, int, int]) -> list[str]:
    """Column names of flat pixels: ``pixel_<row>_<col>`` or ``pixel_<ch>_<row>_<col>``."""
    c, h, w = shape
    if c == 1:
        return [f"pixel_{r}_{q}" for r in range(h) for q in range(w)]
    return [f"pixel_{k}_{r}_{q}" for k in range(c) for r in range(h) for q in range(w)]


def images_table(
    images: np.ndarray, labels: Any = None, source: str = "", label_name: str = "label"
) -> Table:
    """Make a :class:`Table` of flat pixel columns from images shaped (n, c, h, w)."""
    n, c, h, w = images.shape
    shape = (c, h, w)
    # float32 halves the memory of 60,000 x 784 pixels; uint8 pixels are exact in it.
    flat = images.reshape(n, c * h * w).astype(np.float32, copy=False)
    return Table(
        features=pd.DataFrame(flat, columns=pixel_names(shape), copy=False),
        labels=None if labels is None else pd.Series(np.asarray(labels), name=label_name),
        source=source,
        image_shape=shape,
    )


def parse_image_size(value: str | int | None) -> tuple[int, int] | None:
    """``28`` or ``"28"`` -> (28, 28); ``"32x24"`` -> (32, 24) (height x width)."""
    if value is None or isinstance(value, tuple):
        return value
    text = str(value).lower().replace(" ", "")
    parts = text.split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise ConfigError(f"image_size must be like 28 or 28x28 (height x width), got {value!r}")
    if sizes[0] * sizes[1] > MAX_PIXELS:
        raise ConfigError(f"image_size {value!r} has more than {MAX_PIXELS} pixels")
    return sizes[0], sizes[1]


def parse_image_shape(value: str | None, name: str = "image_shape") -> tuple[int, int, int] | None:
    """``"1,28,28"`` -> (1, 28, 28) (channels, height, width); None stays None.

    Raises :class:`ConfigError` naming the parameter ``name`` for anything else.
    """
    if value is None:
        return None
    try:
        shape = tuple(int(v) for v in str(value).split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ConfigError(f"{name} must be channels,height,width like 1,28,28, got {value!r}")
    return shape  # type: ignore[return-value]


# -------------------------------------------------------------------- IDX
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path, data: bytes | None = None) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzipped or not.

    Returns an array of the file's shape: (n, 28, 28) for MNIST images, (n,) for labels.
    A gzipped file is unpacked only as far as its header declares (at most
    :data:`MAX_DECOMPRESSED` bytes), so a small file that unpacks to more holds
    no more memory than its declared size.
    """
    p = Path(path)
    if data is None:
        if not p.is_file():
            raise DataError(f"{p}: no such file")
        data = p.read_bytes()
    unzip = zlib.decompressobj(wbits=31) if data[:2] == b"\x1f\x8b" else None
    head = _gunzip(p, unzip, data, 4) if unzip is not None else data[:4]
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in _IDX_TYPES:
        raise DataError(f"{p}: not an IDX file (bad magic number)")
    ndim = head[3]
    header = 4 + 4 * ndim
    if unzip is not None:
        head += _gunzip(p, unzip, b"", header - 4)
    else:
        head = data[:header]
    if ndim == 0 or len(head) < header:
        raise DataError(f"{p}: not an IDX file (bad header)")
    dims = struct.unpack(f">{ndim}I", head[4:header])
    dtype = np.dtype(_IDX_TYPES[head[2]])
    shown = "x".join(map(str, dims))
    if 0 in dims[1:]:
        raise DataError(f"{p}: IDX header says {shown} values: an item of no values")
    need = math.prod(dims) * dtype.itemsize
    if unzip is not None:
        if header + need > MAX_DECOMPRESSED:
            raise DataError(
                f"{p}: IDX header says {need} bytes; more than "
                f"{MAX_DECOMPRESSED // 2**20} MB unpacked, refused"
            )
        body = _gunzip(p, unzip, b"", need + 1)  # one more: a longer file shows
    else:
        body = memoryview(data)[header:]
    if len(body) != need:
        held = f"more than {need}" if unzip is not None and len(body) > need else len(body)
        raise DataError(
            f"{p}: IDX header says {shown} values ({need} bytes), "
            f"file holds {held} bytes: truncated or damaged"
        )
    arr = np.frombuffer(body, dtype=dtype).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _gunzip(p: Path, unzip: Any, data: bytes, size: int) -> bytes:
    """Return the next ``size`` unpacked bytes (fewer at the end) of a gzip stream."""
    try:
        out = unzip.decompress(data or unzip.unconsumed_tail, size) if size > 0 else b""
    except zlib.error as exc:
        raise DataError(f"{p}: damaged gzip file ({exc})") from None
    if len(out) < size and not unzip.eof:
        raise DataError(f"{p}: damaged gzip file (truncated)")
    return out


# ------------------------------------------------------------------ CIFAR
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]


class _Refused(pickle.UnpicklingError):
    """The pickle asks for something a CIFAR batch never holds."""


def _latin1(text: str, encoding: str) -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, "latin1").
    if encoding != "latin1" or not isinstance(text, str):
        raise _Refused(f"_codecs.encode with {encoding!r}")
    return text.encode("latin1")


_ALLOWED = {
    ("_codecs", "encode"): _latin1,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits numpy's array rebuilding and nothing else that can run code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None


def _check_plain(obj: Any, depth: int = 0) -> None:
    if depth > 20:
        raise _Refused("nesting deeper than 20 levels")
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise _Refused(f"a numpy array of {obj.dtype}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_plain(k, depth + 1)
            _check_plain(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_plain(v, depth + 1)
    elif not isinstance(obj, (bytes, str, int, float, type(None))):
        raise _Refused(type(obj).__name__)


def _safe_unpickle(data: bytes, source: str) -> Any:
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
        _check_plain(obj)
    except _Refused as exc:
        raise DataError(
            f"{source}: refused: the pickle asks for {exc}; a CIFAR batch holds only dicts, "
            "lists, bytes, str, numbers and numpy arrays"
        ) from None
    except Exception as exc:  # truncated or not a pickle at all
        raise DataError(f"{source}: not a CIFAR python batch ({type(exc).__name__})") from None
    return obj


def read_cifar_batch(data: bytes, source: str = "CIFAR batch") -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 3, 32, 32) uint8 and labels of one CIFAR-10/100 python batch."""
    obj = _safe_unpickle(data, source)
    if not isinstance(obj, dict):
        raise DataError(f"{source}: not a CIFAR python batch (no dict inside)")
    batch = {(k.decode() if isinstance(k, bytes) else k): v for k, v in obj.items()}
    label_key = next((k for k in ("labels", "fine_labels") if k in batch), None)
    pixels = batch.get("data")
    if label_key is None or not isinstance(pixels, np.ndarray):
        raise DataError(f"{source}: not a CIFAR python batch (needs 'data' and 'labels')")
    labels = np.asarray(batch[label_key], dtype=np.int64)
    if pixels.ndim != 2 or pixels.shape[1] != 3072:
        raise DataError(f"{source}: 'data' has shape {pixels.shape}; expected (n, 3072)")
    if len(pixels) != len(labels):
        raise DataError(
            f"{source}: {len(pixels)} images in 'data' but {len(labels)} in {label_key!r}"
        )
    return pixels.astype(np.uint8).reshape(-1, 3, 32, 32), labels


def read_cifar(
    path: str | Path, members: tuple[str, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR python batches from a file, a folder of batches or the .tar.gz.

    ``members`` picks batch names (``data_batch_1``, ``test_batch``, ``train``);
    by default every batch found, in name order.
    """
    p = Path(path)
    parts: list[tuple[str, bytes]] = []
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and _is_batch(f.name, members))
        parts = [(str(f), f.read_bytes()) for f in files]
    elif p.is_file() and tarfile.is_tarfile(p):
        with tarfile.open(p) as tar:  # members are read, never extracted to disk
            for m in sorted(tar.getmembers(), key=lambda m: m.name):
                if m.isfile() and _is_batch(Path(m.name).name, members):
                    if m.size > MAX_DECOMPRESSED:
                        raise DataError(f"{p}:{m.name}: {m.size} bytes; a CIFAR batch is smaller")
                    fh = tar.extractfile(m)
                    if fh is not None:
                        parts.append((f"{p}:{m.name}", fh.read()))
    elif p.is_file():
        parts = [(str(p), p.read_bytes())]
    else:
        raise DataError(f"{p}: no such file or folder")
    if not parts:
        raise DataError(f"{p}: no CIFAR batches found")
    read = [read_cifar_batch(data, name) for name, data in parts]
    return np.concatenate([r[0] for r in read]), np.concatenate([r[1] for r in read])


def _is_batch(name: str, members: tuple[str, ...] | None) -> bool:
    if members is not None:
        return name in members
    return name.startswith(("data_batch", "test_batch")) or name in ("train", "test")


# ----------------------------------------------------------- image folders
def folder_image_files(folder: Path, entries: list[Path] | None = None) -> list[Path]:
    """Return the PNG/JPEG files of ``folder`` that :func:`read_image_folder` reads, in order."""
    listed = sorted(folder.iterdir()) if entries is None else entries
    return [f for f in listed if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]


def read_image_folder(
    path: str | Path, size: tuple[int, int] | None = None, color: str | None = None
) -> np.ndarray:
    """Read every PNG/JPEG file of a folder (sorted by name) as (n, c, h, w) uint8.

    Parameters
    ----------
    path : path
        The folder.
    size : (height, width), optional
        Resize every image to this; by default the most common size in the folder.
    color : {"gray", "rgb"}, optional
        By default gray when every image is grayscale, else RGB.
    """
    from PIL import Image

    p = Path(path)
    if not p.is_dir():
        raise DataError(f"{p}: not a folder")
    entries = sorted(p.iterdir())
    files = folder_image_files(p, entries)
    if not files:
        raise DataError(f"{p}: no .png, .jpg or .jpeg files in the folder")
    chosen = set(files)
    skipped = [f for f in entries if f not in chosen and not f.name.startswith(".")]
    if skipped:
        log.warning(
            "%s: %d entr%s skipped, not PNG/JPEG files (e.g. %r%s)",
            p, len(skipped), "y" if len(skipped) == 1 else "ies", skipped[0].name,
            ", a folder" if skipped[0].is_dir() else "",
        )  # fmt: skip
    images, budget = [], MAX_FOLDER_PIXELS
    for f in files:
        images.append(_open_image(f, min(MAX_PIXELS, budget), p))
        budget -= images[-1].width * images[-1].height
    if color is None:
        gray = all(im.mode in ("1", "L", "LA", "I", "I;16", "F") for im in images)
        color = "gray" if gray else "rgb"
    if color not in ("gray", "rgb"):
        raise DataError(f"color must be gray or rgb, got {color!r}")
    if size is None:
        w, h = Counter(im.size for im in images).most_common(1)[0][0]
        size = (h, w)
    mode = "L" if color == "gray" else "RGB"
    if len(images) * size[0] * size[1] * (1 if color == "gray" else 3) > MAX_FOLDER_PIXELS:
        raise DataError(
            f"{p}: {len(images)} images of {size[0]}x{size[1]} make more than "
            f"{MAX_FOLDER_PIXELS} values; use a smaller image_size"
        )
    out = np.stack(
        [
            np.asarray(
                im.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
                if im.size != (size[1], size[0])
                else im.convert(mode)
            )
            for im in images
        ]
    )
    return out[:, None] if out.ndim == 3 else out.transpose(0, 3, 1, 2)


def _open_image(f: Path, budget: int = MAX_PIXELS, folder: Path | None = None) -> Any:
    """Read one image file whole; its size is checked before its pixels are decoded.

    ``budget`` is the most pixels it may have: :data:`MAX_PIXELS`, or what is
    left of the folder's :data:`MAX_FOLDER_PIXELS`.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
            im = Image.open(f)
        with im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise DataError(
                    f"{f}: {width}x{height} pixels; at most {MAX_PIXELS} pixels per image"
                )
            if width * height > budget:
                raise DataError(
                    f"{folder}: the images hold more than {MAX_FOLDER_PIXELS} pixels in all"
                )
            im.load()
            return _eight_bits(im) if im.mode in _WIDE_GRAY else im.copy()
    except DataError:
        raise
    except Image.DecompressionBombError:
        raise DataError(f"{f}: more than {MAX_PIXELS} pixels (a decompression bomb?)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{f}: not a readable image ({exc})") from None


# Gray modes of more than 8 bits (16-bit PNGs): scaled to 0-255, not clipped there.
_WIDE_GRAY = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def _eight_bits(im: Any) -> Any:
    """Return a 16-bit (or 32-bit integer) gray image as 8 bits: 65535 -> 255, not clipped."""
    from PIL import Image

    values = np.asarray(im, dtype=np.float64)
    top = float(values.max(initial=0.0))
    scale = 1.0 if top <= 255 else 257.0 if top <= 65535 else top / 255.0
    return Image.fromarray(np.clip(np.rint(values / scale), 0, 255).astype(np.uint8), "L")


def read_npy_images(path: str | Path) -> np.ndarray:
    """Read a .npy array of images (n, h, w) or (n, h, w, c) as (n, c, h, w)."""
    p = Path(path)
    arr = load_npy(p)
    if arr.ndim not in (3, 4) or arr.dtype.kind not in "biuf":
        raise DataError(
            f"{p}: array of shape {arr.shape} and type {arr.dtype}; images need numbers "
            "shaped (n, h, w) or (n, h, w, c)"
        )
    return arr[:, None] if arr.ndim == 3 else arr.transpose(0, 3, 1, 2)


# ---------------------------------------------------------- photo patches
def sample_photo_patches(n: int = 1000, size: int = 28, seed: int = 0) -> np.ndarray:
    """Grayscale patches of scikit-learn's two bundled sample photos, (n, 1, size, size).

    The offline stand-in for an abnormal image set (natural-image texture instead
    of digits): each photo is converted to gray, shrunk by 4 so that a patch
    holds some structure, and cut into random ``size`` x ``size`` squares;
    near-uniform squares (pixel standard deviation below 20, e.g. sky) are skipped.
    """
    from PIL import Image
    from sklearn.datasets import load_sample_images

    if not (
        isinstance(n, int | np.integer)
        and 1 <= n <= 1_000_000
        and isinstance(size, int | np.integer)
        and size >= 1
    ):
        raise DataError(
            f"photos: n must be in [1, 1000000] and size >= 1, got n={n!r}, size={size!r}"
        )
    rng = np.random.default_rng(seed)
    photos = []
    for img in load_sample_images().images:
        im = Image.fromarray(img).convert("L")
        im = im.resize((im.width // 4, im.height // 4), Image.Resampling.BILINEAR)
        photos.append(np.asarray(im))
    if size > min(min(p.shape) for p in photos):
        raise DataError(
            f"photos: size must be at most {min(min(p.shape) for p in photos)}, got {size}"
        )
    out = np.empty((n, 1, size, size), dtype=np.uint8)
    i = tries = 0
    while i < n:
        photo = photos[i % len(photos)]
        r = rng.integers(0, photo.shape[0] - size + 1)
        c = rng.integers(0, photo.shape[1] - size + 1)
        patch = photo[r : r + size, c : c + size]
        tries += 1
        # Skip near-uniform patches (sky): any autoencoder copies a flat square,
        # so they would test nothing. Give up filtering if a photo is all flat.
        if patch.std() >= _MIN_PATCH_STD or tries > 20 * n:
            out[i, 0] = patch
            i += 1
    return out


_MIN_PATCH_STD = 20.0  # of 0..255
