"""Fit time on a 10,000 x 50 table: PyOD AutoEncoder's defaults, aedetect's, a recipe's.

The issue-13 rule: the recommended defaults may take at most as long as PyOD's
AutoEncoder at its defaults, measured in the same run (one thread each, in turn).

    .venv/bin/python -m benchmarks.adbench_fit_time "e5-recon:hidden=64-32-8,trim=0.1"
    .venv/bin/python -m benchmarks.adbench_fit_time 'aedetect:{"trim": 0.1}'

(an ``aedetect:JSON`` argument times the detector with those parameters).
"""

from __future__ import annotations

import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> dict[str, float]:
    import torch
    from sklearn.preprocessing import StandardScaler

    from benchmarks.adbench_research import Prototype, recipe_from
    from benchmarks.scaling import make_table

    argv = list(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(1)
    X = make_table(10_000, 50).astype(np.float64)
    Xs = StandardScaler().fit_transform(X)
    times: dict[str, float] = {}
    for name in ["pyod-ae", "aedetect", *argv]:
        start = time.perf_counter()
        if name == "pyod-ae":
            from pyod.models.auto_encoder import AutoEncoder

            AutoEncoder(random_state=0, verbose=0).fit(Xs)
        elif name.startswith("aedetect"):
            import json

            from aedetect import AutoencoderDetector

            params = json.loads(name.partition(":")[2] or "{}")
            AutoencoderDetector(random_state=0, **params).fit(X)
        else:
            Prototype(recipe_from(name), 0).fit(X)
        times[name] = time.perf_counter() - start
        print(f"{name}: {times[name]:.2f} s", flush=True)
    return times


if __name__ == "__main__":
    main()
