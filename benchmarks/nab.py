"""aedetect on the Numenta Anomaly Benchmark (NAB): 58 series, NAB's rules and score.

Rules (NAB's): each file is scored on its own, in time order; the detector may use
only data up to the current time. Here the windowed autoencoder is fitted on the
windows of the probationary period (the first 15% of the file, at most 750 rows),
optionally refitted every ``refit`` rows on the windows seen so far, and every
score at row ``t`` comes from windows that end at or before ``t``
(:func:`aedetect.data.series.causal_scores`). The same settings serve all 58 files.
Scores go through :mod:`aedetect.nab_scoring` (NAB's windows, sigmoid, profiles,
corpus-wide threshold, normalisation between the null and the perfect detector).

Run from the repository root (the NAB cache is filled from ``../shared/data/nab``
when it is there, else downloaded)::

    .venv/bin/python -m benchmarks.nab                       # the recommended design
    .venv/bin/python -m benchmarks.nab --designs all         # every design tried
    .venv/bin/python -m benchmarks.nab --designs w32-last-lik5 --files 10 --set suppress=100

Appends to ``benchmarks/results/nab_designs.csv`` (one row per design: the three NAB
scores, time) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect.data import nab
from aedetect.data.series import causal_scores, default_window, sliding_windows, window_ends
from aedetect.nab_scoring import probationary_length, score_corpus_all_profiles, window_indices

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SHARED_NAB = ROOT.parent / "shared" / "data" / "nab"

SCOREBOARD = {  # NAB's published scoreboard (standard, low FP, low FN)
    "ARTime": (74.9, 65.2, 80.4),
    "Numenta HTM": (70.1, 63.1, 74.3),
    "CAD OSE": (69.9, 67.0, 73.2),
    "earthgecko Skyline": (58.2, 46.2, 63.8),
    "KNN CAD": (58.0, 43.4, 64.8),
    "Random Cut Forest": (51.7, 38.4, 59.7),
    "Twitter ADVec": (47.1, 33.6, 53.5),
    "windowed Gaussian": (39.6, 20.9, 47.4),
    "random": (11.0, 1.2, 19.5),
    "null": (0.0, 0.0, 0.0),
}


@dataclass(frozen=True)
class Design:
    """One windowed-autoencoder detector, the same for every file.

    window : rows per window (0 = from the probationary data, :func:`default_window`).
    centre : subtract each window's mean (level-free shapes) before the model.
    error : "window" (mean error of the window), "last" (error of its last row) or
        "both" (each post-processed on its own, then the larger).
    post : "raw" (the error), "ztrain" (z-score against the training errors) or
        "likelihood" (NAB-style: short-term mean of recent errors as a z-score against
        the errors of the last ``history`` rows).
    refit : refit every this many rows on the windows seen so far (0 = never).
    suppress : keep a score only where it exceeds every score of the previous
        ``suppress`` rows (0 = keep all): one alarm per burst.
    """

    window: int = 32
    centre: bool = False
    error: str = "both"
    post: str = "likelihood"
    short: int = 1
    log: bool = False  # z-scores of log errors (squared errors are heavy-tailed)
    history: int = 3000
    refit: int = 0
    suppress: int = 200
    hidden: tuple[int, ...] = (16, 4)
    epochs: int = 60
    max_train: int = 3000  # most recent training windows at a refit


_LIK5 = {"post": "likelihood", "short": 5, "history": 2000, "suppress": 0}
DESIGNS: dict[str, Design] = {
    # first round: how to make errors comparable across files (the threshold is corpus-wide)
    "w32-window-raw": Design(error="window", post="raw", suppress=0),
    "w32-window-ztrain": Design(error="window", post="ztrain", suppress=0),
    "w32-last-ztrain": Design(error="last", post="ztrain", suppress=0),
    "w32-last-lik5": Design(error="last", **_LIK5),
    "w32-centre-last-lik5": Design(error="last", centre=True, **_LIK5),
    # second round (benchmarks/nab_explore.py, chosen on half the files)
    "w32-last-z1-h3000-s100": Design(error="last", suppress=100),
    "w32-last-z1-h8640-s100": Design(error="last", history=8640, suppress=100),
    "wauto-last-z1-h3000-s200": Design(error="last", window=0),
    "w32-last-z1-h3000-s200-refit2000": Design(error="last", refit=2000),
    "w32-last-z1-h3000-s200": Design(error="last"),
    # third round: the larger of the last-row and the window z-scores
    "w32-both-z1-h3000-s200": Design(),
}
RECOMMENDED = "cli-default"  # the command line's default (LIBRARY below)


def load_corpus(limit: int | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """NAB's series and labelled windows (as row ranges), filling the cache from shared/."""
    if not nab.is_cached() and SHARED_NAB.is_dir():
        nab.fill_cache(SHARED_NAB)
    names = nab.NAB_SERIES[:limit] if limit else nab.NAB_SERIES
    windows = nab.load_nab_windows()
    series = {name: nab.load_nab_series(name) for name in names}
    bounds = {
        name: window_indices(frame["timestamp"].to_numpy(), windows[name], name)
        for name, frame in series.items()
    }
    return series, bounds


def _model(design: Design, seed: int = 0):
    from aedetect import AutoencoderDetector

    return AutoencoderDetector(
        hidden=design.hidden,
        epochs=design.epochs,
        scaling="pooled",
        clip=None,
        validation_fraction=0.0,
        random_state=seed,
        device="cpu",
    )


def window_errors(model, windows: np.ndarray) -> dict[str, np.ndarray]:
    """Both error kinds of each window from one pass: its mean and its last row's."""
    per_column = model.feature_errors(windows)
    return {"window": per_column.mean(axis=1), "last": per_column[:, -1]}


def raw_errors(values: np.ndarray, design: Design) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Per-window errors of one series (causal fits) by kind, their end rows, training count."""
    n = len(values)
    probation = probationary_length(n)
    window = design.window or default_window(values[:probation])
    window = min(window, max(probation // 2, 2))
    X = sliding_windows(values, window)
    if design.centre:
        X = X - X.mean(axis=1, keepdims=True)
    ends = window_ends(n, window)
    errors = {kind: np.empty(len(ends)) for kind in ("window", "last")}
    # refit points: rows at which the model is (re)fitted on windows ending before them
    cuts = [probation]
    if design.refit:
        cuts += list(range(probation + design.refit, n, design.refit))
    cuts.append(n)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        model = _model(design).fit(X[ends < a][-design.max_train :])
        rows = (ends >= a) & (ends < b)
        if a == probation:  # the probationary windows themselves (never scored by NAB)
            rows |= ends < a
        for kind, e in window_errors(model, X[rows]).items():
            errors[kind][rows] = e
    return errors, ends, int(np.sum(ends < probation))


def post_process(errors: np.ndarray, n_train: int, design: Design) -> np.ndarray:
    """Turn window errors into comparable scores across files (see :class:`Design`)."""
    if design.post == "raw":
        return errors
    if design.post == "ztrain":
        ref = errors[:n_train]
        return (errors - ref.mean()) / (ref.std() + 1e-12)
    s = pd.Series(np.log(errors + 1e-4) if design.log else errors)
    short = s.rolling(design.short, min_periods=1).mean()
    past = s.shift(design.short)  # the history ends where the short window starts
    mean = past.rolling(design.history, min_periods=10).mean()
    sd = past.rolling(design.history, min_periods=10).std()
    z = ((short - mean) / (sd + 1e-12)).to_numpy()
    return np.nan_to_num(z, nan=0.0)


def suppress(scores: np.ndarray, k: int) -> np.ndarray:
    """Keep a score only where it beats every score of the previous ``k`` rows (causal)."""
    if k <= 0:
        return scores
    prev_max = pd.Series(scores).shift(1).rolling(k, min_periods=1).max().to_numpy()
    floor = np.nanmin(scores)
    return np.where(np.isnan(prev_max) | (scores > prev_max), scores, floor)


def detect(frame: pd.DataFrame, design: Design) -> np.ndarray:
    """Per-row anomaly scores of one series (higher = more anomalous), causal."""
    values = frame["value"].to_numpy(dtype=float)
    errors, ends, n_train = raw_errors(values, design)
    return finish(errors, ends, n_train, len(values), design)


def finish(
    errors: dict[str, np.ndarray], ends: np.ndarray, n_train: int, n_rows: int, design: Design
) -> np.ndarray:
    """Window errors by kind -> post-processed, causal, suppressed per-row scores."""
    kinds = ("last", "window") if design.error == "both" else (design.error,)
    # "both": each kind post-processed on its own, then the larger of the two
    window_scores = np.max([post_process(errors[k], n_train, design) for k in kinds], axis=0)
    rows = causal_scores(window_scores, ends, n_rows)
    rows = np.where(np.isnan(rows), np.nanmin(rows), rows)  # before the first window end
    return suppress(rows, design.suppress)


@dataclass(frozen=True)
class LibraryDesign:
    """The command line's series detector (``aedetect fit`` on the probationary rows, then
    ``aedetect score`` of the rest as a continuation), through the same library calls.

    window : rows per window (None: the CLI default, from the probationary data).
    model : the window model (``ae``, ``conv1d``, ``lstm``).
    seed : the window model's ``random_state`` (``aedetect fit`` is unseeded unless ``--seed``).
    """

    window: int | None = None
    model: str = "ae"
    range_tolerance: float | None = 0.02  # SeriesDetector's defaults
    suppress: int = 100
    seed: int = 0


LIBRARY: dict[str, LibraryDesign] = {
    "cli-default": LibraryDesign(),
    # the default before issue 18's third part (56.1 standard): no range term, suppress 200
    "cli-previous": LibraryDesign(range_tolerance=None, suppress=200),
    "cli-w32": LibraryDesign(window=32),
    "cli-conv1d": LibraryDesign(model="conv1d"),
    "cli-lstm": LibraryDesign(model="lstm"),
    "cli-range05": LibraryDesign(range_tolerance=0.05, suppress=200),
}


def detect_library(file: str, design: LibraryDesign) -> np.ndarray:
    """Per-row NAB scores of one series from the CLI's code path (causal).

    ``series_data`` reads ``nab:<file>`` as the CLI does; the detector is fitted on the
    probationary rows and scores the rest as a continuation (``score`` of a later
    file). NAB thresholds a score, so a row's NAB score is its score where the CLI
    would raise an alarm (a new high over the ``suppress`` windows before it), else
    the file's lowest score: the CLI's flags for every threshold NAB tries.
    """
    from aedetect import AutoencoderDetector
    from aedetect.data.resolve import load_data
    from aedetect.pipeline.series import series_data
    from aedetect.series_detector import SeriesDetector

    data = series_data(load_data(f"nab:{file}"))
    probation = probationary_length(len(data.values))
    model = AutoencoderDetector(model=design.model, random_state=design.seed, device="cpu")
    det = SeriesDetector(
        model,
        window=design.window,
        suppress=design.suppress,
        range_tolerance=design.range_tolerance,
    ).fit(data.values.iloc[:probation])
    out = det.score_series(data.values.iloc[probation:], resume=True)
    scores = np.full(len(data.values), np.nan)
    scores[probation:] = np.where(out.alarms, out.scores, np.nan)
    floor = np.nanmin(out.scores) - 1.0
    return np.where(np.isnan(scores), floor, scores)


def run_design(
    name: str,
    design: Design | LibraryDesign,
    series: dict,
    bounds: dict,
    log: Callable[[str], None],
) -> dict:
    start = time.perf_counter()
    scores = {}
    for i, (file, frame) in enumerate(series.items()):
        if isinstance(design, LibraryDesign):
            scores[file] = detect_library(file, design)
        else:
            scores[file] = detect(frame, design)
        log(f"  {name} {i + 1}/{len(series)} {file} {time.perf_counter() - start:.0f}s")
    seconds = time.perf_counter() - start
    result = score_corpus_all_profiles(scores, bounds)
    row = {"design": name, "seconds": round(seconds, 1), "files": len(series)}
    for profile, r in result.items():
        row[profile] = round(r.score, 2)
        row[f"{profile}_threshold"] = round(r.threshold, 4)
    row["tp_fp_fn_standard"] = (
        f"{result['standard'].tp}/{result['standard'].fp}/{result['standard'].fn}"
    )
    row.update({k: str(v) for k, v in asdict(design).items()})
    return row


def limit_threads() -> None:
    """One torch thread and quiet logs: two threads on a shared 2-core box crawl."""
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*constant in training")
    import torch

    torch.set_num_threads(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", default=RECOMMENDED, help="comma-separated names, or all")
    parser.add_argument("--files", type=int, default=None, help="first N files only (smoke)")
    parser.add_argument(
        "--half", choices=("select", "check"), default=None,
        help="only the odd-numbered (select) or even-numbered (check) files, as nab_explore",
    )  # fmt: skip
    parser.add_argument("--set", action="append", default=[], help="override: field=value")
    parser.add_argument("--out", default=str(RESULTS / "nab_designs.csv"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    limit_threads()
    names = list(DESIGNS) if args.designs == "all" else args.designs.split(",")
    catalogue: dict[str, Design | LibraryDesign] = {**DESIGNS, **LIBRARY}
    series, bounds = load_corpus(args.files)
    if args.half:
        keep = list(series)[1::2] if args.half == "select" else list(series)[0::2]
        series, bounds = {k: series[k] for k in keep}, {k: bounds[k] for k in keep}
    rows = []
    for name in names:
        design = catalogue[name]
        for item in args.set:
            key, value = item.split("=", 1)
            field_type = type(getattr(design, key))
            if field_type is type(None):  # window=None (int), range_tolerance=None (float)
                field_type = float if key == "range_tolerance" else int
            if value == "None":
                design = replace(design, **{key: None})
                name = f"{name}[{item}]"
                continue
            parsed = (
                tuple(int(v) for v in value.split("x"))
                if field_type is tuple
                else (value == "True" if field_type is bool else field_type(value))
            )
            design = replace(design, **{key: parsed})
            name = f"{name}[{item}]"
        log = (
            (lambda m: print(m, file=sys.stderr, flush=True)) if args.verbose else (lambda m: None)
        )
        row = run_design(name, design, series, bounds, log)
        rows.append(row)
        print(
            f"| {name} | {row['standard']:.1f} | {row['reward_low_FP_rate']:.1f} | "
            f"{row['reward_low_FN_rate']:.1f} | {row['seconds']:.0f} s | "
            f"{row['tp_fp_fn_standard']} |",
            flush=True,
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
