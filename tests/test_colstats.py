"""Encoder statistics and encoding a block of rows at a time, and fit(copy=False)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aedetect import AutoencoderDetector
from aedetect.data.colstats import BLOCK, any_unusable, column_stats
from aedetect.data.encoding import TabularEncoder
from aedetect.exceptions import DataError

ROWS = 2 * BLOCK + 123  # three blocks, the last one short


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(ROWS, 4)) * [1, 1e3, 1e-3, 7] + [0, 5, -2, 1e4]).astype(np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_stats_equal_numpys_bit_for_bit(table, dtype):
    values = table.astype(dtype)
    got = column_stats(values)
    want = (values.min(0), values.max(0), values.mean(0), values.std(0))
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_column_stats_of_a_fortran_ordered_matrix(table):
    values = np.asfortranarray(table)
    np.testing.assert_array_equal(column_stats(values)[3], values.std(0))


def test_any_unusable_finds_a_value_in_the_last_block(table):
    values = table.copy()
    assert not any_unusable(values)
    values[-1, 2] = np.inf
    assert any_unusable(values)
    values[-1, 2] = np.nan
    assert any_unusable(values) and not any_unusable(values, allow_nan=True)


def test_a_bad_value_past_the_first_block_is_named_by_its_row_in_the_table(table):
    frame = pd.DataFrame(table.astype(np.float64), columns=["a", "b", "c", "d"])
    enc = TabularEncoder().fit(frame)
    frame.loc[BLOCK + 9, "c"] = np.inf
    with pytest.raises(DataError, match=f"column 'c' row {BLOCK + 10}: infinite value"):
        enc.transform(frame)
    text = frame.astype({"d": object})
    text.loc[ROWS - 1, "d"] = "abc"
    text.loc[BLOCK + 9, "c"] = 0.0
    with pytest.raises(DataError, match=f"column 'd' row {ROWS}: 'abc' is not a number"):
        enc.transform(text)


def test_fit_with_copy_false_encodes_the_array_in_place(table):
    kept = table[:3000].copy()
    det = AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(kept)
    X = kept.copy()
    same = AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(X, copy=False)
    np.testing.assert_array_equal(same.decision_scores_, det.decision_scores_)
    np.testing.assert_array_equal(X, det.encoder_.transform(kept))  # X now holds the encoding
    frame = pd.DataFrame(kept.astype(np.float64))
    AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(frame, copy=False)
    np.testing.assert_array_equal(frame.to_numpy(), kept.astype(np.float64))  # left alone
