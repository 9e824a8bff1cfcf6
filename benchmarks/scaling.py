"""One method, one table size, in a fresh process: fit time and peak memory.

The parent (``benchmarks/run.py``) starts one process per (method, rows) so that
peak memory belongs to that fit alone; with ``--budget`` the process ends itself
(SIGALRM) when the fit takes longer. Peak
memory is the process's peak resident set size from ``resource.getrusage``
(``ru_maxrss``): it includes the interpreter, torch and the other libraries
(``baseline_mb``, measured after the imports and before the data) and the data
itself (``data_mb``). The last line printed is a JSON object.

    .venv/bin/python -m benchmarks.scaling --method aedetect-default --rows 100000
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import signal
import sys
import time

import numpy as np


def peak_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def make_table(rows: int, cols: int) -> np.ndarray:
    """The scaling table: ``make_synthetic('global')`` rows as float32."""
    from aedetect.data.synthetic import synthetic_arrays

    X, _ = synthetic_arrays("global", n_rows=rows, n_anomalies=rows // 100, dim=cols, seed=0)
    return X.astype(np.float32)


def measure(
    method_name: str,
    rows: int,
    cols: int,
    epochs: int,
    score_rows: int,
    budget_s: float = 0,
    data: str | None = None,
) -> dict:
    import aedetect  # noqa: F401 - torch and aedetect count in every method's baseline
    from benchmarks.methods import METHODS, Context

    method = METHODS[method_name]
    baseline = peak_mb()
    # Made beforehand by the parent, so that making it (float64, shuffled copies) does
    # not count in this process's peak.
    X = np.load(data) if data else make_table(rows, cols)
    if X.shape != (rows, cols):
        raise SystemExit(f"{data}: shape {X.shape}, expected {(rows, cols)}")
    if method.inputs == "numeric":
        from sklearn.preprocessing import StandardScaler

        X = StandardScaler().fit_transform(X)
    data = peak_mb()
    ctx = Context(seed=0, data_type="tables", epochs=epochs if method.neural else None)
    if budget_s:
        # SIGALRM's default action ends the process, even inside a long C call.
        signal.alarm(max(1, math.ceil(budget_s)))
    start = time.perf_counter()
    score = method.fit(X, ctx)
    fit_s = time.perf_counter() - start
    signal.alarm(0)
    start = time.perf_counter()
    scores = score(X[:score_rows])
    score_s = time.perf_counter() - start
    passes = epochs if method.neural else 1
    return {
        "method": method_name,
        "rows": rows,
        "cols": cols,
        "epochs": epochs if method.neural else None,
        "fit_s": fit_s,
        "score_rows": int(len(scores)),
        "score_s": score_s,
        "train_rows_per_s": rows * passes / fit_s,
        "baseline_mb": baseline,
        "data_mb": data - baseline,
        "peak_mb": peak_mb(),
        "finite": bool(np.isfinite(scores).all()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--score-rows", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--budget", type=float, default=0, help="end the process if fit is slower")
    parser.add_argument("--data", default=None, help=".npy file of make_table(rows, cols)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    import logging

    logging.getLogger("aedetect").setLevel(logging.ERROR)
    result = measure(
        args.method, args.rows, args.cols, args.epochs, args.score_rows, args.budget, args.data
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
