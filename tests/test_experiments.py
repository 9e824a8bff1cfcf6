"""The reference experiments on tiny settings, and the CLI over images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from aedetect.cli import app
from aedetect.experiments import mnist_thresholds, output_activation, three_models, worst_digits
from aedetect.metrics import separation, threshold_sweep

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_threshold_sweep_and_separation_exact():
    inl, outl = np.array([0.01, 0.02, 0.03]), np.array([0.025, 0.05])
    truth, scores = np.r_[np.zeros(len(inl)), np.ones(len(outl))], np.r_[inl, outl]
    sweep = threshold_sweep(truth, scores, step=0.01, start=0.0)
    row = sweep[np.isclose(sweep["threshold"], 0.02)].iloc[0]
    # above 0.02: inlier 0.03, outliers 0.025 and 0.05 -> tp 2, fp 1, fn 0
    assert row["outliers_rejected"] == 1.0 and row["inliers_rejected"] == pytest.approx(1 / 3)
    assert row["f1"] == pytest.approx(2 / (2 + 0.5))
    assert sweep["threshold"].iloc[-1] >= 0.05 and sweep["outliers_rejected"].iloc[-1] == 0
    assert separation(truth, scores) == pytest.approx(
        (0.02 - 0.0375) ** 2 / (np.var(inl) + np.var(outl))
    )


def test_three_models_tiny():
    res = three_models(epochs=2, test_samples=10, train_samples=100, data="offline")
    table = res.tables["losses"]
    assert set(table["model"]) == {"dense-64", "deep-dense", "conv-keras"}
    assert sorted(set(table["epoch"])) == [1, 2] and len(table) == 3 * 2 * 20
    assert table["auroc"].between(0, 1).all() and (table["loss"] >= 0).all()
    assert set(res.figures) == {"losses-epoch-01", "losses-epoch-02", "training-loss"}
    assert any("AUROC" in line for line in res.summary)


def test_worst_digits_finds_item_1113():
    # The preset trains 100 epochs at batch 10 (item 1113 comes first with seed 0);
    # 50 epochs keep the test short and still put it in the top 5 with the default seed.
    res = worst_digits(top=5, epochs=50)
    table = res.tables["worst-digits"]
    assert 1113 in table["index"].tolist()
    assert table.set_index("index").loc[1113, "label"] == 7
    assert table["error"].is_monotonic_decreasing


def test_output_activation_tiny():
    res = output_activation(train_samples=200, test_samples=50, epochs=2, data="offline")
    table = res.tables["output-activation"]
    assert table["output"].tolist() == ["identity", "sigmoid", "tanh", "relu"]
    assert table["auroc"].between(0, 1).all() and (table["final_train_loss"] > 0).all()


def test_mnist_thresholds_tiny():
    res = mnist_thresholds(epochs=1, train_samples=200, test_samples=40, data="offline")
    stats = res.tables["statistics"].set_index("statistic")["value"]
    sweep = res.tables["threshold-sweep"]
    assert 0 <= stats["pr_auc"] <= 1 and stats["separation"] >= 0
    assert np.allclose(np.diff(sweep["threshold"]), 0.001)
    assert sweep["outliers_rejected"].is_monotonic_decreasing
    assert set(res.figures) == {"histograms", "threshold-sweep", "precision-recall"}


def test_cli_experiment_writes_files(tmp_path):
    out = tmp_path / "exp"
    res = invoke(
        "experiment",
        "output-activation",
        "--epochs",
        "1",
        "--train-samples",
        "100",
        "--test-samples",
        "20",
        "--data",
        "offline",
        "-o",
        out,
        "-q",
    )
    assert res.exit_code == 0, res.output
    assert (out / "training-curves.png").stat().st_size > 1000
    assert len(pd.read_csv(out / "output-activation.csv")) == 4
    bad = invoke("experiment", "worst-digits", "--optimizer", "sgd", "-o", out)
    assert bad.exit_code == 2 and "--optimizer does not apply to worst-digits" in bad.output
    unknown = invoke("experiment", "nope", "-o", out)
    assert unknown.exit_code == 2 and "unknown experiment 'nope'" in unknown.output


def test_cli_run_mnist5k_normal_0(tmp_path):
    out = tmp_path / "run"
    res = invoke(
        "run",
        "mnist5k",
        "--normal",
        "0",
        "--hidden",
        "32,8",
        "--epochs",
        "3",
        "--scaling",
        "pooled",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    assert "on the 4600 test rows" in res.output
    auroc = float(res.output.split("AUROC ")[1].split(",")[0])
    assert auroc > 0.7
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 5000 and (scores["split"] == "fit").sum() == 400
    assert (out / "anomalies.png").is_file()
    # the saved model scores the same selection
    again = invoke(
        "score", out / "model.aedetect", "mnist5k", "--normal", "0", "-o", tmp_path / "s.csv"
    )
    assert again.exit_code == 0, again.output
    assert np.allclose(pd.read_csv(tmp_path / "s.csv")["score"], scores["score"])


def test_cli_image_folder_with_abnormal_folder(tmp_path):
    rng = np.random.default_rng(0)
    normal, odd = tmp_path / "normal", tmp_path / "odd"
    normal.mkdir()
    odd.mkdir()
    for i in range(40):  # normal: a bright square in the middle
        img = np.zeros((12, 12), np.uint8)
        img[4:8, 4:8] = 200 + rng.integers(0, 50)
        Image.fromarray(img).save(normal / f"{i:02d}.png")
    for i in range(5):  # odd: noise, larger, RGB: resized and converted to match
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(odd / f"{i}.jpg")
    out = tmp_path / "out"
    res = invoke(
        "run",
        normal,
        "--abnormal-data",
        odd,
        "--architecture",
        "conv",
        "--conv-encoder",
        "4,pool,4",
        "--scaling",
        "unit",
        "--epochs",
        "20",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    assert "AUROC 1.000" in res.output
    # the model scores another folder: resized and converted to its 1x12x12 images
    scored = invoke("score", out / "model.aedetect", odd, "-o", tmp_path / "odd.csv")
    assert scored.exit_code == 0, scored.output
    odd_scores = pd.read_csv(tmp_path / "odd.csv")["score"]
    normal_scores = pd.read_csv(out / "scores.csv")["score"][:40]
    assert len(odd_scores) == 5 and odd_scores.min() > normal_scores.max()
    info = invoke("info", out / "model.aedetect")
    assert "conv 1x12x12: encoder 4,pool,4, decoder mirror" in info.output
    bad = invoke(
        "run",
        normal,
        "--architecture",
        "conv",
        "--conv-encoder",
        "4,pool,pool,pool",
        "-o",
        out,
        "-q",
    )
    assert bad.exit_code == 2 and "conv decoder turns 1x12x12 images into 1x8x8" in bad.output


def test_cli_experiment_writes_nothing_when_one_output_is_refused(tmp_path):
    out = tmp_path / "exp"
    out.mkdir()
    (out / "training-curves.png").write_bytes(b"old figure")
    (out / "output-activation.csv").write_text("old table\n")
    (out / "output-activation.csv").chmod(0o444)
    args = ["--epochs", "1", "--train-samples", "50", "--test-samples", "10", "--data", "offline"]
    res = invoke("experiment", "output-activation", *args, "-o", out, "-q")
    assert res.exit_code == 1 and "output-activation.csv: is read-only" in res.output
    assert (out / "training-curves.png").read_bytes() == b"old figure"
