"""Ensembles of autoencoders (``members``): trained apart, their errors averaged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from aedetect import AutoencoderDetector, ConfigError, load, save
from aedetect.cli import app
from aedetect.data.encoding import as_frame
from aedetect.fastpath import numeric_rows, reconstruction_scores
from aedetect.models.ensemble import Ensemble, members_of
from aedetect.pipeline import info


@pytest.fixture(scope="module")
def numbers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    X[:, 1] = X[:, 0] + 0.1 * rng.normal(size=400)
    return X


@pytest.fixture(scope="module")
def fitted(numbers):
    return AutoencoderDetector(hidden=(16, 4), epochs=5, random_state=3).fit(numbers)


def _scores(det, module, X):
    Xt = torch.from_numpy(det.encoder_.transform(as_frame(X)))
    with torch.inference_mode():
        return np.asarray(det.scorer_.score(module, Xt), np.float64)


def test_a_table_of_numbers_gets_three_members_whose_errors_are_averaged(fitted, numbers):
    assert isinstance(fitted.module_, Ensemble) and len(members_of(fitted.module_)) == 3
    each = [_scores(fitted, m, numbers) for m in members_of(fitted.module_)]
    np.testing.assert_allclose(fitted.decision_function(numbers), np.mean(each, axis=0), rtol=1e-6)
    # not the error of the averaged reconstruction (which rebuilds anomalies better)
    Xt = torch.from_numpy(fitted.encoder_.transform(as_frame(numbers)))
    with torch.inference_mode():
        mean_rebuilt = fitted.module_(Xt.clamp(*fitted._bounds_))
        of_mean = ((mean_rebuilt - Xt).square() @ fitted._weights_ / 5).double().numpy()
    assert not np.allclose(fitted.decision_function(numbers), of_mean, rtol=1e-3)
    # the members differ (own seeds), and the first is what one network would be
    first, second = (m.state_dict() for m in members_of(fitted.module_)[:2])
    assert not torch.equal(first["encoder.0.weight"], second["encoder.0.weight"])
    one = AutoencoderDetector(hidden=(16, 4), epochs=5, random_state=3, members=1).fit(numbers)
    assert all(torch.equal(first[k], v) for k, v in one.module_.state_dict().items())
    # the history is the members' mean curve
    assert len(fitted.history_.train_loss) == 5 and fitted.history_.seconds > 0


def test_fast_path_gives_the_general_paths_scores(fitted, numbers):
    rows = numeric_rows(fitted.encoder_, numbers)
    assert rows is not None
    fast = reconstruction_scores(fitted.scorer_, fitted.module_, rows)
    Xt = torch.from_numpy(fitted.encoder_.transform(as_frame(numbers)))
    general = np.asarray(fitted.scorer_.score(fitted.module_, Xt), np.float64)
    np.testing.assert_array_equal(fast, general)  # one chunk: the same operations


def test_round_trip_info_and_explanations(fitted, numbers, tmp_path):
    path = tmp_path / "m.aedetect"
    save(fitted, path)
    loaded = load(path)
    assert isinstance(loaded.module_, Ensemble)
    np.testing.assert_array_equal(
        loaded.decision_function(numbers), fitted.decision_function(numbers)
    )
    text = info(path).text()
    assert "network         3 x 5 -> 16 -> 4 -> ... -> 5" in text
    assert "training        5 epochs each, best" in text
    expl = fitted.explain(numbers[:5] + np.array([0, 3.0, 0, 0, 0]), top=1)
    assert (expl["column"] == "x1").mean() >= 0.6  # x1 = x0 broken: x1 named
    assert fitted.transform(numbers[:4]).shape == (4, 12)  # the members' codes side by side
    feature = fitted.feature_errors(numbers[:20])
    np.testing.assert_allclose(
        feature.sum(axis=1) / 5, fitted.decision_function(numbers[:20]), rtol=1e-5
    )


def test_onnx_export_scores_the_ensemble(fitted, numbers):
    ort = pytest.importorskip("onnxruntime")
    from aedetect.export import to_onnx

    session = ort.InferenceSession(to_onnx(fitted).data)
    names = [f"x{i}" for i in range(5)]
    frame = pd.DataFrame(numbers, columns=names)
    (score,) = session.run(["score"], {"numbers": frame.to_numpy(np.float64)})
    np.testing.assert_allclose(score, fitted.decision_function(numbers), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"members": 0}, "members"),
        ({"members": 11}, "members"),
        ({"members": "many"}, "members"),
        ({"members": 2, "model": "vae"}, "members must be 1 unless model is 'ae' or 'conv'"),
    ],
)
def test_bad_members_are_refused_naming_the_parameter(numbers, params, message):
    with pytest.raises(ConfigError, match=message):
        AutoencoderDetector(**params).fit(numbers[:50])


def test_members_on_images_and_on_the_command_line(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.random((80, 8, 8)).astype(np.float32)
    det = AutoencoderDetector(model="conv", conv_encoder=(4, "pool"), members=2, epochs=2)
    det.fit(images)
    assert len(members_of(det.module_)) == 2 and det.decision_function(images[:3]).shape == (3,)
    data = tmp_path / "t.csv"
    pd.DataFrame(rng.normal(size=(120, 3)), columns=list("abc")).to_csv(data, index=False)
    runner = CliRunner()
    res = runner.invoke(
        app, ["fit", str(data), "-o", str(tmp_path / "m.aedetect"), "--members", "2", "-q"]
    )
    assert res.exit_code == 0, res.output
    assert len(members_of(load(tmp_path / "m.aedetect").module_)) == 2
    res = runner.invoke(
        app, ["fit", str(data), "-o", str(tmp_path / "n.aedetect"), "--members", "x"]
    )
    assert res.exit_code != 0 and "--members must be an integer or auto" in res.output
    res = runner.invoke(
        app, ["fit", str(data), "-o", str(tmp_path / "n.aedetect"), "--members", "0"]
    )
    assert res.exit_code != 0 and "--members must be an integer in [1, 10]" in res.output
    assert not (tmp_path / "n.aedetect").exists()


@pytest.mark.parametrize("members", [0, 11, "x", None, 2.5, True, 2])
def test_a_damaged_member_count_is_a_clean_model_file_error(fitted, tmp_path, members):
    from aedetect import ModelFileError
    from hostile.crafting import resealed

    source = tmp_path / "m.aedetect"
    save(fitted, source)

    def edit(parsed):
        parsed["state"]["model_spec"]["members"] = members

    with pytest.raises(ModelFileError, match="damaged model file"):
        load(resealed(source, tmp_path / "bad.aedetect", edit))


def test_progress_counts_the_whole_fit(numbers):
    seen = []
    AutoencoderDetector(hidden=(8, 2), epochs=4, members=3, validation_fraction=0.0).fit(
        numbers, on_epoch=lambda epoch, loss, val: seen.append(epoch)
    )
    # 12 epochs in all, reported as the fit's 1..4 (a rising count that ends at epochs)
    assert len(seen) == 12 and seen == sorted(seen) and seen[0] == 1 and seen[-1] == 4


def test_series_window_models_keep_one_network():
    from aedetect.series_detector import series_model

    assert series_model(AutoencoderDetector()).members == 1  # the setting NAB measured
    assert series_model(AutoencoderDetector(members=2)).members == 2  # a choice is kept


def test_large_tables_keep_one_small_network(numbers):
    from aedetect.data.encoding import TabularEncoder
    from aedetect.fitting import NUMERIC_TABLE_HIDDEN, NUMERIC_TABLE_MAX_ROWS, for_rows
    from aedetect.params import DEFAULTS

    enc = TabularEncoder().fit(as_frame(numbers))
    params = {**DEFAULTS, "verbose": 0}
    small = for_rows(params, NUMERIC_TABLE_MAX_ROWS, encoder=enc)
    assert (small["hidden"], small["members"]) == (NUMERIC_TABLE_HIDDEN, 3)
    large = for_rows(params, NUMERIC_TABLE_MAX_ROWS + 1, encoder=enc)
    assert (large["hidden"], large["members"]) == (DEFAULTS["hidden"], 1)
    # a streamed fit's sample is judged by the whole table's size
    sampled = for_rows(params, 5000, encoder=enc, table_rows=10 * NUMERIC_TABLE_MAX_ROWS)
    assert (sampled["hidden"], sampled["members"]) == (DEFAULTS["hidden"], 1)


def test_the_command_lines_help_states_the_limits_the_code_uses():
    from aedetect.cli_options import MODEL_OPTIONS
    from aedetect.fitting import NUMERIC_TABLE_MAX_ROWS, NUMERIC_TABLE_MEMBERS
    from aedetect.params import MAX_MEMBERS

    helps = {opt[0]: opt[4] for opt in MODEL_OPTIONS}
    members, hidden = helps["members"], helps["hidden"]
    assert f"1 to {MAX_MEMBERS}" in members and f"auto: {NUMERIC_TABLE_MEMBERS} " in members
    for text in (members, hidden):
        assert f"at most {NUMERIC_TABLE_MAX_ROWS:,} rows" in text
