"""Small shared fixtures: data sets and one fitted detector per module."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from aedetect import AutoencoderDetector
from aedetect.data.datasets import make_mixed_table
from aedetect.data.splits import one_class_split


@pytest.fixture(autouse=True)
def _quiet_logs():
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    yield


@pytest.fixture(scope="session")
def digits_one_class():
    """Digit 3 normal: train on 80% of the 3s; test on the rest plus 20% of each other digit."""
    d = load_digits()
    X, y = d.data, d.target
    train_idx, test_idx = one_class_split(y, 3, seed=0)
    return X[train_idx], X[test_idx], (y[test_idx] != 3).astype(int)


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
    return AutoencoderDetector(hidden=(8, 3), epochs=200, random_state=0).fit(small_frame)
