"""ONNX export: onnxruntime gives the model's scores (within 1e-5) for each kind of model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from aedetect.cli import app as cli_app  # noqa: E402
from aedetect.exceptions import ConfigError  # noqa: E402
from aedetect.export import export_model, to_onnx  # noqa: E402
from aedetect.persistence import load_detector, save_detector  # noqa: E402
from serve_models import (  # noqa: E402
    conv_model,
    impute_model,
    mixed_model,
    sequence_model,
    series_model,
    tamper,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def onnx_feed(session, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The README's pre-processing: columns from the metadata, sequences split into tokens."""
    meta = session.get_modelmeta().custom_metadata_map
    frame = frame.copy()
    for name, seq in json.loads(meta["aedetect.sequences"]).items():
        n, sep = seq["length"], seq["token_sep"]
        for i, tokens in enumerate(
            [list(v) if sep is None else v.split(sep) for v in frame.pop(name).astype(str)]
        ):
            tokens = (
                tokens + [""] * (n - len(tokens)) if len(tokens) <= n else tokens[: n - 1] + [""]
            )
            for k in range(n):
                frame.loc[i, f"{name}[{k + 1}]"] = tokens[k]
    feed = {}
    numbers, tokens = json.loads(meta["aedetect.numbers"]), json.loads(meta["aedetect.tokens"])
    if numbers:
        feed["numbers"] = frame[numbers].to_numpy(np.float64)
    if tokens:
        feed["tokens"] = frame[tokens].fillna("").astype(str).to_numpy(object)
    return feed


def check_parity(det, frame: pd.DataFrame) -> None:
    session = ort.InferenceSession(to_onnx(det).data)
    expected = det.decision_function(frame)
    score, flag = session.run(["score", "is_anomaly"], onnx_feed(session, frame))
    assert score.dtype == np.float64 and flag.dtype == np.int64
    # float32 arithmetic in two runtimes: a few units in the last place (large scores too)
    np.testing.assert_allclose(score, expected, rtol=1e-6, atol=1e-5)
    clear = np.abs(expected - det.threshold_) > 1e-5 + 1e-6 * abs(det.threshold_)
    assert (flag[clear] == (expected[clear] > det.threshold_)).all()
    one, _ = session.run(None, onnx_feed(session, frame.iloc[[3]].reset_index(drop=True)))
    np.testing.assert_allclose(one, expected[[3]], rtol=1e-6, atol=1e-5)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("export")


@pytest.fixture(scope="module")
def mixed(folder):
    return mixed_model(folder, 200)


def test_dense_model_with_categories(mixed):
    path, frame = mixed
    features = frame.drop(columns=["customer", "is_anomaly"])
    features.loc[1, "city"] = "Atlantis"  # unseen: its own slot
    features.loc[2, "age"] = 500.0  # clipped for the network, counted in the error
    check_parity(load_detector(path), features)


def test_imputing_model(folder):
    path, frame = impute_model(folder)
    assert frame[["a", "colour"]].isna().any().all()
    check_parity(load_detector(path), frame)


@pytest.mark.parametrize("encoding", ["onehot", "ordinal"])
def test_sequence_models(folder, encoding):
    path, frame = sequence_model(folder, encoding)
    odd = pd.DataFrame({"sequence": ["ABC", "ABCDEFGHIJK", "ZZZZ1ZZZ", "ABCD1QWO"]})
    check_parity(load_detector(path), pd.concat([frame.iloc[:60], odd], ignore_index=True))


def test_conv_model(folder):
    path, images = conv_model(folder)
    det = load_detector(path)
    frame = pd.DataFrame(
        images.reshape(len(images), -1)[:80], columns=det.encoder_.feature_names_in_
    )
    check_parity(det, frame)


@pytest.mark.parametrize(
    "params",
    [{"model": "vae", "hidden": (16, 4)}, {"model": "conv-vae", "hidden": (4, 2, 3)}],
    ids=["vae", "conv-vae"],
)
def test_variational_models(params):
    from sklearn.datasets import load_digits

    from aedetect import AutoencoderDetector

    X = load_digits().data[:150]
    det = AutoencoderDetector(epochs=2, random_state=0, image_shape=(1, 8, 8), **params).fit(X)
    check_parity(det, pd.DataFrame(X, columns=det.encoder_.feature_names_in_))


def test_only_the_reconstruction_score_exports(mixed):
    det = load_detector(mixed[0])
    det.set_params(scoring="latent-kmeans")
    with pytest.raises(ConfigError, match="only scoring='reconstruction' exports"):
        to_onnx(det)


def test_cli_names_the_score_flag(folder, mixed):
    det = load_detector(mixed[0])
    det.set_params(scoring="latent-kmeans")
    save_detector(det, folder / "kmeans.aedetect")
    out = folder / "kmeans.onnx"
    result = CliRunner().invoke(
        cli_app, ["export", str(folder / "kmeans.aedetect"), "--onnx", str(out)]
    )
    assert result.exit_code == 2 and not out.exists()
    assert result.output == (
        "error: only --score reconstruction exports to ONNX; "
        "this model scores with 'latent-kmeans'\n"
    )


def test_series_model_refused(folder):
    wave = series_model(folder)
    out = folder / "wave.onnx"
    with pytest.raises(ConfigError, match="wave.aedetect: a time-series model cannot be exported"):
        export_model(wave, out)
    result = CliRunner().invoke(cli_app, ["export", str(wave), "--onnx", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert "wave.aedetect: a time-series model cannot be exported to ONNX" in result.output
    assert "aedetect score" in result.output


def test_cli_export_and_tampered_file(folder, mixed):
    path = mixed[0]
    out = folder / "mixed.onnx"
    result = CliRunner().invoke(cli_app, ["export", str(path), "--onnx", str(out)])
    assert result.exit_code == 0, result.output
    assert "inputs numbers (n x 3 float64), tokens (n x 3 string)" in result.output
    session = ort.InferenceSession(str(out))
    assert [i.name for i in session.get_inputs()] == ["numbers", "tokens"]
    bad = tamper(path, folder)
    result = CliRunner().invoke(cli_app, ["export", str(bad), "--onnx", str(folder / "bad.onnx")])
    assert result.exit_code == 1
    assert "tampered-mixed.aedetect: checksum mismatch" in result.output
    assert not (folder / "bad.onnx").exists()
