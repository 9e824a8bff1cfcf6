"""Explanations by cause: which column, set to what the model expects, takes the score down.

For a row and each of its columns (a sequence position; a pixel, or a patch of
an image with more than 256 pixels) a copy of the row gets that column alone
replaced by what the model expects there: what the model rebuilds there from
the row with that column at a typical value (a number at its training mean, a
category or token spread evenly over those seen in training): what the other
columns imply; a number as the value, a category or token as the model's
distribution over them. All copies of a row are scored in one batched pass with
the detector's own score (the score that flagged the row), and the fall of the
score is the column's effect. A table's number is also tried at seven typical
values around its training mean (:class:`~aedetect.value_grid.Grid`), and its effect is the largest
fall of all its tries: one reconstruction can stop short of the value the
other columns imply. A column that only absorbed another's error falls
little when set to its expectation, because the broken column still pulls the
row off; the broken column, set right, takes most of the score with it.

A category's or token's fall counts in the ranking only as far as its seen
value is more surprising than the model's distribution there is uncertain
(:func:`surprise`): a column the others barely predict (a city among the five
of its region) falls on every row, broken or not, and would otherwise come first
wherever the break is subtle. The printed ``share`` stays the share of the
row's score.

The per-column reconstruction error stays available as a second view
(``by="error"``). Neither view lists a category or token whose seen value is
the expected one, nor a column whose share rounds to 0%.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from aedetect.data.encoding import RARE
from aedetect.exceptions import ConfigError
from aedetect.value_grid import Grid, grid_drops

__all__ = [
    "COLUMNS",
    "EXPLAIN_BY",
    "Groups",
    "collect_parts",
    "expected_encoded",
    "explanation_frame",
    "score_drops",
    "shares",
    "surprise",
    "typical",
]

EXPLAIN_BY = ("cause", "error")
# Copies x encoded width scored per batch: bounds the memory of one pass.
BUDGET = 1 << 24
# Images with more pixels than this are explained by square patches (each copy is
# a whole image through the network: 256 copies per row keep a conv net's pass short).
MAX_GROUPS = 256
# Times a column's expected value is settled by reconstructing the copy holding it.
STEPS = 1
# Shares below this are not listed (they print as 0%).
MIN_SHARE = 0.005
# Added to each category's expected probability before its surprisal is read: a
# value the model rules out is about this likely, not impossible.
FLOOR = 1e-3


@dataclass(frozen=True)
class Groups:
    """What is explained: one group of encoder columns per line of the explanation.

    ``members[g]`` are the indices (into ``encoder.columns_``) a group covers:
    one column of a table or sequence position, one pixel, or a patch of pixels.
    """

    names: list[str]
    members: list[np.ndarray]

    @classmethod
    def of(cls, encoder: Any, image_shape: tuple[int, ...] | None = None) -> Groups:
        """One group per encoder column; square patches for images wider than MAX_GROUPS."""
        names = [c.name for c in encoder.columns_]
        if image_shape is None or len(names) != int(np.prod(image_shape)):
            return cls(names, [np.array([j]) for j in range(len(names))])
        c, h, w = (int(v) for v in image_shape)
        side = int(np.ceil(np.sqrt(h * w / MAX_GROUPS)))
        grid = np.arange(c * h * w).reshape(c, h, w)
        out_names, members = [], []
        for r in range(0, h, side):
            for q in range(0, w, side):
                members.append(grid[:, r : r + side, q : q + side].ravel())
                last = (min(r + side, h) - 1, min(q + side, w) - 1)
                single = side == 1 and c == 1
                out_names.append(names[r * w + q] if single else _patch_name(r, q, last, side))
        return cls(out_names, members)

    def masks(self, encoder: Any) -> torch.Tensor:
        """(n_groups, n_encoded) 0/1: the encoded slots each group's substitution sets."""
        mask = torch.zeros(len(self.members), encoder.n_features_out_)
        for g, cols in enumerate(self.members):
            for j in cols:
                col = encoder.columns_[j]
                width = 1 if col.kind == "numeric" else len(col.categories) + 1
                mask[g, col.start : col.start + width] = 1.0
        return mask


def _patch_name(r: int, q: int, last: tuple[int, int], side: int) -> str:
    if side == 1:
        return f"pixel {r},{q}"
    return f"pixels {r}-{last[0]},{q}-{last[1]}"


def expected_encoded(encoder: Any, X: np.ndarray, recon: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return what the model expects in every encoded slot, and each category's probability.

    Returns ``(expected, probability)``: ``expected`` is ``X`` with every number
    replaced by its reconstruction (an ordinal token by its nearest code) and every
    one-hot block by the model's distribution over the categories seen in training
    (the reconstructed block clipped to [0, 1] and normalised: a network trained
    on one-hot targets estimates the conditional frequencies); missing-value
    indicators stay as seen. Setting a category to that distribution removes its
    surprise without betting on one category where the model is unsure (a token
    drawn uniformly from eight), so the tokens the model finds unlikely stand
    out. ``probability`` (n, n_columns) is the most likely category's
    probability, NaN for numbers; decoding ``expected`` gives that category.
    """
    expected = np.array(X, dtype=np.float32, copy=True)
    prob = np.full((len(X), len(encoder.columns_)), np.nan)
    alphabets = encoder._ordinal_alphabets()
    for j, col in enumerate(encoder.columns_):
        if col.kind == "numeric":
            value = recon[:, col.start].astype(np.float64)
            if col.name in alphabets:  # a token's integer code: the nearest one
                top = len(alphabets[col.name]) - 1
                codes = np.clip(np.rint(value * col.scale + col.offset), 0, top)
                value = (codes - col.offset) / col.scale
            expected[:, col.start] = value
            continue
        k = len(col.categories)
        block = np.clip(recon[:, col.start : col.start + k], 0.0, 1.0).astype(np.float64)
        total = block.sum(axis=1, keepdims=True)
        hard = np.eye(k)[block.argmax(axis=1)]  # when the block is all <= 0
        dist = np.where(total > 0, block / np.where(total > 0, total, 1.0), hard)
        expected[:, col.start : col.start + k] = dist
        expected[:, col.start + k] = 0.0  # the "unseen" slot
        prob[:, j] = dist.max(axis=1)
    return expected, prob


Expect = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@torch.no_grad()
def score_drops(
    score: Callable[[torch.Tensor], np.ndarray],
    expect: Expect,
    X: torch.Tensor,
    masks: torch.Tensor,
    settle: torch.Tensor | None = None,
    origin: torch.Tensor | None = None,
    steps: int = STEPS,
    grid: Grid | None = None,
) -> tuple[np.ndarray, ...]:
    """Each row's score and how far it falls when one group alone is set as expected.

    ``expect(x)`` gives the expected encoding of rows ``x`` (see
    :func:`expected_encoded`) and their reconstruction. A group's expected value
    is first read from the row's own reconstruction; the slots in ``settle``
    (default: all of ``masks``) are then settled ``steps`` times by
    reconstructing the copy that holds them: what the model expects there given
    every other column, rather than given the broken one too. ``origin`` (one
    encoded row), when given, is where the settled slots start instead: a
    typical value (:func:`typical`), so that a network that copies a column
    through cannot expect the broken value. The groups of a ``grid``
    (:class:`~aedetect.value_grid.Grid`) are also tried at each of its values, and a group's drop
    is the largest of its tries (its expected value the one that gave it): a
    one-step expectation can stop short of the value the other columns imply.
    Every row's copies, one per group and grid value, go through each step
    and the scoring as one batch; rows are taken together as far as
    :data:`BUDGET` allows.

    Returns
    -------
    base : ndarray of shape (n,)
        The rows' scores.
    drops : ndarray of shape (n, n_groups)
        ``base - score(copy)``; negative when the substitution makes the row odder.
    settled, recon : ndarray of shape (n, n_encoded)
        The expected encoding that was substituted (each group's slots from its
        own copy) and the reconstruction it was read from.
    """
    n, m, width = len(X), len(masks), X.shape[1]
    masks = masks.to(X.device, X.dtype)
    settle = masks if settle is None else settle.to(X.device, X.dtype)
    base = np.asarray(score(X), dtype=np.float64)
    block = max(1, min(m, BUDGET // max(1, width)))  # groups per pass (a wide row: fewer)
    per_pass = max(1, BUDGET // max(1, block * width))  # rows per pass
    drops = np.empty((n, m), dtype=np.float64)
    settled, recon = np.zeros((n, width), np.float32), np.zeros((n, width), np.float32)
    for start in range(0, n, per_pass):
        x = X[start : start + per_pass]
        rows = slice(start, start + len(x))
        expected, rec = expect(x)
        if origin is not None:  # NaN: start from the row's own reconstruction
            origin = origin.to(X.device, X.dtype)
            on = settle.amax(dim=0) * origin.isfinite().to(X.dtype)
            expected = expected * (1.0 - on) + origin.nan_to_num() * on
        for first in range(0, m, block):
            part = slice(first, first + block)
            scored, put, rebuilt = _copies(
                score, expect, x, (expected, rec), masks[part], settle[part], steps
            )
            drops[rows, part] = base[rows, None] - scored
            settled[rows] += put  # groups cover disjoint slots
            recon[rows] += rebuilt
        if grid is not None and len(grid.groups):
            grid_drops(score, x, grid, base[rows], drops[rows], settled[rows], BUDGET)
    return base, drops, settled, recon


def _copies(
    score: Callable[[torch.Tensor], np.ndarray],
    expect: Expect,
    x: torch.Tensor,
    start: tuple[torch.Tensor, torch.Tensor],
    masks: torch.Tensor,
    settle: torch.Tensor,
    steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score the copies of rows ``x``, one per group of ``masks``, set from ``start``.

    Returns the copies' scores (rows, groups), and per row the substituted
    values and the reconstruction they were read from, in the groups' slots.
    """
    expected, rec = start
    width = x.shape[1]
    copies = x[:, None, :] * (1.0 - masks) + expected[:, None, :] * masks  # (rows, m, width)
    rebuilt = rec[:, None, :].expand_as(copies)
    for _ in range(steps if bool(settle.any()) else 0):
        expected, new = (t.reshape(copies.shape) for t in expect(copies.reshape(-1, width)))
        copies = copies * (1.0 - settle) + expected * settle
        rebuilt = rebuilt * (1.0 - settle) + new * settle
    scored = np.asarray(score(copies.reshape(-1, width)), dtype=np.float64).reshape(len(x), -1)
    put = (copies * masks).sum(dim=1).cpu().numpy()
    return scored, put, (rebuilt * masks).sum(dim=1).cpu().numpy()


def typical(encoder: Any) -> torch.Tensor:
    """Return one encoded row of typical values, where a substitution starts.

    Each number's mean (median if imputed); each category or one-hot token an
    even spread over the values seen in training (none on the unseen slot), so
    that its reconstruction is what the other columns imply, not a copy of the
    seen value. NaN elsewhere (missing-value indicators), and for a token's
    integer code (ordinal sequences), whose mean is no token: those start from
    the row's own reconstruction.
    """
    row = torch.full((encoder.n_features_out_,), float("nan"))
    tokens = encoder._ordinal_alphabets()
    for col in encoder.columns_:
        if col.kind == "numeric" and col.name not in tokens:
            row[col.start] = (float(col.fill) - col.offset) / col.scale
        elif col.kind != "numeric":
            k = len(col.categories)
            row[col.start : col.start + k] = 1.0 / k
            row[col.start + k] = 0.0
    return row


def surprise(encoder: Any, encoded: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Return how much more surprising each seen category is than usual, in [0, 1].

    Per row and column: ``1 - H(p) / -log p(seen)``, with ``p`` the model's
    distribution over the categories there given the other columns (the block of
    ``expected``, :func:`score_drops`'s substituted encoding; smoothed by
    :data:`FLOOR`) and ``H(p)`` its entropy, the surprisal a value drawn from
    ``p`` has on average. 0 when the seen value is no more surprising than that
    (any of the five cities of a region), near 1 when ``p`` rules it out (a
    region that is not the city's). 1 for a value never seen in training, which
    nothing in training makes usual, and for numbers: their whole drop counts.
    """
    out = np.ones((len(encoded), len(encoder.columns_)))
    for j, col in enumerate(encoder.columns_):
        if col.kind == "numeric":
            continue
        k = len(col.categories)
        p = (np.asarray(expected[:, col.start : col.start + k], np.float64) + FLOOR) / (
            1.0 + k * FLOOR
        )
        seen = np.asarray(encoded[:, col.start : col.start + k + 1], np.float64)
        surprisal = -np.log(np.maximum((p * seen[:, :k]).sum(axis=1), p.min(axis=1)))
        entropy = -(p * np.log(p)).sum(axis=1)
        ratio = np.divide(entropy, surprisal, out=np.ones_like(entropy), where=surprisal > 0)
        out[:, j] = np.where(seen[:, k] > 0, 1.0, np.clip(1.0 - ratio, 0.0, 1.0))
    return out


def shares(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``values / reference`` per row, clipped to [0, 1] (0 where the reference is not > 0)."""
    ref = np.asarray(reference, dtype=np.float64)[:, None]
    out = np.divide(values, ref, out=np.zeros_like(values, dtype=np.float64), where=ref > 0)
    return np.clip(out, 0.0, 1.0)


def collect_parts(
    encoder: Any,
    frame: pd.DataFrame,
    encoded: np.ndarray,
    recon: np.ndarray,
    groups: Groups,
    drops: np.ndarray,
    reference: np.ndarray,
    expected: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """Per-row, per-group arrays for :func:`explanation_frame` (see its ``parts``).

    ``encoded`` / ``recon`` are the rows as the network sees them and their
    reconstruction (for the errors); ``reference`` is the part of each row's
    score a share is of; ``expected`` the substituted encoding and the
    reconstruction it was read from (:func:`score_drops`). The ranking by cause
    (``rank``) is each drop times the seen value's :func:`surprise`.
    """
    settled, settled_from = expected
    _, prob = expected_encoded(encoder, settled, settled_from)
    errors = encoder.column_errors(np.square(recon - encoded), positions=True)
    seen, expected_values = encoder.readable(frame), encoder.inverse_transform(settled)
    cats = np.array([c.kind == "categorical" for c in encoder.columns_])
    unseen, frequency = training_frequency(encoder, seen)
    factor = surprise(encoder, encoded, settled)
    if any(len(m) > 1 for m in groups.members):  # patches: sum the errors, average the values
        seen, expected_values, errors, prob, unseen, frequency, cats = _pooled(
            groups, seen, expected_values, errors
        )
        factor = np.ones(drops.shape)  # pixels are numbers
    totals = errors.sum(axis=1)
    return {
        "names": groups.names,
        "seen": seen,
        "expected": expected_values,
        "probability": prob,
        "unseen": unseen,
        "frequency": frequency,
        "categorical": cats,
        "drop": drops,
        "rank": drops * factor,
        "share": shares(drops, reference),
        "error": errors,
        "error_share": shares(errors, totals),
    }


def training_frequency(encoder: Any, seen: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row and column: whether the seen category is new, and its training share.

    The share of the training rows that had the seen category or token there (0
    when never seen; NaN for numbers, missing values and encoders fitted before
    categories were counted).
    """
    unseen = np.zeros(seen.shape, dtype=bool)
    frequency = np.full(seen.shape, np.nan)
    for j, col in enumerate(encoder.columns_):
        if col.kind == "categorical":
            values = seen.iloc[:, j]
            present = values.notna().to_numpy()
            text = values.astype(str)
            unseen[:, j] = present & ~text.isin(col.categories)
            total = sum(col.counts)
            if total > 0:
                shares = pd.Series(np.divide(col.counts, total), index=col.categories)
                found = text.map(shares).fillna(0.0).to_numpy(dtype=np.float64)
                frequency[:, j] = np.where(present, found, np.nan)
    return unseen, frequency


def _pooled(
    groups: Groups, seen: pd.DataFrame, expected: pd.DataFrame, errors: np.ndarray, *_: Any
) -> tuple[Any, ...]:
    """Group-level values of patches: mean seen / expected value, summed error."""

    def mean(values: pd.DataFrame) -> pd.DataFrame:
        v = values.to_numpy(dtype=np.float64)
        return pd.DataFrame(np.column_stack([v[:, m].mean(axis=1) for m in groups.members]))

    def total(values: np.ndarray) -> np.ndarray:
        return np.column_stack([values[:, m].sum(axis=1) for m in groups.members])

    n, m = len(errors), len(groups.members)
    return (
        mean(seen),
        mean(expected),
        total(errors),
        np.full((n, m), np.nan),
        np.zeros((n, m), dtype=bool),
        np.full((n, m), np.nan),
        np.zeros(m, dtype=bool),
    )


def explanation_frame(parts: dict[str, Any], top: int, by: str = "cause") -> pd.DataFrame:
    """Return the ``top`` lines of each row, ranked by cause (score drop) or by error.

    ``parts`` holds per-row, per-group arrays: ``names``, ``seen`` and ``expected``
    (readable values, DataFrames), ``share`` (of the score, by cause), ``drop``,
    ``rank`` (the order by cause: the drop, a category's times its
    :func:`surprise`; ``drop`` when absent), ``error`` and ``error_share``
    (reconstruction error), ``probability`` (of the expected category) and
    ``unseen`` (True for a token or category never seen in training) and
    ``frequency`` (its share of the training rows). By cause, a value never seen
    there comes first, then one rarer than :data:`~aedetect.data.encoding.RARE`,
    then the rest. A line whose seen value is the expected category, or whose
    share in the ranking view is below :data:`MIN_SHARE` (unless unseen or rare
    by cause), is left out.
    """
    if by not in EXPLAIN_BY:
        raise ConfigError(f"by must be one of {', '.join(EXPLAIN_BY)}, got {by!r}")
    key = parts["share"] if by == "cause" else parts["error_share"]
    order_by = parts.get("rank", parts["drop"]) if by == "cause" else key
    seen, expected = parts["seen"], parts["expected"]
    same = parts["categorical"][None, :] & (seen.to_numpy() == expected.to_numpy())
    # By cause, a value never seen there in training comes first, whatever its drop:
    # nothing in training makes it usual (a token of a broken sequence set to the
    # model's spread-out guess may take little of the score with it). So does one
    # that almost no training row had there (RARE: in unsupervised training a broken
    # sequence's tokens are among the training rows, once each).
    unseen = np.asarray(parts["unseen"], dtype=bool)
    frequency = np.asarray(parts.get("frequency", np.full(key.shape, np.nan)), np.float64)
    unusual = (unseen | (np.nan_to_num(frequency, nan=1.0) < RARE)) & (by == "cause")
    eligible = ((key >= MIN_SHARE) | unusual) & ~same
    tier = np.where(unusual, np.where(unseen, 0, 1), 2)  # unseen, rare, the rest
    records = []
    for i in range(len(key)):
        order = np.lexsort((-order_by[i], tier[i]))
        for j in [j for j in order if eligible[i, j]][: max(1, int(top))]:
            records.append(
                (
                    i,
                    parts["names"][j],
                    seen.iat[i, j],
                    expected.iat[i, j],
                    parts["probability"][i, j],
                    bool(unseen[i, j]),
                    frequency[i, j],
                    parts["share"][i, j],
                    parts["drop"][i, j],
                    parts["error"][i, j],
                    parts["error_share"][i, j],
                )
            )
    return pd.DataFrame(records, columns=list(COLUMNS))


COLUMNS = {
    "row": "0-based position of the row in X",
    "column": "the column, sequence position (seq[3]), pixel or patch",
    "seen": "the value in the row",
    "expected": "what the model expects there: the number that takes the score down most, "
    "or the most likely category/token",
    "probability": "the expected category's or token's probability (empty for numbers)",
    "unseen": "True when the seen category/token never occurred there in training",
    "frequency": "share of the training rows with the seen category/token there (0: unseen)",
    "share": "share of the row's score that goes when this column alone is as expected",
    "drop": "how far the score falls when this column alone is as expected",
    "error": "the column's weighted squared reconstruction error",
    "error_share": "its share of the row's reconstruction error",
}
