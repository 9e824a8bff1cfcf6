"""A seeded uniform sample of rows from a table read in parts (chunks, files, partitions).

Each row gets a random key from a generator seeded by ``(seed, part)``; the
sample is the ``k`` rows with the smallest keys. So the sample is uniform
without replacement, the same for the same seed and the same parts however
they are visited, and parts can be sampled apart (on Dask workers) and merged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aedetect.exceptions import ConfigError

__all__ = ["KEY_COLUMNS", "RowSample"]

# Columns carrying each kept row's key and place while parts travel between processes.
KEY_COLUMNS = ("__aedetect_key", "__aedetect_part", "__aedetect_row")


class RowSample:
    """Keep ``k`` rows drawn uniformly from the parts added, seeded by ``seed``.

    Parameters
    ----------
    k : int
        Rows to keep.
    seed : int
        The same seed and parts give the same rows.
    """

    def __init__(self, k: int, seed: int) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"sample_rows must be a positive integer, got {k!r}")
        self.k, self.seed = int(k), int(seed)
        self._held: pd.DataFrame | None = None
        self.seen = 0

    def keyed(self, frame: pd.DataFrame, part: int) -> pd.DataFrame:
        """Return ``frame``'s ``k`` rows of smallest key, with the key columns added."""
        keys = np.random.default_rng([self.seed, int(part)]).random(len(frame))
        keep = np.sort(np.argsort(keys, kind="stable")[: self.k])
        columns = dict(zip(KEY_COLUMNS, (keys[keep], int(part), keep), strict=True))
        return frame.iloc[keep].reset_index(drop=True).assign(**columns)

    def add(self, frame: pd.DataFrame, part: int) -> None:
        """Offer the rows of part number ``part`` (each part number once)."""
        self.seen += len(frame)
        self.merge(self.keyed(frame, part))

    def merge(self, keyed: pd.DataFrame) -> None:
        """Offer rows that :meth:`keyed` returned (from this or another process)."""
        both = keyed if self._held is None else pd.concat([self._held, keyed], ignore_index=True)
        order = np.argsort(both[KEY_COLUMNS[0]].to_numpy(), kind="stable")[: self.k]
        self._held = both.iloc[order].reset_index(drop=True)

    def frame(self, keys: bool = False) -> pd.DataFrame:
        """Return the sample in input order (by part, then row); with ``keys``, the key columns."""
        if self._held is None:
            raise ConfigError("the sample is empty: no rows were added")
        held = self._held.sort_values(list(KEY_COLUMNS[1:]), kind="stable")
        held = held.reset_index(drop=True)
        return held if keys else held.drop(columns=list(KEY_COLUMNS))
