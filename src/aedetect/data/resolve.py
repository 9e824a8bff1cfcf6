"""Resolve a DATA argument to a :class:`Table`: a file, an image folder or a built-in set.

``NAME:key=value,...`` passes options to a built-in generator; a class selection
(``normal``, ``abnormal``, ``abnormal_data``) turns the result into a one-class problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aedetect.data.adbench import load_adbench
from aedetect.data.chunks import parquet_files, read_whole
from aedetect.data.datasets import BUILTIN
from aedetect.data.image_datasets import DOWNLOADED, load_image_path, select_classes
from aedetect.data.images import parse_image_size
from aedetect.data.nab import load_nab_table
from aedetect.data.readers import read_table, split_columns
from aedetect.data.table import Table
from aedetect.exceptions import DataError

__all__ = ["is_builtin", "load_builtin", "load_data"]


# Built-in sets named ``COLLECTION:MEMBER``.
COLLECTIONS = {"adbench": load_adbench, "nab": load_nab_table}


def _parse_options(text: str) -> dict[str, object]:
    options: dict[str, object] = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep:
            raise DataError(f"data set option {part!r} is not key=value")
        options[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value.strip()
    return options


def load_builtin(name: str, progress: bool = False) -> Table:
    """Load a built-in data set: ``NAME`` or ``NAME:key=value,...`` (generator options).

    ``sequences:size=5000,seed=1,anomalies=10`` passes its options to
    :func:`make_sequences`; ``mixed:n_rows=500`` to :func:`make_mixed_table`;
    ``synthetic:kind=global,dim=50`` to :func:`make_synthetic`;
    ``adbench:cardio`` names one of ADBench's classical tables;
    ``nab:realKnownCause/nyc_taxi`` one of NAB's series (a table with a time column).
    """
    base, _, opts = name.partition(":")
    if base in COLLECTIONS:  # ``adbench:cardio``: the part after the colon names a member
        table = COLLECTIONS[base](opts, progress=progress)
        table.source = name
        return table
    if base not in BUILTIN:
        raise DataError(f"unknown data set {base!r}; built-in: {', '.join(BUILTIN)}")
    options = _parse_options(opts)
    if base in DOWNLOADED:
        options["progress"] = progress
    try:
        table = BUILTIN[base](**options)
    except DataError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:  # an option the generator chokes on
        raise DataError(f"{name}: bad data set option ({exc})") from None
    table.source = name
    return table


def is_builtin(spec: str) -> bool:
    """Whether ``spec`` names a built-in data set (options after ``:`` allowed)."""
    return spec.partition(":")[0] in BUILTIN or spec.partition(":")[0] in COLLECTIONS


def load_data(
    spec: str,
    label_column: str | None = None,
    id_column: str | None = None,
    *,
    normal: str | None = None,
    abnormal: str | None = None,
    abnormal_data: str | None = None,
    image_size: str | tuple[int, int] | None = None,
    color: str | None = None,
    progress: bool = False,
    text: Sequence[str] = (),
) -> Table:
    """Resolve a DATA argument: a file or image folder, else a built-in data set.

    For a built-in data set the label and id columns are the data set's own,
    unless a label or id column named in the arguments is one of its features.
    A folder of PNG/JPEG files or a .npy array shaped (n, h, w) or (n, h, w, c)
    is a set of images (``image_size`` resizes a folder's images, ``color``
    "gray" or "rgb" converts them).

    ``normal``, ``abnormal`` (class lists like ``"3"``, ``"0,1,2"`` or ``"rest"``)
    and ``abnormal_data`` (a second DATA whose items are the anomalies) pick a
    one-class problem: see :func:`aedetect.data.image_datasets.select_classes`.
    ``text`` names columns a CSV file's values are read as text in (token sequences).
    """
    size = parse_image_size(image_size)
    table = _load_one(spec, label_column, id_column, size, color, progress, text)
    if normal is None and abnormal is None and abnormal_data is None:
        return table
    other = None
    if abnormal_data is not None:
        shape = table.image_shape
        other_size = size or (shape[1:] if shape else None)
        color = None if shape is None else ("gray" if shape[0] == 1 else "rgb")
        other = _load_one(abnormal_data, None, None, other_size, color, progress, text)
    return select_classes(table, normal, abnormal, other)


def _check_image_columns(
    images: Table, spec: str, label_column: str | None, id_column: str | None
) -> None:
    """Refuse a label or id column named for images (they have none but their own)."""
    for option, name, own in (
        ("label_column", label_column, images.labels),
        ("id_column", id_column, images.ids),
    ):
        if name is not None and (own is None or name != own.name):
            has = f"its {option.split('_')[0]}s are {own.name!r}" if own is not None else "none"
            raise DataError(
                f"{spec}: {option} {name!r}: a set of images has no columns to pick from ({has})"
            )


def _load_one(
    spec: str,
    label_column: str | None,
    id_column: str | None,
    size: tuple[int, int] | None,
    color: str | None,
    progress: bool,
    text: Sequence[str] = (),
) -> Table:
    path = Path(spec)
    if path.is_dir() and parquet_files(path):  # a folder of Parquet files, read whole
        return split_columns(read_whole(path), str(path), label_column, id_column)
    if path.exists():
        images = load_image_path(path, size, color)
        if images is not None:
            _check_image_columns(images, spec, label_column, id_column)
            return images
    if path.exists() or not is_builtin(spec):
        if not path.exists() and path.suffix.lower() == "" and spec.isidentifier():
            raise DataError(
                f"{spec}: no such file, and not a built-in data set ({', '.join(BUILTIN)})"
            )
        return split_columns(read_table(path, text), str(path), label_column, id_column)
    table = load_builtin(spec, progress)
    # Naming the data set's own label or id column is the same as naming none.
    if table.labels is not None and label_column == table.labels.name:
        label_column = None
    if table.ids is not None and id_column == table.ids.name:
        id_column = None
    if label_column or id_column:
        frame = table.features.copy()
        split = split_columns(frame, spec, label_column, id_column)
        split.sequence_columns = table.sequence_columns
        split.time_column = table.time_column
        return split
    return table
