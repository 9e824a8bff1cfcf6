"""The one-class split: fit on a share of the normal items, test on the rest.

One home for the protocol that the CLI's ``normal`` selection, the reference
experiments, the benchmarks and the tests all use, so that they cannot drift.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FIT_SHARE", "one_class_split", "shuffle_split"]

FIT_SHARE = 0.8  # share of the normal items fitted on


def shuffle_split(
    n: int, share: float = FIT_SHARE, seed: int = 0, *, nearest: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it at ``share``: (first part, rest).

    The cut is ``int(share * n)`` (rounded down), or with ``nearest=True``
    ``round(share * n)`` and at least 1, which the CLI's class selection uses.
    """
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, int(round(share * n))) if nearest else int(share * n)
    return order[:cut], order[cut:]


def one_class_split(
    y: np.ndarray, normal: object, seed: int = 0, share: float = FIT_SHARE
) -> tuple[np.ndarray, np.ndarray]:
    """Return indices (train, test) for class ``normal`` of ``y``.

    Train on ``share`` of the normal items; test on the other normal items plus
    ``1 - share`` of every other class (each shuffled with the same generator,
    in class order). The protocol of the reference benchmarks.
    """
    rng = np.random.default_rng(seed)
    idx = rng.permutation(np.flatnonzero(y == normal))
    n_train = int(share * len(idx))
    rest = round(1.0 - share, 12)  # 0.2, not 0.19999999999999996
    test = [idx[n_train:]]
    for other in np.unique(y):
        if other != normal:
            o = rng.permutation(np.flatnonzero(y == other))
            test.append(o[: int(rest * len(o))])
    return idx[:n_train], np.concatenate(test)
