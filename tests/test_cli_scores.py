"""CLI: --score and its options, score --all-scores (issue 5)."""

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from aedetect import load
from aedetect.cli import app
from aedetect.data.datasets import make_mixed_table

runner = CliRunner()
# No -q: tests read the summaries it silences.
FAST = ["--epochs", "5", "--seed", "0"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_fit_with_a_score_and_write_all_scores(tmp_path):
    data = tmp_path / "t.csv"
    t = make_mixed_table(200, 4, seed=1)
    t.features.to_csv(data, index=False)
    model = tmp_path / "m.aedetect"
    res = invoke(
        "fit", data, "-o", model, "--score", "latent-kmeans", "--n-clusters", "3",
        "--distance", "mahalanobis", "--model", "vae", "--kl-weight", "0.5", *FAST,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    det = load(model)
    assert (det.scoring, det.n_clusters, det.distance, det.model) == (
        "latent-kmeans", 3, "mahalanobis", "vae"
    )  # fmt: skip
    assert det.scorer_.get_state()["layer1.centroids"].shape[0] == 3
    res = invoke("score", model, data, "--all-scores", "-o", tmp_path / "s.csv")
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "s.csv")
    assert list(out.columns) == [
        "score", "is_anomaly", "reconstruction", "latent-kmeans", "layerwise", "ensemble",
        "reconstruction-probability",
    ]  # fmt: skip
    np.testing.assert_array_equal(out["score"], out["latent-kmeans"])
    expected = det.all_scores(t.features)
    np.testing.assert_allclose(out["layerwise"], expected["layerwise"], rtol=1e-12)
    # without the flag: only the chosen score
    plain = invoke("score", model, data)
    assert plain.stdout.splitlines()[0] == "score,is_anomaly"


def test_bad_score_option_exits_2_before_any_work(tmp_path):
    res = invoke("fit", "digits", "-o", tmp_path / "m.aedetect", "--score", "nope", *FAST)
    assert res.exit_code == 2
    assert "--score must be one of reconstruction, latent-kmeans" in res.output
    assert not (tmp_path / "m.aedetect").exists()
    res = invoke("run", "digits", "-o", tmp_path / "o", "--ensemble", "reconstruction,x", *FAST)
    assert res.exit_code == 2 and "ensemble must be a non-empty tuple" in res.output
