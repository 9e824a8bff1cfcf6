"""Loading a DATA argument for a use case: as given, or the way a saved model needs it."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from aedetect.data.chunks import read_whole
from aedetect.data.readers import read_table, split_columns
from aedetect.data.resolve import load_data
from aedetect.data.table import Table
from aedetect.exceptions import ConfigError, DataError
from aedetect.outputs import check_target, write_bytes

__all__ = ["DataRequest", "about", "check_writable", "text_columns", "write_csv"]


@dataclass(frozen=True)
class DataRequest:
    """A DATA argument and how to read it: label and id columns, a class selection."""

    data: str
    label_column: str | None = None
    id_column: str | None = None
    normal: str | None = None
    abnormal: str | None = None
    abnormal_data: str | None = None
    image_size: str | tuple[int, int] | None = None
    # A series: its time column and value columns (comma-separated); see pipeline.series.
    time_column: str | None = None
    value_column: str | None = None
    # How messages, summaries, reports and model files name DATA; None: DATA itself.
    name: str | None = None

    @property
    def shown(self) -> str:
        """Return the name DATA goes by in messages and outputs."""
        return self.name or self.data

    def _named(self, table: Table) -> Table:
        return table if self.name is None else replace(table, source=self.name)

    def _selection(self) -> dict[str, Any]:
        return {
            "normal": self.normal,
            "abnormal": self.abnormal,
            "abnormal_data": self.abnormal_data,
            "image_size": self.image_size,
        }

    def load(self, progress: bool = False, text: Iterable[str] | None = ()) -> Table:
        """Load the data as given; ``text``: columns read as text (token sequences)."""
        return self._named(
            load_data(
                self.data,
                self.label_column,
                self.id_column,
                **self._selection(),
                progress=progress,
                text=tuple(text or ()),
            )
        )

    def load_for_model(self, det: Any, extra: dict[str, Any]) -> Table:
        """Load the data for a fitted model, reusing its id and label columns when present.

        Images in a folder become the model's kind (gray or RGB) and size, unless
        ``image_size`` says otherwise.
        """
        select = self._selection()
        text = text_columns(det)
        shape = getattr(det, "image_shape_", None)
        if det is not None:
            self._check_table_model(shape)
        if shape is not None:  # a folder's images become the model's kind
            channels = shape[0]
            select["color"] = "gray" if channels == 1 else "rgb" if channels == 3 else None
            if select["image_size"] is None:
                select["image_size"] = tuple(shape[1:])
        path = Path(self.data)
        if path.is_dir() and self.streams():  # a folder of Parquet files
            frame = read_whole(path)
        elif (
            not path.exists()
            or path.is_dir()
            or path.suffix.lower() not in (".csv", ".tsv", ".txt", ".parquet", ".pq")
            or any(select.get(k) is not None for k in ("normal", "abnormal", "abnormal_data"))
        ):
            return self._named(
                load_data(self.data, self.label_column, self.id_column, **select, text=text)
            )
        else:
            frame = read_table(path, text)
        label, id_ = self.model_columns(frame.columns, extra)
        return split_columns(frame, self.shown, label, id_)

    def _check_table_model(self, shape: tuple[int, ...] | None) -> None:
        """Refuse what a model of a table (not a series) would silently not use."""
        for name in ("time_column", "value_column"):
            if getattr(self, name) is not None:
                raise ConfigError(
                    f"{name} must not be given: this model is of a table, not a series"
                )
        if self.image_size is not None and shape is None:
            raise ConfigError("image_size must not be given: this model is of a table, not images")

    def model_columns(
        self, columns: Iterable[Any], extra: dict[str, Any]
    ) -> tuple[str | None, str | None]:
        """Return the label and id columns: as asked, else the model's when ``columns`` has them."""
        names = set(columns)
        saved_label, saved_id = extra.get("label_column"), extra.get("id_column")
        label = self.label_column or (saved_label if saved_label in names else None)
        id_ = self.id_column or (saved_id if saved_id in names else None)
        return label, id_

    def streams(self) -> bool:
        """Tell whether DATA can be read in chunks: a CSV / Parquet file or Parquet folder."""
        from aedetect.data.chunks import can_chunk

        selected = any(v is not None for v in (self.normal, self.abnormal, self.abnormal_data))
        return not selected and can_chunk(self.data)

    def with_data(self, data: str) -> DataRequest:
        """Return the same request for another DATA."""
        return replace(self, data=data)


def text_columns(det: Any) -> tuple[str, ...]:
    """Columns of ``det`` whose values are read as text: its token sequences."""
    return tuple(getattr(det, "sequence_columns", None) or ())


@contextlib.contextmanager
def about(source: str) -> Iterator[None]:
    """Prefix data errors raised inside the block with the data's source."""
    try:
        yield
    except DataError as exc:
        msg = str(exc)
        if source and not msg.startswith(source):
            raise DataError(f"{source}: {msg}") from None
        raise


def check_writable(path: Path) -> None:
    """Refuse an output file whose folder is missing, or that is not a regular file."""
    check_target(path)


def check_folder(path: Path | None) -> None:
    """Refuse an output folder that exists as a file, is a link to nothing, or is ``-``."""
    if path is not None and str(path) == "-":
        raise ConfigError("-: a folder of outputs cannot go to standard output; name a folder")
    if path is not None and path.is_symlink() and not path.exists():
        raise DataError(f"{path}: is a symbolic link to a missing folder")
    if path is not None and path.exists() and not path.is_dir():
        raise DataError(f"{path}: exists and is not a folder")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV, atomically."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    write_bytes(path, buffer.getvalue().encode())
