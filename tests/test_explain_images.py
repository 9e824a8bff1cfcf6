"""Explanations: the corrupted column of a table, the corrupted patch of an image."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from aedetect import AutoencoderDetector
from aedetect.cli import app
from aedetect.report.heatmap import error_heatmap, pixel_error_map


def test_explanation_names_the_corrupted_column():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(500, 2))
    mixing = rng.normal(size=(2, 6))
    frame = pd.DataFrame(factors @ mixing + rng.normal(scale=0.05, size=(500, 6)))
    frame.columns = [f"f{i}" for i in range(6)]
    det = AutoencoderDetector(hidden=(8, 2), epochs=40, random_state=0).fit(frame)
    bad = frame.iloc[:10].copy()
    for i, col in enumerate(["f1", "f4"] * 5):
        bad.loc[i, col] += 6 * frame[col].std()
    expl = det.explain(bad, top=1)
    assert list(expl["column"]) == ["f1", "f4"] * 5
    assert (expl["share"] > 0.4).all()


@pytest.fixture(scope="module")
def digits_model():
    X = load_digits().data
    det = AutoencoderDetector(hidden=(32, 8), epochs=20, scaling="pooled", random_state=0)
    return det.fit(X[:1200]), X[1200:]


def _corrupt(X):
    bad = X[:6].copy().reshape(-1, 8, 8)
    bad[:, 0:3, 5:8] = 16.0 - bad[:, 0:3, 5:8]  # invert a 3x3 patch, top right
    return bad.reshape(-1, 64)


def test_heat_map_is_hottest_where_the_image_was_corrupted(digits_model):
    det, X = digits_model
    bad = _corrupt(X)
    errors = det.feature_errors(bad)
    fig = error_heatmap(
        bad, det.reconstruct(bad), errors, (1, 8, 8), [f"row {i}" for i in range(6)]
    )
    assert len(fig.axes) == 6 * 3 + 6  # three panels and a colour bar per image
    for i in range(6):
        heat = np.asarray(fig.axes[i * 3 + 2].images[0].get_array())
        np.testing.assert_allclose(heat, pixel_error_map(errors[i], (1, 8, 8)))
        r, c = np.unravel_index(np.argmax(heat), heat.shape)
        assert r < 3 and c >= 5, (i, r, c)
        assert heat[0:3, 5:8].sum() > 0.5 * heat.sum()


def test_pixel_error_map_sums_channels_and_checks_the_shape():
    errors = np.arange(12.0)
    np.testing.assert_array_equal(pixel_error_map(errors, (3, 2, 2)), [[12, 15], [18, 21]])
    with pytest.raises(
        ValueError, match=r"image shape \(1, 3, 3\) holds 9 values, but rows have 12"
    ):
        pixel_error_map(errors, (1, 3, 3))
    # colour images draw too
    rgb = np.random.default_rng(0).uniform(size=(2, 12))
    assert len(error_heatmap(rgb, rgb, rgb, (3, 2, 2)).axes) == 2 * 3 + 2


def test_cli_writes_one_heat_map_per_row(digits_model, tmp_path):
    from aedetect import save

    det, X = digits_model
    model, data = tmp_path / "m.aedetect", tmp_path / "digits.npy"
    save(det, model)
    np.save(data, np.vstack([X[:20], _corrupt(X)[:1]]))
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "explain", str(model), str(data), "--rows", "3,21",
            "--images-dir", str(tmp_path / "maps"), "--image-shape", "1,8,8",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == ["row-21.png", "row-3.png"]
    assert (tmp_path / "maps" / "row-21.png").read_bytes()[:4] == b"\x89PNG"
    bad = runner.invoke(
        app, ["explain", str(model), str(data), "--images-dir", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2
    assert "--images-dir needs the image shape: give --image-shape C,H,W" in bad.output
    assert not (tmp_path / "x").exists()
