"""Design search for the NAB benchmark, chosen on half of the files, checked on the other.

The model part of a design (window, centring, refitting) is the slow part; its window
errors are computed once per model and kept in ``--cache``; every score
post-processing (error kind, likelihood windows, suppression) is then a cheap pass.
Designs are ranked on the *select* half (odd-numbered files in NAB's order) only; the
*check* half (even-numbered) and the whole corpus are reported beside it, so the
choice does not rest on the windows it is reported on.

    .venv/bin/python -m benchmarks.nab_explore --cache /tmp/nab_errors
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from aedetect.nab_scoring import score_corpus
from benchmarks.nab import Design, finish, limit_threads, load_corpus, raw_errors

MODELS = {
    "w32": Design(window=32),
    "w16": Design(window=16),
    "wauto": Design(window=0),
    "w32-centre": Design(window=32, centre=True),
    "w32-refit": Design(window=32, refit=2000),
}
GRIDS = {
    "coarse": {
        "error": ("window", "last"),
        "short": (1, 5, 10),
        "history": (1000, 3000, 8640),
        "suppress": (0, 100, 400, 1000),
    },
    # second round, around the best of the first: last-row error, no smoothing
    "fine": {
        "error": ("last",),
        "short": (1, 2),
        "history": (3000, 8640),
        "suppress": (0, 50, 100, 200),
        "log": (False, True),
    },
    # third round: the larger of the last-row and the window z-scores
    "both": {
        "error": ("both",),
        "short": (1,),
        "history": (3000, 8640),
        "suppress": (100, 200),
    },
}


def model_errors(name: str, series: dict, cache: Path) -> dict:
    path = cache / f"{name}.npz"
    if path.exists():
        data = np.load(path)
        return {f: {k: data[f"{f}|{k}"] for k in ("window", "last", "ends", "n")} for f in series}
    start = time.perf_counter()
    out, flat = {}, {}
    for file, frame in series.items():
        errors, ends, n_train = raw_errors(frame["value"].to_numpy(float), MODELS[name])
        out[file] = {**errors, "ends": ends, "n": np.array([n_train, len(frame)])}
        flat.update({f"{file}|{k}": v for k, v in out[file].items()})
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **flat)
    print(f"{name}: model errors in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def evaluate(errs: dict, bounds: dict, design: Design, files: list[str]) -> float:
    scores = {f: finish(errs[f], errs[f]["ends"], *errs[f]["n"], design) for f in files}
    return score_corpus(scores, {f: bounds[f] for f in files}).score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default="/tmp/nab_errors")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--grid", default="coarse", choices=list(GRIDS))
    args = parser.parse_args()
    limit_threads()
    series, bounds = load_corpus()
    files = list(series)
    select, check = files[1::2], files[0::2]
    grid = GRIDS[args.grid]
    rows = []
    for model in args.models.split(","):
        errs = model_errors(model, series, Path(args.cache))
        for values in itertools.product(*grid.values()):
            design = replace(MODELS[model], **dict(zip(grid, values, strict=True)))
            rows.append(
                (
                    evaluate(errs, bounds, design, select),
                    evaluate(errs, bounds, design, check),
                    evaluate(errs, bounds, design, files),
                    model,
                    dict(zip(grid, values, strict=True)),
                )
            )
        rows.sort(key=lambda r: -r[0])
        for r in rows[:8]:
            print(
                f"select {r[0]:5.1f} check {r[1]:5.1f} all {r[2]:5.1f}  {r[3]} {r[4]}", flush=True
            )
        print("---", flush=True)


if __name__ == "__main__":
    main()
