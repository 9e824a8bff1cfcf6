"""Typical values a table's number is tried at when its effect on the score is measured.

:func:`aedetect.attribution.score_drops` sets each column alone to what the
model expects there; one reconstruction can stop short of the value the other
columns imply. A number of a table is therefore also tried at its training mean
and around it (:data:`GRID` standard deviations), and its effect is the largest
fall of the score over all its tries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["GRID", "MAX_NUMBERS", "Grid", "grid_drops"]

# A table's number is also tried at its training mean + these standard deviations
# (the normal's 2%, 18%, ..., 98% quantiles); its drop is the largest of them all.
GRID = (-2.054, -0.915, -0.412, 0.0, 0.412, 0.915, 2.054)
#: Tables with more numbers get no grid: each number's tries are copies of the whole
#: row, so their cost grows with the square of the width (images: patches, likewise).
MAX_NUMBERS = 256


@dataclass(frozen=True)
class Grid:
    """Typical values a table's numbers are also tried at (see :data:`GRID`).

    ``groups[k]`` is a group of one number, ``slots[k]`` its encoded slot and
    ``values[k]`` the encoded values it is tried at.
    """

    groups: torch.Tensor
    slots: torch.Tensor
    values: torch.Tensor

    @classmethod
    def of(cls, encoder: Any, groups: Any) -> Grid:
        """Return the grid of every group of one number (not a token code, not constant).

        Around the column's training mean, in steps of its training standard
        deviation (both in scaled units, read from the clipping bounds; without
        clipping, the mean or median that fills a gap, and 1). Empty for a
        table of more than :data:`MAX_NUMBERS` numbers.
        """
        clip, tokens = getattr(encoder, "clip", None), encoder._ordinal_alphabets()
        found: list[tuple[int, int, float, float]] = []
        for g, cols in enumerate(groups.members):
            col = encoder.columns_[cols[0]]
            if len(cols) != 1 or col.kind != "numeric" or col.constant or col.name in tokens:
                continue
            if clip and np.isfinite(col.low) and np.isfinite(col.high):
                centre, sd = (col.low + col.high) / 2, (col.high - col.low) / (2 * float(clip))
            else:
                centre, sd = (float(col.fill) - col.offset) / col.scale, 1.0
            found.append((g, col.start, centre, sd))
        if len(found) > MAX_NUMBERS:
            found = []
        z = torch.tensor(GRID, dtype=torch.float32)
        return cls(
            torch.tensor([f[0] for f in found], dtype=torch.long),
            torch.tensor([f[1] for f in found], dtype=torch.long),
            torch.stack([f[2] + z * f[3] for f in found]) if found else torch.empty(0, len(GRID)),
        )


def grid_drops(
    score: Callable[[torch.Tensor], np.ndarray],
    x: torch.Tensor,
    grid: Grid,
    base: np.ndarray,
    drops: np.ndarray,
    settled: np.ndarray,
    budget: int,
) -> None:
    """Raise ``drops`` (and set ``settled``) in place where a grid value takes the score lower.

    The copies go through ``score`` at most ``budget`` values at a time (whole
    numbers' grids, at least one).
    """
    k, g = grid.values.shape
    width = x.shape[1]
    block = max(1, budget // max(1, len(x) * g * width))
    for first in range(0, k, block):
        part = slice(first, first + block)
        values, slots = grid.values[part].to(x.device, x.dtype), grid.slots[part]
        b = len(slots)
        copies = x[:, None, None, :].repeat(1, b, g, 1)  # (rows, b, g, width)
        copies[:, torch.arange(b)[:, None], torch.arange(g)[None, :], slots[:, None]] = values
        scored = np.asarray(score(copies.reshape(-1, width)), dtype=np.float64)
        scored = scored.reshape(len(x), b, g)
        best = scored.argmin(axis=2)
        fall = base[:, None] - np.take_along_axis(scored, best[..., None], axis=2)[..., 0]
        columns, at = grid.groups[part].numpy(), slots.numpy()
        better = fall > drops[:, columns]
        drops[:, columns] = np.where(better, fall, drops[:, columns])
        chosen = grid.values[part].numpy()[np.arange(b)[None, :], best]
        settled[:, at] = np.where(better, chosen, settled[:, at])
