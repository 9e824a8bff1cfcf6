"""Digits and MNIST one-class with the default (three members) and with one network.

    python -m benchmarks.members_images digits
    python -m benchmarks.members_images mnist5k

Each class normal in turn (``benchmarks.one_class``'s split, seed 0), flattened
pixels as a table (what the side-by-side benchmark passes), one torch thread.
"""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print each class's AUROC with three members and with one; return the means."""
    import torch
    from sklearn.metrics import roc_auc_score

    from aedetect import AutoencoderDetector
    from benchmarks import one_class

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in ("digits", "mnist5k"):
        raise SystemExit(__doc__)
    warnings.filterwarnings("ignore")
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    X, y = one_class.load(args[0])
    res: dict[str, list[float]] = {"default": [], "members=1": []}
    for normal in range(10):
        tr, te = one_class.split(y, normal, 0)
        anomalous = (y[te] != normal).astype(int)
        for label, params in (("default", {}), ("members=1", {"members": 1})):
            det = AutoencoderDetector(random_state=0, **params).fit(X[tr])
            res[label].append(roc_auc_score(anomalous, det.decision_function(X[te])))
        print(args[0], normal, {k: round(v[-1], 4) for k, v in res.items()}, flush=True)
    means = {k: float(np.mean(v)) for k, v in res.items()}
    print(args[0], "mean", {k: round(v, 4) for k, v in means.items()})
    return means


if __name__ == "__main__":
    main()
