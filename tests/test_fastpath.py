"""The fast path of plain numbers gives the general path's scores and refusals."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from aedetect import AutoencoderDetector
from aedetect.data.encoding import as_frame
from aedetect.exceptions import DataError
from aedetect.fastpath import ChunkForward, chunk_rows, numeric_rows, reconstruction_scores
from aedetect.runtime import compute


def _general(det, X):
    """Scores through the general path: the encoder's transform, then the scorer."""
    encoded = det.encoder_.transform(as_frame(det._flat(X)))
    with compute():
        return det.scorer_.score(det.module_, torch.from_numpy(encoded))


def _same(det, X, fast=True):
    rows = numeric_rows(det.encoder_, det._flat(X))
    assert (rows is not None) == fast
    new, ref = det.decision_function(X), _general(det, X)
    assert new.dtype == np.float64 and new.shape == ref.shape
    assert np.allclose(new, ref, rtol=1e-5, atol=0)
    if rows is None or len(rows) <= chunk_rows(rows.values.shape[1]):
        # In one chunk each (the same matrix products): bit for bit.
        np.testing.assert_array_equal(new, ref)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    # Offsets far larger than the spreads, and spreads of very different sizes.
    scale = np.array([1, 10, 100, 1e3, 1e-3, 5, 1])
    shift = np.array([0, 5, 1e4, -3, 0, 100, 7])
    return rng.normal(size=(700, 7)) * scale + shift


@pytest.fixture(scope="module")
def det(table):
    return AutoencoderDetector(hidden=(8, 3), epochs=2, random_state=0).fit(table)


def test_numeric_arrays_of_every_type_score_as_the_general_path(det, table):
    X = table * 1.5  # some rows beyond the clip bounds
    _same(det, X)
    _same(det, X.astype(np.float32))
    _same(det, X.astype(np.float16))
    _same(det, np.rint(X).astype(np.int64))
    _same(det, np.asfortranarray(X))
    _same(det, X[::2])
    _same(det, X[:1])


def test_dataframes_of_numbers_score_as_the_general_path(det, table):
    frame = pd.DataFrame(table, columns=[f"x{i}" for i in range(7)])
    _same(det, frame)
    _same(det, frame.astype(np.float32))
    _same(det, frame.astype({"x1": np.float32, "x2": np.int32}))
    _same(det, frame.set_index(np.arange(700) * 3))
    _same(det, frame[[f"x{i}" for i in (1, 0, 2, 3, 4, 5, 6)]], fast=False)  # reordered


def test_many_chunks_score_as_the_general_path():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2500, 300)).astype(np.float32)
    det = AutoencoderDetector(hidden=(16, 4), epochs=1, random_state=0).fit(X[:500])
    assert chunk_rows(300) < 2500
    _same(det, X)


def test_chunks_scored_by_several_threads_as_by_one(det, table):
    X = np.tile(table, (30, 1))  # 21,000 rows: several chunks per thread
    rows = numeric_rows(det.encoder_, X)
    with compute(threads=1):
        one = reconstruction_scores(det.scorer_, det.module_, rows, chunk=1000)
    with compute(threads=3):
        several = reconstruction_scores(det.scorer_, det.module_, rows, chunk=1000)
        assert torch.get_num_threads() == 3  # restored after the workers
    np.testing.assert_allclose(several, one, rtol=1e-6, atol=0)
    bad = X.copy()
    bad[20_500, 2] = np.nan  # in the last worker's last chunk
    with compute(threads=3):
        assert (
            reconstruction_scores(
                det.scorer_, det.module_, numeric_rows(det.encoder_, bad), chunk=1000
            )
            is None
        )


def test_read_only_rows_score_without_a_warning(det, table):
    X = table.copy()
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(det, X)
        _same(det, np.broadcast_to(table[:1], (5, 7)))


def test_chunk_boundaries_do_not_change_scores(det, table):
    rows = numeric_rows(det.encoder_, table)
    with compute():
        whole = reconstruction_scores(det.scorer_, det.module_, rows, chunk=10_000)
        for chunk in (1, 7, 64, 699):
            # A matrix product of another shape may round differently in the last bit.
            chunked = reconstruction_scores(det.scorer_, det.module_, rows, chunk=chunk)
            np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=0)
    assert chunk_rows(50) >= 1 and chunk_rows(10**9) >= 1


def test_encoding_is_the_encoders(det, table):
    for X in (table, table.astype(np.float32), np.rint(table).astype(np.int16)):
        encoded = numeric_rows(det.encoder_, X).encode()
        np.testing.assert_array_equal(encoded.numpy(), det.encoder_.transform(as_frame(X)))


def _refusal(call):
    with pytest.raises(DataError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("value", "words"),
    [
        (np.nan, "row 9: missing value (NaN)"),
        (np.inf, "row 9: infinite value inf"),
        (-np.inf, "row 9: infinite value -inf"),
        (1e39, "row 9: 1e+39 is beyond float32"),
        (1e30, "row 9: 1e+30 lies too far from the training values"),
    ],
)
def test_refusals_are_the_general_paths(det, table, dtype, value, words):
    X = table.copy()
    X[8, 3] = value
    with np.errstate(over="ignore"):
        X = X.astype(dtype)
    if dtype == np.float32 and value == 1e39:
        words = "row 9: infinite value inf"  # 1e39 is inf in float32
    expected = _refusal(lambda: det.encoder_.transform(as_frame(X)))
    assert f"column 'x3' {words}" in expected
    assert _refusal(lambda: det.decision_function(X)) == expected
    assert _refusal(lambda: det.transform(X)) == expected
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(7)])
    assert _refusal(lambda: det.decision_function(frame)) == expected


def test_valid_numbers_near_the_limit_are_scored_by_the_general_path(det, table):
    X = table.copy()
    scale = det.encoder_.columns_[0].scale
    X[3, 0] = 8e14 * scale  # 8e14 scales: allowed, but near the limit (1e15)
    rows = numeric_rows(det.encoder_, X)
    with compute():
        assert reconstruction_scores(det.scorer_, det.module_, rows) is None
    _same(det, X)
    X[3, 0] = 1e12 * scale
    with compute():
        assert reconstruction_scores(det.scorer_, det.module_, rows) is not None
    _same(det, X)


def test_wrong_shapes_are_refused_as_before(det, table):
    message = _refusal(lambda: det.decision_function(table[:, :6]))
    assert message == "X has 6 features, but AutoencoderDetector is expecting 7 features as input"
    frame = pd.DataFrame(table[:, :6], columns=[f"x{i}" for i in range(6)])
    assert _refusal(lambda: det.decision_function(frame)).startswith(
        "columns do not match the model: missing 'x6'"
    )
    assert det.decision_function(table[:0]).shape == (0,)


def test_a_float64_value_just_beyond_float32_is_refused_even_with_a_huge_scale():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3)) * [1, 1, 1e25]
    det = AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(X)
    bad = X.copy()
    bad[5, 2] = float(np.finfo(np.float32).max) * (1 + 1e-9)  # rounds to float32's max
    assert "beyond float32" in _refusal(lambda: det.decision_function(bad))


def test_tables_with_categories_or_imputation_take_the_general_path(small_frame):
    det = AutoencoderDetector(hidden=(8, 3), epochs=2, random_state=0).fit(small_frame)
    _same(det, small_frame, fast=False)  # one-hot 'colour'
    numbers = small_frame[["a", "b", "c"]]
    imputing = AutoencoderDetector(hidden=(4, 2), epochs=2, missing="impute").fit(numbers)
    assert numeric_rows(imputing.encoder_, numbers) is None
    plain = AutoencoderDetector(hidden=(4, 2), epochs=2, random_state=0).fit(numbers)
    _same(plain, numbers)
    array = numbers.to_numpy()  # fitted with names: refused, as before
    assert numeric_rows(plain.encoder_, array) is None
    assert _refusal(lambda: plain.decision_function(array)) == _refusal(
        lambda: _general(plain, array)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"reduction": "sum"},
        {"clip": None},
        {"activation": "tanh", "output_activation": "sigmoid"},
        {"activation": "gelu", "dropout": 0.2},
        {"activation": ("leaky_relu", "elu", "sigmoid")},
        {"model": "vae"},
    ],
)
def test_options_score_as_the_general_path(table, params):
    det = AutoencoderDetector(hidden=(8, 4), epochs=2, random_state=0, **params).fit(table)
    _same(det, table * 1.2)


def test_images_score_as_the_general_path():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(120, 6, 5), dtype=np.uint8)
    det = AutoencoderDetector(hidden=(8, 3), epochs=2, random_state=0).fit(images)
    _same(det, images)
    _same(det, images.astype(np.float32) / 255, fast=True)
    with pytest.raises(DataError, match="images are 1x5x6"):
        det.decision_function(images.transpose(0, 2, 1))


def test_the_dense_forward_in_buffers_is_the_modules(table):
    det = AutoencoderDetector(
        hidden=(8, 4), epochs=1, activation="tanh", dropout=0.1, members=1
    ).fit(table)
    module = det.module_.eval()
    x = torch.randn(50, 7)
    forward = ChunkForward(module, 64)
    assert forward.layers is not None
    with torch.inference_mode():
        torch.testing.assert_close(forward(x), module(x), rtol=0, atol=0)
        torch.testing.assert_close(forward(x[:3]), module(x[:3]), rtol=0, atol=0)
