"""Ablation of the ranking by cause (issue 15) on the explain benchmark's rows.

    python -m benchmarks.explain_ablation [--sets cardio,thyroid] [--no-sequences]

Fits the default detector per table as ``benchmarks.explain`` does (same seeds,
same corrupted rows), computes the score drops once per way of setting a column
to its expectation, ranks them each way and prints a Markdown table: the share of
rows whose corrupted column comes first by cause (all rows / flagged rows), the
cost of the drops and the ranking in ms per row (the quickest of five runs,
mean over the tables; the offsets' pass over training rows not counted), and
the reference sequences (anomalies whose illegal positions all rank above every
legal one). Variants:

- ``before``: categories as read from the row's own reconstruction, ranked by
  the drop (aedetect before this change);
- ``even``: categories settled from an even spread over their values, as
  numbers are from their mean (``STEPS`` times; ``even, 2 steps``: twice);
- ``offsets``: the drop less its median over 256 normal training rows;
- ``most likely``: a category set to its most likely value, not the model's
  distribution over its values (ranked by the drop, or times its surprise);
- ``brier``: a category's drop times ``1 - E/S`` (E: the squared error a value
  drawn from the model's distribution has on average, S: the seen value's);
- ``surprise`` (chosen): a category's drop times
  :func:`aedetect.attribution.surprise`;
- ``surprise + numbers``: numbers' drops also times ``1 - s2 / r2`` (s2: the
  median squared residual of the column on normal training rows, r2: the row's).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from benchmarks import explain as bench

VARIANTS = {  # name: (categories settled, steps, ranking); "hard": the most likely category
    "before": (False, 1, "drop"),
    "even": (True, 1, "drop"),
    "even, 2 steps": (True, 2, "drop"),
    "even, most likely": ("hard", 1, "drop"),
    "even, most likely + surprise": ("hard", 1, "surprise"),
    "even + offsets": (True, 1, "offsets"),
    "even + brier": (True, 1, "brier"),
    "even + surprise (chosen)": (True, 1, "surprise"),
    "even + surprise + numbers": (True, 1, "numbers"),
}


def drops(det: Any, Xt: torch.Tensor, categories: Any, steps: int) -> tuple[np.ndarray, ...]:
    """:func:`~aedetect.attribution.score_drops`, categories settled or not, or ``"hard"``.

    With ``"hard"`` a category is settled, then set to its most likely value; the
    distribution (for :func:`~aedetect.attribution.surprise`) is returned in place
    of the substituted encoding.
    """
    from aedetect.attribution import Groups, expected_encoded, score_drops, typical
    from aedetect.runtime import compute
    from aedetect.scoring import reconstructions

    enc = det.encoder_
    masks = Groups.of(enc, det.image_shape_).masks(enc)
    settle, origin = masks.clone(), typical(enc)
    if not categories:
        for j, col in enumerate(enc.columns_):
            if col.kind != "numeric":
                settle[j] = 0.0
                origin[col.start : col.start + len(col.categories) + 1] = float("nan")

    def expect(x: torch.Tensor, hard: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        recon = reconstructions(det.module_, x, det._bounds_)
        expected, _ = expected_encoded(enc, x.cpu().numpy(), recon)
        for col in enc.columns_ if hard else ():
            if col.kind != "numeric":
                block = expected[:, col.start : col.start + len(col.categories)]
                block[:] = np.eye(block.shape[1])[block.argmax(axis=1)]
        return torch.from_numpy(expected), torch.from_numpy(recon)

    with compute():
        score = lambda x: det.scorer_.score(det.module_, x)  # noqa: E731
        out = score_drops(score, expect, Xt, masks, settle, origin, steps=steps)
        if categories != "hard":
            return out
        hard = score_drops(score, lambda x: expect(x, True), Xt, masks, settle, origin, steps)
        return (hard[0], hard[1], out[2], hard[3])


def _brier(enc: Any, X: np.ndarray, settled: np.ndarray) -> np.ndarray:
    out = np.ones((len(X), len(enc.columns_)))
    for j, col in enumerate(enc.columns_):
        if col.kind != "numeric":
            k = len(col.categories)
            p, e = settled[:, col.start : col.start + k], X[:, col.start : col.start + k + 1]
            seen = ((e[:, :k] - p) ** 2).sum(1) + e[:, k] ** 2
            out[:, j] = np.clip(1 - (1 - (p**2).sum(1)) / np.maximum(seen, 1e-12), 0, 1)
    return out


def keys(det: Any, frame: pd.DataFrame, out: tuple, rank: str, normal: tuple) -> np.ndarray:
    """Ranking key per (row, column); -inf where ``explain`` would not list the column."""
    from aedetect.attribution import MIN_SHARE, shares, surprise

    enc, X = det.encoder_, det._encode(frame).numpy()
    base, drop, settled = out[0], out[1], out[2]
    low = min(0.0, float(np.min(det.decision_scores_)))
    expected = enc.inverse_transform(settled).to_numpy()
    cats = np.array([c.kind == "categorical" for c in enc.columns_])
    listed = (shares(drop, base - low) >= MIN_SHARE) & ~(
        cats[None, :] & (enc.readable(frame).to_numpy() == expected)
    )
    key = drop.copy()
    if rank == "offsets":
        key = drop - np.median(normal[1], axis=0)[None, :]
    elif rank == "brier":
        key = drop * _brier(enc, X, settled)
    elif rank in ("surprise", "numbers"):
        key = drop * surprise(enc, X, settled)
    if rank == "numbers":
        starts = np.array([c.start for c in enc.columns_])
        s2 = np.median((normal[0][:, starts] - normal[2][:, starts]) ** 2, axis=0)
        r2 = (X[:, starts] - settled[:, starts]) ** 2
        factor = np.clip(1 - s2[None, :] / np.maximum(r2, 1e-12), 0, 1)
        key = np.where(cats[None, :], key, drop * factor)
    return np.where(listed, key, -np.inf)


def _normal(det: Any, train: pd.DataFrame, categories: bool, steps: int) -> tuple:
    """256 seeded training rows at or below the threshold: their encoding and drops."""
    rows = np.flatnonzero(det.decision_scores_ <= det.threshold_)
    rows = np.sort(np.random.default_rng(0).choice(rows, min(256, rows.size), replace=False))
    Xt = det._encode(train.iloc[rows].reset_index(drop=True))
    out = drops(det, Xt, categories, steps)
    return Xt.numpy(), out[1], out[2]


def table_rows(name: str, normal: pd.DataFrame, rows: int, seed: int) -> list[dict[str, Any]]:
    """Every variant on one table: by cause over all and flagged rows, ms/row."""
    from aedetect import AutoencoderDetector

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(normal))
    cut = int(0.8 * len(normal))
    train = normal.iloc[order[:cut]].reset_index(drop=True)
    held = normal.iloc[order[cut:][:rows]].reset_index(drop=True)
    det = AutoencoderDetector(random_state=seed).fit(train)
    bad, columns, _ = bench.corrupt(held, train, rng)
    flagged = det.predict(bad) == 1
    names = np.array([c.name for c in det.encoder_.columns_])
    out = []
    drops(det, det._encode(bad), True, 1)  # warm-up
    for variant, (categories, steps, rank) in VARIANTS.items():
        norm = _normal(det, train, categories, steps) if rank in ("offsets", "numbers") else ()
        seconds = np.inf
        for _ in range(5):  # the quickest of five: the others' load is not the variant's
            started = time.perf_counter()
            key = keys(det, bad, drops(det, det._encode(bad), categories, steps), rank, norm)
            seconds = min(seconds, time.perf_counter() - started)
        hit = names[np.argmax(key, axis=1)] == np.array(columns)
        out.append(
            {
                "table": name,
                "variant": variant,
                "all": hit.mean(),
                "flagged": hit[flagged].mean(),
                "ms": 1000 * seconds / len(bad),
            }
        )
    return out


def sequences(seed: int) -> dict[str, int]:
    """Per variant: reference anomalies whose illegal positions all rank first."""
    det, rows, train = bench.reference_sequences(seed)
    out = {}
    for variant, (categories, steps, rank) in VARIANTS.items():
        result = drops(det, det._encode(rows), categories, steps)
        norm = _normal(det, train, categories, steps) if rank != "drop" else ()
        key = keys(det, rows, result, rank, norm)
        good = 0
        for i, seq in enumerate(rows["sequence"]):
            illegal = bench.illegal_positions(seq)
            good += set(np.argsort(-key[i], kind="stable")[: len(illegal)]) == illegal
        out[variant] = good
    return out


def main(argv: list[str] | None = None) -> str:
    """Run every variant and print the Markdown table."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.explain_ablation")
    p.add_argument("--sets", default="cardio,thyroid", help="ADBench sets, comma-separated")
    p.add_argument("--rows", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-sequences", action="store_true")
    args = p.parse_args(argv)
    tables = bench._tables(tuple(s for s in args.sets.split(",") if s), args.seed)
    rows = [r for n, f in tables.items() for r in table_rows(n, f, args.rows, args.seed)]
    frame = pd.DataFrame(rows)
    cells = frame.assign(
        cell=[f"{a:.0%} / {f:.0%}" for a, f in zip(frame["all"], frame["flagged"], strict=True)]
    )
    wide = cells.pivot(index="variant", columns="table", values="cell").loc[list(VARIANTS)]
    ms = frame.groupby("variant")["ms"].mean().loc[list(VARIANTS)]
    seqs = {} if args.no_sequences else sequences(args.seed)
    head = ["variant", *wide.columns, "ms/row (mean)", "sequences"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|--:" * (len(head) - 1) + "|"]
    for variant, row in wide.iterrows():
        seq = f"{seqs[variant]} of 5" if seqs else "-"
        lines.append(f"| {variant} | {' | '.join(row)} | {ms[variant]:.2f} | {seq} |")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
