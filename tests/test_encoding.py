import numpy as np
import pandas as pd
import pytest

from aedetect.data.encoding import TabularEncoder, as_frame
from aedetect.exceptions import ConfigError, DataError


def test_one_hot_block_weighted_like_one_number():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "cat": list("abcd")})
    enc = TabularEncoder().fit(frame)
    assert enc.categorical_columns_ == ["cat"]
    # 1 numeric slot + 4 categories + 1 unseen slot
    assert enc.n_features_out_ == 6
    assert enc.feature_weights_.tolist() == [1.0] + [0.5] * 5
    encoded = enc.transform(frame)
    assert encoded[:, 1:5].sum(axis=1).tolist() == [1, 1, 1, 1]
    # A wholly wrong category (one slot missed, one predicted) costs category_weight.
    wrong = np.zeros((1, 6), dtype=np.float32)
    wrong[0, 1], wrong[0, 2] = 1.0, 1.0
    assert enc.column_errors(wrong)[0, 1] == pytest.approx(1.0)


def test_twenty_categories_cost_the_same_as_two():
    frame = pd.DataFrame({"many": [f"c{i}" for i in range(20)], "few": ["a", "b"] * 10})
    enc = TabularEncoder().fit(frame)
    enc_cols = {c.name: c for c in enc.columns_}
    for name in ("many", "few"):
        col = enc_cols[name]
        assert enc.feature_weights_[col.start : col.stop].sum() * 2 / (col.stop - col.start) == 1.0


def test_unseen_category_sets_unseen_slot():
    enc = TabularEncoder().fit(pd.DataFrame({"cat": ["a", "b", "a"]}))
    out = enc.transform(pd.DataFrame({"cat": ["zzz"]}))
    assert out.tolist() == [[0.0, 0.0, 1.0]]


def test_text_in_numeric_column_is_named():
    frame = pd.DataFrame({"age": ["1", "2", "abc", "4", "5"]})
    with pytest.raises(DataError, match=r"column 'age' row 3: 'abc' is not a number"):
        TabularEncoder().fit(frame)


def test_missing_rejected_with_column_and_row():
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan]})
    with pytest.raises(DataError, match=r"column 'a' row 3: missing value \(NaN\)"):
        TabularEncoder().fit(frame)


def test_infinite_rejected_even_when_imputing():
    frame = pd.DataFrame({"a": [1.0, np.inf, 2.0]})
    with pytest.raises(DataError, match=r"column 'a' row 2: infinite value"):
        TabularEncoder(missing="impute").fit(frame)


def test_impute_fills_median_and_sets_indicator():
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "c": ["x", "x", None, "y"]})
    enc = TabularEncoder(missing="impute", scaling="none").fit(train)
    out = enc.transform(train)
    assert out[3, 0] == 2.0 and out[3, 1] == 1.0  # median, indicator
    assert out[0, 1] == 0.0
    c = enc.columns_[1]
    assert out[2, c.stop - 1] == 1.0 and out[2, c.start] == 1.0  # indicator, most frequent "x"


def test_constant_column_does_not_blow_up():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"const": np.zeros(100), "v": rng.normal(0, 50, 100)})
    enc = TabularEncoder().fit(train)
    assert enc.constant_columns_ == ["const"]
    test = enc.transform(pd.DataFrame({"const": [255.0], "v": [0.0]}))
    # scaled like its neighbour (std ~50), not divided by ~0 (PyOD: 1e8) or by 1 (255)
    assert 2.0 < test[0, 0] < 10.0


def test_constant_is_relative_to_the_columns_own_magnitude():
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "farad": rng.normal(5, 1, 100) * 1e-12,  # small units vary
            "rounded": np.where(np.arange(100) % 2 == 0, 0.1 + 0.2, 0.3),  # rounding does not
        }
    )
    enc = TabularEncoder().fit(train)
    assert enc.constant_columns_ == ["rounded"]
    out = enc.transform(pd.DataFrame({"farad": [40e-12], "rounded": [0.3]}))
    assert out[0, 0] > 20  # 35 standard deviations out


def test_nearly_constant_column_is_floored_at_a_tenth_of_its_range():
    train = pd.DataFrame({"rare": [0.0] * 999 + [16.0]})
    enc = TabularEncoder().fit(train)
    assert enc.columns_[0].scale == pytest.approx(1.6)


def test_pooled_scaling_shares_one_divisor():
    frame = pd.DataFrame({"quiet": [0.0, 0.0, 0.0, 2.0], "loud": [0.0, 100.0, 0.0, 100.0]})
    enc = TabularEncoder(scaling="pooled").fit(frame)
    scales = [c.scale for c in enc.columns_]
    assert scales[0] == scales[1] == pytest.approx((np.std([0, 0, 0, 2]) + 50.0) / 2)


def test_clip_bounds_at_five_sigma():
    rng = np.random.default_rng(0)
    enc = TabularEncoder().fit(pd.DataFrame({"v": rng.normal(size=500), "c": ["a", "b"] * 250}))
    low, high = enc.clip_bounds()
    assert low[0] == pytest.approx(-5.0, abs=1e-4) and high[0] == pytest.approx(5.0, abs=1e-4)
    assert np.isinf(low[1:]).all() and np.isinf(high[1:]).all()


def test_columns_must_match_at_transform():
    enc = TabularEncoder().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}))
    with pytest.raises(DataError, match=r"missing 'b'; unexpected 'z'"):
        enc.transform(pd.DataFrame({"a": [1.0], "z": [2.0]}))
    # same columns in another order are fine
    assert enc.transform(pd.DataFrame({"b": [3.0], "a": [1.0]})).shape == (1, 2)


def test_state_round_trip_gives_same_encoding(small_frame):
    enc = TabularEncoder(missing="impute").fit(small_frame)
    again = TabularEncoder.from_state(enc.get_state())
    assert np.array_equal(enc.transform(small_frame), again.transform(small_frame))
    assert again.clip_bounds()[0].tolist() == enc.clip_bounds()[0].tolist()


def test_inverse_transform_decodes_units_and_categories(small_frame):
    enc = TabularEncoder().fit(small_frame)
    back = enc.inverse_transform(enc.transform(small_frame))
    np.testing.assert_allclose(back["a"], small_frame["a"], rtol=1e-5, atol=1e-5)
    assert back["colour"].tolist() == small_frame["colour"].tolist()


def test_bad_parameters():
    with pytest.raises(ConfigError, match="scaling must be one of"):
        TabularEncoder(scaling="log").fit([[1.0]])
    with pytest.raises(ConfigError, match=r"category_weight must be in \(0.0, inf\), got -1"):
        TabularEncoder(category_weight=-1).fit([[1.0]])


def test_as_frame_rejects_1d():
    with pytest.raises(DataError, match="1D array"):
        as_frame(np.arange(3))


def test_numeric_codes_can_be_named_categorical():
    frame = pd.DataFrame({"zip": [10115, 20095, 10115, 80331], "x": [1.0, 2.0, 3.0, 4.0]})
    assert TabularEncoder().fit(frame).categorical_columns_ == []
    enc = TabularEncoder(categorical=["zip"]).fit(frame)
    assert enc.categorical_columns_ == ["zip"]
    assert enc.columns_[0].categories == ["10115", "20095", "80331"]
    with pytest.raises(DataError, match="categorical column 'nope' is not in the data"):
        TabularEncoder(categorical=["nope"]).fit(frame)


def test_identifier_like_text_column_is_refused_by_name():
    n = 200
    frame = pd.DataFrame({"order": [f"o{i}" for i in range(n)], "x": np.arange(n, dtype=float)})
    with pytest.raises(DataError, match=r"column 'order' has 200 different values in 200 rows"):
        TabularEncoder().fit(frame)
    # named as categorical, it is taken as one; a few distinct values are a category
    assert TabularEncoder(categorical=["order"]).fit(frame).n_features_out_ == n + 2
    frame["order"] = [f"o{i % 30}" for i in range(n)]
    assert TabularEncoder().fit(frame).n_features_out_ == 32


def test_one_hot_too_big_for_memory_is_refused_before_encoding(monkeypatch):
    from aedetect.data import frames

    monkeypatch.setattr(frames, "MAX_ONEHOT_CELLS", 1000)
    frame = pd.DataFrame({"a": [f"c{i % 10}" for i in range(200)], "b": ["x", "y"] * 100})
    with pytest.raises(DataError, match=r"column 'a' has 10 categories: 200 rows x 14"):
        TabularEncoder().fit(frame)


def test_a_category_that_looks_like_token_sequences_gets_a_hint(caplog):
    rng = np.random.default_rng(0)
    codes = ["".join(rng.choice(list("ACGT"), 4)) for _ in range(600)]
    frame = pd.DataFrame({"seq": [c + "T" + c[::-1] for c in codes], "x": rng.normal(size=600)})
    with caplog.at_level("WARNING", logger="aedetect"):
        TabularEncoder().fit(frame)
    assert "its values look like sequences of 9 tokens" in caplog.text
    # (the command line's log filter, once installed, says it as --sequence-column)
    assert "use sequence_columns" in caplog.text or "use --sequence-column" in caplog.text
    caplog.clear()
    cities = pd.DataFrame({"city": [f"city_{i % 25:02d}" for i in range(600)]})
    with caplog.at_level("WARNING", logger="aedetect"):
        TabularEncoder().fit(cities)  # codes, not combinations of tokens
    assert "sequences" not in caplog.text
    ids = pd.DataFrame()
    ids["dna"] = [
        c + "T" + c[::-1] for c in ["".join(rng.choice(list("ACGT"), 8)) for _ in range(600)]
    ]
    with pytest.raises(DataError, match="an identifier or free text.*sequences of 17 tokens"):
        TabularEncoder().fit(ids)


@pytest.mark.parametrize(
    ("columns", "said"),
    [(["a", "a", "b"], "'a' name two columns"), ([1, "1", "b"], "1 and '1' name two columns")],
)
def test_a_frame_with_a_column_name_twice_is_refused(columns, said):
    from aedetect.data.frames import as_frame

    frame = pd.DataFrame(np.zeros((3, 3)), columns=columns)
    with pytest.raises(DataError, match=f"column names must be unique: {said}"):
        as_frame(frame)


def test_a_frame_of_multilevel_or_complex_columns_is_refused():
    from aedetect.data.frames import as_frame

    levels = pd.DataFrame(
        np.zeros((3, 2)), columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
    )
    with pytest.raises(DataError, match="several levels"):
        as_frame(levels)
    with pytest.raises(DataError, match="column 'z': complex numbers"):
        as_frame(pd.DataFrame({"z": [1 + 1j, 2.0], "r": [1.0, 2.0]}))
