"""Issue 13, part 3: which default threshold rule, measured by F1 and precision.

For each split of ``benchmarks/adbench.py`` (and the built-in ``mixed`` table), a
detector is fitted once; every rule is fitted on the same training scores and
applied to the test scores. Rules: the current default (the 0.9 quantile of the
training scores, ``contamination=0.1``), ``mad:3``, ``iqr:1.5``, ``gpd:0.001``,
``gamma:0.001`` (``aedetect.thresholds``). Detectors: aedetect's current defaults
and research recipes (``benchmarks/adbench_research.py``).

    .venv/bin/python -m benchmarks.adbench_thresholds --detectors aedetect,e5-rk --seeds 0

Writes ``benchmarks/results/adbench_thresholds.csv`` (one row per detector, split
and rule) and prints mean F1 and precision per setting, detector and rule.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import adbench

RULES = ("contamination:0.1", "mad:3", "iqr:1.5", "gpd:0.001", "gamma:0.001")


def fit_scores(detector: str, X_fit: Any, X_test: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and test scores of ``detector`` (``aedetect`` or a research recipe)."""
    if detector == "aedetect":
        from aedetect import AutoencoderDetector

        det = AutoencoderDetector(random_state=seed).fit(X_fit)
        return det.decision_scores_, det.decision_function(X_test)
    from benchmarks.adbench_research import Prototype, recipe_from

    proto = Prototype(recipe_from(detector), seed).fit(np.asarray(X_fit, dtype=np.float64))
    return proto.train_scores_, proto.score(np.asarray(X_test, dtype=np.float64))


def rule_rows(train: np.ndarray, test: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    from sklearn.metrics import f1_score, precision_score, recall_score

    from aedetect.thresholds import parse_threshold

    rows = []
    for text in RULES:
        row: dict[str, Any] = {"rule": text}
        try:
            cut = parse_threshold(text).fit(np.asarray(train, dtype=np.float64)).threshold_
            flags = (test > cut).astype(int)
            row.update(
                f1=f1_score(y, flags, zero_division=0),
                precision=precision_score(y, flags, zero_division=0),
                recall=recall_score(y, flags, zero_division=0),
                flagged=float(flags.mean()),
                status="ok",
            )
        except Exception as exc:  # a rule that cannot fit is a result
            row["status"] = adbench._error(exc)
        rows.append(row)
    return rows


def mixed_rows(detectors: list[str], seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    """The built-in mixed table (10 anomalies in 2,000 rows): fit on all, flag the same rows."""
    from aedetect.data.datasets import make_mixed_table

    table = make_mixed_table()
    y = table.labels.to_numpy()
    rows = []
    for det in detectors:
        if det != "aedetect":
            continue  # the prototypes take numeric matrices only
        for seed in seeds:
            train, _ = fit_scores(det, table.features, table.features.iloc[:1], seed)
            for r in rule_rows(train, train, y):
                rows.append(
                    {"dataset": "mixed", "seed": seed, "setting": "unsup", "detector": det, **r}
                )
    return rows


def cached_rows(name: str, spec: str, cache: Path) -> list[dict[str, Any]]:
    """Rules on a research ensemble's scores, from ``adbench_research screen``'s cache."""
    import re

    from aedetect.data.adbench import load_adbench_arrays
    from benchmarks.adbench_research import mix_scores

    rows = []
    for key in sorted({f.name[:-4].split("__")[1] for f in cache.glob("*__*.npz")}):
        m = re.match(r"(.+)_(\d+)_(unsup|oneclass)$", key)
        got = mix_scores(spec, cache, key) if m else None
        if got is None:
            continue
        dataset, seed, setting = m.group(1), int(m.group(2)), m.group(3)
        X, y = load_adbench_arrays(dataset)
        y_test = adbench.make_split(dataset, X, y, seed, setting).y_test
        info = {"dataset": dataset, "seed": seed, "setting": setting, "detector": name}
        rows += [{**info, **r} for r in rule_rows(got[0], got[1], y_test)]
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    import torch

    p = argparse.ArgumentParser(prog="python -m benchmarks.adbench_thresholds")
    p.add_argument("--detectors", default="aedetect")
    p.add_argument("--sets", default="all")
    p.add_argument("--seeds", default="0")
    p.add_argument("--settings", default="unsup,oneclass")
    p.add_argument("--cached", help="name=spec of a research ensemble (scores from the cache)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/adbench-research"))
    p.add_argument(
        "--out", type=Path, default=adbench.ROOT / "benchmarks/results/adbench_thresholds.csv"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    import logging

    logging.getLogger("aedetect").setLevel(logging.ERROR)
    from benchmarks.adbench_research import sets_of

    adbench.fill_cache_from_local()
    detectors = args.detectors.split(",")
    seeds = tuple(int(s) for s in args.seeds.split(","))
    if args.cached:
        name, spec = args.cached.split("=", 1)
        rows = cached_rows(name, spec, args.cache)
        detectors = []
    else:
        rows = mixed_rows(detectors, seeds)
    todo = adbench.splits(sets_of(args.sets), seeds, tuple(args.settings.split(",")))
    for split in todo if detectors else ():
        for det in detectors:
            train, test = fit_scores(det, split.X_fit, split.X_test, split.seed)
            info = {"dataset": split.dataset, "seed": split.seed, "setting": split.setting}
            rows += [{**info, "detector": det, **r} for r in rule_rows(train, test, split.y_test)]
            adbench.log(f"[{split.dataset} {split.seed} {split.setting}] {det} done")
    out = pd.DataFrame(rows)
    out.to_csv(args.out, index=False)
    ok = out[(out["status"] == "ok") & (out["dataset"] != "mixed")]
    summary = ok.groupby(["setting", "detector", "rule"])[
        ["f1", "precision", "recall", "flagged"]
    ].mean()
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print(out[out["dataset"] == "mixed"].to_string(index=False))
    return out


if __name__ == "__main__":
    main()
