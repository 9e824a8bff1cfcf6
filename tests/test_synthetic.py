import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from aedetect import AutoencoderDetector, DataError
from aedetect.cli import app
from aedetect.data.datasets import load_data
from aedetect.data.synthetic import SYNTHETIC_KINDS, make_synthetic, synthetic_arrays


@pytest.fixture(autouse=True)
def _one_thread():
    # Two OpenMP threads on a shared 2-core machine can be 20x slower than one.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _auroc(scores, y):
    return roc_auc_score(y, scores)


@pytest.mark.parametrize("kind", SYNTHETIC_KINDS)
def test_shape_labels_and_seed(kind):
    table = make_synthetic(kind, n_rows=600, n_anomalies=30, dim=7, seed=3)
    assert table.features.shape == (600, 7)
    assert list(table.features.columns) == [f"x{j}" for j in range(7)]
    assert int(table.labels.sum()) == 30 and set(table.labels) == {0, 1}
    again = make_synthetic(kind, n_rows=600, n_anomalies=30, dim=7, seed=3)
    pd.testing.assert_frame_equal(table.features, again.features)
    other = make_synthetic(kind, n_rows=600, n_anomalies=30, dim=7, seed=4)
    assert not np.allclose(table.features.to_numpy(), other.features.to_numpy())
    # the anomalies are shuffled among the normal rows, not stacked at the end
    assert 0 < np.flatnonzero(table.labels)[0] < 600 - 30


# A floor per kind, with the detector suited to it: what ADBench reports as detectable.
@pytest.mark.parametrize(
    ("kind", "detector", "floor"),
    [
        ("global", "iforest", 0.95),
        ("clustered", "iforest", 0.95),
        ("local", "lof", 0.9),
        ("dependency", "lof", 0.9),
    ],
)
def test_each_kind_is_detectable(kind, detector, floor):
    X, y = synthetic_arrays(kind, n_rows=1000, n_anomalies=50, dim=10, seed=0)
    Xs = StandardScaler().fit_transform(X)
    if detector == "iforest":
        scores = -IsolationForest(random_state=0).fit(Xs).score_samples(Xs)
    else:
        scores = -LocalOutlierFactor(n_neighbors=20).fit(Xs).negative_outlier_factor_
    assert _auroc(scores, y) > floor


def test_anomalies_differ_the_way_their_kind_says():
    # local: same centres, wider spread; clustered: few tight groups far from the data.
    local, yl = synthetic_arrays("local", n_rows=2000, n_anomalies=200, dim=5, seed=1)
    centre = local[yl == 0].mean(axis=0)
    spread_normal = np.linalg.norm(local[yl == 0] - centre, axis=1).mean()
    spread_bad = np.linalg.norm(local[yl == 1] - centre, axis=1).mean()
    assert spread_bad > 1.5 * spread_normal
    dep, yd = synthetic_arrays("dependency", n_rows=4000, n_anomalies=2000, dim=4, seed=1)
    # same marginals (means within a few standard errors), broken correlations
    np.testing.assert_allclose(dep[yd == 0].mean(0), dep[yd == 1].mean(0), atol=0.5)
    corr_normal = np.abs(np.corrcoef(dep[yd == 0].T)[np.triu_indices(4, 1)]).mean()
    corr_bad = np.abs(np.corrcoef(dep[yd == 1].T)[np.triu_indices(4, 1)]).mean()
    assert corr_bad < 0.5 * corr_normal


def test_aedetect_finds_global_anomalies():
    table = make_synthetic("global", n_rows=800, n_anomalies=40, dim=10, seed=0)
    det = AutoencoderDetector(epochs=30, random_state=0).fit(table.features)
    assert _auroc(det.decision_scores_, table.labels) > 0.9


def test_builtin_with_options_and_bad_options():
    table = load_data("synthetic:kind=cluster,n_rows=300,n_anomalies=15,dim=4,alpha=3.5")
    assert table.features.shape == (300, 4) and int(table.labels.sum()) == 15
    assert table.source == "synthetic:kind=cluster,n_rows=300,n_anomalies=15,dim=4,alpha=3.5"
    with pytest.raises(DataError, match=r"^synthetic: kind must be one of local, global, "):
        load_data("synthetic:kind=weird")
    with pytest.raises(DataError, match=r"n_anomalies must be smaller than n_rows \(10\), got 10"):
        load_data("synthetic:n_rows=10,n_anomalies=10")
    with pytest.raises(DataError, match=r"alpha must be a number, got 'x'"):
        load_data("synthetic:alpha=x")


def test_cli_runs_on_synthetic(tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "run",
            "synthetic:kind=global,n_rows=400,n_anomalies=20,dim=5",
            "-o",
            str(tmp_path / "o"),
            "--epochs",
            "5",
            "--seed",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "AUROC" in res.stdout
    assert len(pd.read_csv(tmp_path / "o" / "scores.csv")) == 400
    bad = CliRunner().invoke(app, ["run", "synthetic:kind=weird", "-o", str(tmp_path / "b")])
    assert bad.exit_code == 1
    assert "kind must be one of" in bad.output and "Traceback" not in bad.output
