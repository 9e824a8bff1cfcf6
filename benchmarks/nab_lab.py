"""Second design search for the command line's series detector on NAB (issue 18, part 3).

Like :mod:`benchmarks.nab_explore`, but from the library's own code path
(:class:`aedetect.SeriesDetector` fitted on the probationary rows, as
``cli-default``): per file, the window model's errors are computed once and cached
(``--cache``), then the cheap post-processing is gridded. Per window it keeps the
last row's error (``last``), the window's mean error (``window``) and a prediction
error (``pred``: the window with its last row replaced by the row before it goes
through the model, and the reconstruction's last row is compared with the real
one: the model as a one-step forecaster); per row, the standardised value change
(``diff``, the largest over channels).

Post-processing (each causal, the same for every file): every chosen error becomes
a z-score of its mean over the last ``short`` windows against the previous
``history`` such means (``short=1``: the library's ``rolling_z``); the window's
score is the largest; optionally a window whose newest row leaves the range seen so
far by more than ``range_tol`` of its width scores at least ``50``; a row keeps
its score only where it beats the ``suppress`` windows before it (an alarm),
else the file's lowest. Other options (``robust``, ``cap``, ``half``, ``combine``,
``diff``) are the variants BENCHMARKS.md lists. ``BASE`` is the library's default;
``--set key=value`` changes it, a grid (``GRIDS``) varies some keys. Ranked on the
odd-numbered files (``select``) only, averaged over the ``--seeds`` (the window
models' ``random_state``; a model name ending ``-s1`` is seed 1).

    nice .venv/bin/python -m benchmarks.nab_lab --cache /tmp/nab_lab --seeds 0,1,2 --grid spatial2
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect.nab_scoring import probationary_length, score_corpus, score_corpus_all_profiles
from benchmarks.nab import limit_threads, load_corpus

BASE_MODELS = {
    "auto": {"window": None},
    "w32": {"window": 32},
    "w64": {"window": 64},
    "w128": {"window": 128},
    "refit2000": {"window": None, "refit": 2000},
    "refit1000": {"window": None, "refit": 1000},
    "ax2": {"window": None, "times": 2},
    "ax4": {"window": None, "times": 4},
}
# "-s1", "-s2": the same model with random_state 1, 2 (``--seeds 0,1,2`` averages them)
MODELS = {
    **BASE_MODELS,
    **{f"{m}-s{k}": {**v, "seed": k} for m, v in BASE_MODELS.items() for k in (1, 2)},
}
KINDS = ("last", "window", "pred")


def file_features(
    file: str, window: int | None, seed: int = 0, times: int = 1, refit: int = 0
) -> dict[str, np.ndarray]:
    """Per-window errors of one NAB file from the library's detector, and the scaled rows."""
    from aedetect import AutoencoderDetector
    from aedetect.data.resolve import load_data
    from aedetect.data.series import sliding_windows
    from aedetect.pipeline.series import series_data
    from aedetect.series_detector import SeriesDetector

    data = series_data(load_data(f"nab:{file}"))
    n = len(data.values)
    probation = probationary_length(n)
    model = AutoencoderDetector(random_state=seed, device="cpu")
    if times > 1:
        from aedetect.data.series import default_window

        head = data.values.to_numpy(dtype=np.float64)[:probation]
        window = min(default_window(head) * times, 256, probation // 2)
    det = SeriesDetector(model, window=window).fit(data.values.iloc[:probation])
    scaled = det._scaled(data.values.to_numpy(dtype=np.float64))
    windows = sliding_windows(scaled, det.window_)
    errors = det._window_errors(windows)
    if refit:
        from aedetect.data.series import window_ends
        from aedetect.series_detector import series_model

        ends = window_ends(n, det.window_)
        for cut in range(probation + refit, n, refit):
            m = series_model(AutoencoderDetector(random_state=seed, device="cpu"))
            m.set_params(series_shape=(det.window_, scaled.shape[1]))
            det.detector_ = m.fit(windows[ends < cut][-3000:])
            rows = ends >= cut
            for k, v in det._window_errors(windows[rows]).items():
                errors[k][rows] = v
    c = scaled.shape[1]
    masked = windows.copy()
    masked[:, -c:] = windows[:, -2 * c : -c]
    recon = np.asarray(det.detector_.reconstruct(masked), dtype=np.float64)
    pred = ((recon[:, -c:] - windows[:, -c:]) ** 2).mean(axis=1)
    return {
        "last": errors["last"],
        "window": errors["window"],
        "pred": pred,
        "scaled": scaled,
        "w": np.array([det.window_, probation, n]),
    }


def collect(name: str, files: list[str], cache: Path) -> dict:
    path = cache / f"{name}.npz"
    keys = (*KINDS, "scaled", "w")
    if path.exists():
        data = np.load(path)
        return {f: {k: data[f"{f}|{k}"] for k in keys} for f in files}
    start = time.perf_counter()
    out, flat = {}, {}
    for file in files:
        out[file] = file_features(file, **MODELS[name])
        flat.update({f"{file}|{k}": v for k, v in out[file].items()})
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **flat)
    print(f"{name}: features in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def zscore(err: np.ndarray, history: int, short: int, floor: float) -> np.ndarray:
    """z of the mean of the last ``short`` values against the ``history`` means before it."""
    s = pd.Series(err)
    if short > 1:
        s = s.rolling(short, min_periods=1).mean()
    past = s.shift(1)
    mean = past.rolling(history, min_periods=10).mean()
    sd = past.rolling(history, min_periods=10).std()
    z = (s - mean) / (sd + floor * mean.abs() + 1e-9 * mean.abs() + 1e-12)
    return np.nan_to_num(z.to_numpy(), nan=0.0)


def range_exits(x: np.ndarray, tol: float) -> np.ndarray:
    """Per row: a channel beyond the range of the rows before it by ``tol`` of its width."""
    hi = np.maximum.accumulate(x, axis=0)
    lo = np.minimum.accumulate(x, axis=0)
    hi, lo = (
        np.vstack([np.full(x.shape[1], np.inf), hi[:-1]]),
        np.vstack([lo[:1] * 0 + np.inf, lo[:-1]]),
    )
    lo = np.where(np.isinf(lo), -np.inf, lo)
    with np.errstate(invalid="ignore"):
        margin = tol * (hi - lo)
        out = (x > hi + margin) | (x < lo - margin)
    return out.any(axis=1)


def new_highs(scores: np.ndarray, k: int) -> np.ndarray:
    if k <= 0:
        return np.ones(len(scores), dtype=bool)
    prev = pd.Series(scores).shift(1).rolling(k, min_periods=1).max().to_numpy()
    return np.isnan(prev) | (scores > prev)


def robust_z(err: np.ndarray, history: int) -> np.ndarray:
    """(value - median) / (1.4826 MAD + 1e-12) of the ``history`` values before each."""
    past = pd.Series(err).shift(1)
    med = past.rolling(history, min_periods=10).median()
    mad = (past - med).abs().rolling(history, min_periods=10).median()
    return np.nan_to_num(((err - med) / (1.4826 * mad + 1e-9 * med.abs() + 1e-12)).to_numpy())


def decayed_highs(scores: np.ndarray, k: int, half: float) -> np.ndarray:
    """New highs against the previous ``k`` scores, each halved every ``half`` rows."""
    if k <= 0:
        return np.ones(len(scores), dtype=bool)
    pos = np.maximum(scores, 0.0)
    buf = np.concatenate([np.zeros(k), pos])
    view = np.lib.stride_tricks.sliding_window_view(buf[:-1], k)  # rows t-k..t-1
    weights = 0.5 ** (np.arange(k, 0, -1) / half)
    return scores > (view * weights).max(axis=1)


def nab_scores(feats: dict, p: dict) -> np.ndarray:
    """Per-row NAB scores of one file (``feats``: model -> features) for post-processing ``p``."""
    suffix = p.get("suffix", "")
    first = feats[p.get("model", "auto") + suffix]
    w, probation, n = (int(v) for v in first["w"])
    score = np.full(n, -np.inf)
    total, count = np.zeros(n), np.zeros(n)
    for spec in p["kinds"]:
        model, _, kind = spec.rpartition(":")
        feat = feats[(model or p.get("model", "auto")) + suffix]
        wk = int(feat["w"][0])
        if p.get("robust"):
            z = robust_z(feat[kind], p["history"])
        else:
            z = zscore(feat[kind], p["history"], p["short"], p["floor"])
        score[wk - 1 :] = np.maximum(score[wk - 1 :], z)
        total[wk - 1 :] += z
        count[wk - 1 :] += 1
    if p.get("combine") == "mean":
        score = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
    if p.get("diff"):
        d = np.abs(np.diff(first["scaled"], axis=0)).max(axis=1)
        score[1:] = np.maximum(score[1:], p["diff"] * zscore(d, p["history"], 1, p["floor"]))
    score = score[w - 1 :]
    if p.get("cap"):
        score = np.minimum(score, p["cap"])
    if p.get("range_tol") is not None:
        exits = range_exits(first["scaled"], p["range_tol"])[w - 1 :]
        score = np.where(exits, np.maximum(score, p.get("cap") or 50.0), score)
    if p.get("half"):
        alarm = decayed_highs(score, p["suppress"], p["half"])
    else:
        alarm = new_highs(score, p["suppress"])
    rows = np.full(n, np.nan)
    rows[w - 1 :] = np.where(alarm, score, np.nan)
    rows[:probation] = np.nan
    floor = np.nanmin(score) - 1.0
    return np.where(np.isnan(rows), floor, rows)


def both(*models: str) -> tuple[str, ...]:
    """The last-row and window errors of each model ("" is the grid's own model)."""
    return tuple(f"{m}:{k}" if m else k for m in models for k in ("last", "window"))


# the library's defaults (SeriesDetector); the grids change some of them
BASE = {"kinds": both(""), "history": 3000, "short": 1, "floor": 0.0,
        "suppress": 100, "range_tol": 0.02, "diff": 0.0}  # fmt: skip
GRIDS = {
    "base": {"kinds": [both("")]},
    "none": {},  # BASE with the --set changes only
    "previous": {"range_tol": [None], "suppress": [200]},  # the default before part 3
    "kinds": {
        "kinds": [
            ("last",),
            ("pred",),
            ("last", "pred"),
            ("last", "window", "pred"),
            ("pred", "window"),
        ],
        "history": [3000, 8640],
    },  # fmt: skip
    "post": {"short": [1, 2, 3, 10], "history": [3000, 8640], "suppress": [100, 200, 400]},
    "cap": {"cap": [0, 6, 8, 10, 12], "suppress": [100, 200, 400], "range_tol": [None, 0.05]},
    "supp": {"suppress": [100, 200, 400], "half": [0, 25, 50, 100, 200]},
    "robust": {"robust": [True], "history": [1000, 3000], "suppress": [100, 200, 400]},
    "multi": {
        "kinds": [
            both("", "w32"),
            both("", "w64"),
            both("", "w128"),
            both("", "w64", "w128"),
            both("w32", "w64"),
            both("w64"),
            both("w128"),
            both("", "w32", "w64", "w128"),
        ],
        "history": [3000, 8640],
    },  # fmt: skip
    "seeds": {
        "kinds": [
            both("", "auto-s1"),
            both("", "auto-s1", "auto-s2"),
            both("", "ax2"),
            both("", "ax2", "ax4"),
            both("", "w64", "w128"),
            both("", "w32", "w64", "w128"),
        ],
        "combine": ["max", "mean"],
        "history": [3000, 8640],
    },  # fmt: skip
    "spatial": {"range_tol": [None, 0.0, 0.05, 0.1, 0.2], "suppress": [50, 100, 200]},
    "spatial2": {"range_tol": [0.0, 0.02, 0.05], "suppress": [25, 50, 75, 100, 150]},
    # on the new default: the marginal gains together
    "combo": {
        "kinds": [
            both(""),
            ("pred",),
            ("last", "window", "pred"),
            both("", "w32", "w64", "w128"),
            (*both("", "w32", "w64", "w128"), "pred"),
        ],
        "short": [1, 2, 3],
    },  # fmt: skip
    "extra": {"range_tol": [None, 0.05, 0.2], "diff": [0.0, 0.5, 1.0], "floor": [0.0, 0.1]},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default="/tmp/nab_lab")
    parser.add_argument("--models", default="auto")
    parser.add_argument("--grid", default="base")
    parser.add_argument("--set", action="append", default=[], help="base field=python literal")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--seeds", default="0", help="average over these seeds (0, 1, 2)")
    parser.add_argument("--profiles", type=int, default=1, help="all profiles for the best N")
    args = parser.parse_args()
    limit_threads()
    _, bounds = load_corpus()
    files = list(bounds)
    select, check = files[1::2], files[0::2]
    base = dict(BASE)
    for item in args.set:
        key, value = item.split("=", 1)
        base[key] = eval(value)  # a benchmark's own command line
    seeds = [int(k) for k in args.seeds.split(",")]
    suffixes = ["" if k == 0 else f"-s{k}" for k in seeds]
    names = [m + x for m in args.models.split(",") for x in suffixes]
    every = {m: collect(m, files, Path(args.cache)) for m in names}
    feats = {f: {m: every[m][f] for m in every} for f in files}
    base["model"] = args.models.split(",")[0]
    rows = []
    for grid_name in args.grid.split(","):
        grid = GRIDS[grid_name]
        for values in itertools.product(*grid.values()):
            p = {**base, **dict(zip(grid, values, strict=True))}
            res = []
            for suffix in suffixes:
                scores = {f: nab_scores(feats[f], {**p, "suffix": suffix}) for f in files}
                res.append([
                    score_corpus({f: scores[f] for f in part}, {f: bounds[f] for f in part}).score
                    for part in (select, check, files)
                ])  # fmt: skip
            rows.append((*np.mean(res, axis=0), base["model"], {k: p[k] for k in grid}, p))
    rows.sort(key=lambda r: -r[0])
    for r in rows[: args.top]:
        print(f"select {r[0]:5.1f} check {r[1]:5.1f} all {r[2]:5.1f}  {r[3]} {r[4]}", flush=True)
    for r in rows[: args.profiles]:
        print(profile_row(r, feats, bounds, suffixes, (select, check, files)), flush=True)


def profile_row(row: tuple, feats: dict, bounds: dict, suffixes: list[str], parts: tuple) -> str:
    """A Markdown row: the three profiles on each part, averaged over the seeds."""
    res = np.zeros((len(parts), 3))
    for suffix in suffixes:
        scores = {f: nab_scores(feats[f], {**row[5], "suffix": suffix}) for f in feats}
        for i, part in enumerate(parts):
            out = score_corpus_all_profiles(
                {f: scores[f] for f in part}, {f: bounds[f] for f in part}
            )
            res[i] += [v.score for v in out.values()]
            if i == 2 and not suffix:
                s = out["standard"]
    res /= len(suffixes)
    cells = " | ".join("/".join(f"{v:.1f}" for v in r) for r in res)
    return f"| {row[3]} {row[4]} | {cells} | {s.tp}/{s.fp}/{s.fn} |"


if __name__ == "__main__":
    main()
