"""Small shared fixtures: data sets and one fitted detector per module."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from aedetect import AutoencoderDetector
from aedetect.data.datasets import make_mixed_table


@pytest.fixture(autouse=True)
def _quiet_logs():
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    yield


@pytest.fixture(scope="session")
def digits_one_class():
    """Digit 3 normal: train on 80% of the 3s; test on the rest plus 20% of each other digit."""
    d = load_digits()
    X, y = d.data, d.target
    rng = np.random.default_rng(0)
    normal = rng.permutation(np.flatnonzero(y == 3))
    n_train = int(0.8 * len(normal))
    test = [normal[n_train:]]
    for other in range(10):
        if other != 3:
            idx = rng.permutation(np.flatnonzero(y == other))
            test.append(idx[: int(0.2 * len(idx))])
    test_idx = np.concatenate(test)
    return X[normal[:n_train]], X[test_idx], (y[test_idx] != 3).astype(int)


@pytest.fixture(scope="session")
def mixed():
    return make_mixed_table(n_rows=2000, n_anomalies=10, seed=0)


@pytest.fixture(scope="session")
def small_frame():
    rng = np.random.default_rng(1)
    n = 200
    a = rng.normal(size=n)
    return pd.DataFrame(
        {
            "a": a,
            "b": 2 * a + rng.normal(scale=0.1, size=n),
            "c": rng.uniform(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )


@pytest.fixture(scope="session")
def fitted_small(small_frame):
    return AutoencoderDetector(hidden=(8, 3), random_state=0).fit(small_frame)
