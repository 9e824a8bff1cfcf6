import logging

import numpy as np
import pandas as pd
import pytest

from aedetect import AutoencoderDetector, load, save
from aedetect.data.datasets import REFERENCE_SEQUENCE_ANOMALIES, load_data, make_sequences
from aedetect.data.encoding import TabularEncoder
from aedetect.exceptions import ConfigError, DataError


@pytest.fixture(scope="module")
def reference_small():
    return make_sequences(size=5000, seed=0)


@pytest.fixture(scope="module", params=["onehot", "ordinal"])
def fitted(request, reference_small):
    det = AutoencoderDetector(
        sequence_columns=("sequence",),
        sequence_encoding=request.param,
        contamination=5 / 5005,
        random_state=0,
    )
    return det.fit(reference_small.features)


def test_generator_follows_the_pattern(reference_small):
    values = reference_small.features["sequence"]
    normal = values[reference_small.labels == 0]
    assert len(values) == 5005 and reference_small.labels.sum() == 5
    assert normal.str.fullmatch(r"[A-F]{4}[120][QWOPZXML]{3}").all()
    assert set(values[reference_small.labels == 1]) == set(REFERENCE_SEQUENCE_ANOMALIES)
    random_bad = make_sequences(size=100, anomalies=7, seed=1)
    bad = random_bad.features["sequence"][random_bad.labels == 1]
    assert len(bad) == 7 and not bad.str.fullmatch(r"[A-F]{4}[120][QWOPZXML]{3}").any()


def test_reference_rule_both_encodings(fitted, reference_small):
    # at least 4 of the 5 anomalies flagged, at most 10 rows flagged in all
    labels = reference_small.labels.to_numpy()
    assert (fitted.labels_ & labels).sum() >= 4
    assert fitted.labels_.sum() <= 10


def test_explanation_names_position_one_of_xydc2dca(fitted):
    # (one-hot decodes "expected" to a token seen at that position; ordinal to the
    # nearest code of the column's whole alphabet, which the test does not pin down)
    expl = fitted.explain(pd.DataFrame({"sequence": ["XYDC2DCA"]}), top=5)
    assert "sequence[1]" in set(expl["column"])
    first = expl[expl["column"] == "sequence[1]"].iloc[0]
    assert first["seen"] == "X" and first["expected"] != "X"


LEGAL = ["ABCDEF"] * 4 + ["120"] + ["QWOPZXML"] * 3


def test_illegal_tokens_come_before_every_legal_one(fitted):
    if fitted.sequence_encoding != "onehot":
        pytest.skip("tokens as categories: the ordinal codes are numbers")
    rows = pd.DataFrame({"sequence": list(REFERENCE_SEQUENCE_ANOMALIES)})
    expl = fitted.explain(rows, top=8)
    for i, seq in enumerate(rows["sequence"]):
        # e.g. AABDXUEI: X (a letter where a digit goes), U, E and I (not in QWOPZXML)
        illegal = {f"sequence[{k + 1}]" for k, t in enumerate(seq) if t not in LEGAL[k]}
        lines = expl[expl["row"] == i]
        assert set(lines["column"][: len(illegal)]) == illegal, seq
        # in the training rows once or twice (the anomalies are among them): rare there
        assert lines["frequency"][: len(illegal)].isin([1 / 5005, 2 / 5005]).all(), seq
        assert (lines["seen"] != lines["expected"]).all()


def test_positions_sum_back_to_the_sequence_column(fitted, reference_small):
    X = reference_small.features.iloc[:50]
    per_position = fitted.feature_errors(X, positions=True)
    per_column = fitted.feature_errors(X)
    assert per_position.shape == (50, 8) and per_column.shape == (50, 1)
    np.testing.assert_allclose(per_position.sum(axis=1), per_column[:, 0], rtol=1e-5)
    np.testing.assert_allclose(per_column[:, 0] / 8, fitted.decision_function(X), rtol=1e-5)


def test_wrong_length_and_unseen_tokens_are_scored_not_crashed(fitted, caplog):
    rows = pd.DataFrame({"sequence": ["ABCD1QWO", "ABCD1QW", "ABCD1QWOP", "ABCD1QW#", None]})
    with caplog.at_level(logging.WARNING, logger="aedetect"):
        scores = fitted.decision_function(rows)
    assert "3 row(s) not of length 8 (first: row 2, length 7)" in caplog.text
    assert (scores[1:] > scores[0]).all()


def test_multi_character_tokens_with_separator():
    frame = pd.DataFrame({"path": ["GET /a 200", "GET /b 200", "POST /a 201"] * 20})
    enc = TabularEncoder(sequences=["path"], token_sep=" ").fit(frame)
    assert enc.column_names_ == ["path[1]", "path[2]", "path[3]"]
    assert enc.columns_[0].categories == ["GET", "POST"]


def test_ordinal_codes_follow_the_sorted_alphabet():
    frame = pd.DataFrame({"s": ["AB", "BA", "AC"]})
    enc = TabularEncoder(sequences=["s"], sequence_encoding="ordinal", scaling="none").fit(frame)
    assert enc.transform(pd.DataFrame({"s": ["CA", "ZA"]})).tolist() == [[2.0, 0.0], [-1.0, 0.0]]
    decoded = enc.inverse_transform(np.array([[1.8, 0.1]], dtype=np.float32))
    assert decoded.iloc[0].tolist() == ["C", "A"]


def test_model_file_round_trip_keeps_sequences(fitted, reference_small, tmp_path):
    save(fitted, tmp_path / "seq.aedetect")
    again = load(tmp_path / "seq.aedetect")
    X = reference_small.features.iloc[:100]
    assert np.array_equal(again.decision_function(X), fitted.decision_function(X))


def test_bad_sequence_settings():
    with pytest.raises(DataError, match="sequence column 'nope' is not in the data"):
        AutoencoderDetector(sequence_columns=("nope",)).fit(pd.DataFrame({"s": ["AB", "CD"]}))
    with pytest.raises(ConfigError, match="sequence_encoding must be one of onehot, ordinal"):
        AutoencoderDetector(sequence_encoding="bits").fit(pd.DataFrame({"s": ["AB", "CD"]}))


def test_builtin_options_are_parsed():
    table = load_data("sequences:size=200,anomalies=3,seed=4")
    assert len(table.features) == 203 and table.sequence_columns == ("sequence",)
    with pytest.raises(DataError, match="bad data set option"):
        load_data("sequences:colour=red")


def test_a_csv_sequence_of_digits_keeps_its_leading_zeros(tmp_path):
    from aedetect import pipeline
    from aedetect.pipeline.streaming import score_chunks

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("0123"), 5)) for _ in range(200)]
    data = tmp_path / "digits.csv"
    pd.DataFrame({"id": range(200), "seq": seqs}).to_csv(data, index=False)
    det = AutoencoderDetector(sequence_columns=("seq",), hidden=(8, 2), epochs=1, random_state=0)
    request = pipeline.DataRequest(str(data), id_column="id")
    fitted = pipeline.fit(det, request, tmp_path / "m.aedetect")
    assert fitted.detector.encoder_.sequences_["seq"]["length"] == 5  # "00302", not 302
    whole = pipeline.score(tmp_path / "m.aedetect", request)
    frames: list[pd.DataFrame] = []
    sink = type("Sink", (), {"write": lambda self, frame: frames.append(frame)})()
    score_chunks(tmp_path / "m.aedetect", request, sink, chunk_rows=64)
    chunked = pd.concat(frames)["score"].to_numpy()
    np.testing.assert_allclose(chunked, whole["score"].to_numpy(), rtol=1e-6)


def test_a_sequence_too_wide_to_encode_is_refused_naming_the_column(monkeypatch):
    from aedetect.data import sequences

    monkeypatch.setattr(sequences, "MAX_WIDTH", 100)
    frame = pd.DataFrame({"seq": ["AB" * 20, "BA" * 20]})  # 40 positions, 2 tokens: 120
    det = AutoencoderDetector(sequence_columns=("seq",), epochs=1)
    with pytest.raises(DataError, match=r"'seq': 40 positions of 2 tokens make 120 one-hot"):
        det.fit(frame)
    det.set_params(sequence_encoding="ordinal")
    det.fit(frame)  # 40 columns
