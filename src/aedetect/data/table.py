"""The :class:`Table` every reader and built-in data set returns, and its label helper."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Table", "binary_labels", "why_not_binary"]


@dataclass
class Table:
    """Feature columns plus the optional label and id columns kept out of them."""

    features: pd.DataFrame
    labels: pd.Series | None = None
    ids: pd.Series | None = None
    source: str = ""
    # Columns the data set declares as token sequences (built-in generators do).
    sequence_columns: tuple[str, ...] = ()
    # (channels, height, width) when the features are flat image pixels.
    image_shape: tuple[int, int, int] | None = None
    # Rows to fit on (a boolean mask) when a normal class was picked; None: all rows.
    fit_rows: np.ndarray | None = None
    # The time column of a series the data set declares (``nab:``); a feature column.
    time_column: str | None = None


def why_not_binary(labels: pd.Series) -> str:
    """Say why ``labels`` are not 0/1 anomaly labels (a blank row, one value, other values)."""
    raw = pd.Series(np.asarray(labels))
    name = getattr(labels, "name", None)
    head = f"the label column '{name}'" if name is not None else "the labels"
    if raw.isna().any():
        return f"{head} has no value in row {int(np.flatnonzero(raw.isna())[0]) + 1}"
    values = sorted(map(str, raw.unique()))
    if len(values) == 1:
        return f"{head} holds one value ({values[0]!r}): nothing to tell apart"
    shown = ", ".join(map(repr, values[:3])) + (", ..." if len(values) > 3 else "")
    return f"{head} holds {len(values)} distinct values ({shown}), not 0/1 (1 = anomaly)"


def binary_labels(labels: pd.Series | np.ndarray | None) -> np.ndarray | None:
    """Labels as 0/1 integers when they are exactly the two values 0 and 1, else None.

    A label column of class names, or one holding a single value, is not a 0/1
    anomaly label: the caller then shows no metrics rather than wrong ones.
    """
    if labels is None:
        return None
    values = pd.to_numeric(pd.Series(np.asarray(labels)), errors="coerce").to_numpy()
    if np.isnan(values).any() or set(np.unique(values)) != {0, 1}:
        return None
    return values.astype(int)
