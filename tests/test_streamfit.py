"""Training on Parquet without loading it: seeded sample, shuffled row groups, same model twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from aedetect import AutoencoderDetector, load
from aedetect.cli import app
from aedetect.data.datasets import make_mixed_table
from aedetect.data.sampling import RowSample
from aedetect.exceptions import ConfigError
from aedetect.streamfit import fit_parquet
from aedetect.training import RowView, TrainConfig, train


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    t = make_mixed_table(6000, 10, seed=2)
    frame = t.features.assign(customer=t.ids, is_anomaly=t.labels)
    for k in range(3):
        piece = frame.iloc[k * 2000 : (k + 1) * 2000]
        piece.to_parquet(folder / f"part-{k}.parquet", row_group_size=500)
    return folder, frame


def _fit(folder, seed=0):
    det = AutoencoderDetector(hidden=(8, 3), epochs=3, random_state=seed)
    return fit_parquet(det, folder, "is_anomaly", "customer", sample_rows=1500)


def test_streamed_training_with_one_seed_gives_identical_models(parts):
    folder, frame = parts
    a, b, c = _fit(folder), _fit(folder), _fit(folder, seed=1)
    X = frame.drop(columns=["customer", "is_anomaly"])
    for (name, p), q in zip(
        a.module_.state_dict().items(), b.module_.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    assert (a.decision_function(X) == b.decision_function(X)).all()
    assert a.threshold_ == b.threshold_ and len(a.decision_scores_) == 1500
    assert not (a.decision_function(X) == c.decision_function(X)).all()
    assert len(a.history_.train_loss) == 3 and len(a.history_.val_loss) == 3


def test_row_sample_is_uniform_seeded_and_in_input_order():
    frame = pd.DataFrame({"x": np.arange(10_000)})
    picks = []
    for seed in (0, 0, 1):
        s = RowSample(1000, seed)
        for k in range(10):
            s.add(frame.iloc[k * 1000 : (k + 1) * 1000].reset_index(drop=True), k)
        picks.append(s.frame()["x"].to_numpy())
    assert (picks[0] == picks[1]).all() and not (picks[0] == picks[2]).all()
    assert (np.diff(picks[0]) > 0).all() and 400 < (picks[0] < 5000).sum() < 600
    with pytest.raises(ConfigError, match="sample_rows must be a positive integer, got 0"):
        RowSample(0, 0)


def test_a_row_view_trains_the_same_model_as_the_copy_it_avoids():
    X = torch.randn(3000, 6)
    rows = torch.randperm(3000, generator=torch.Generator().manual_seed(1))[:2500]
    models = []
    for data in (X[rows].clamp(-1, 1), RowView(X, rows, lambda b: b.clamp_(-1, 1))):
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Linear(6, 2), torch.nn.Linear(2, 6))
        cfg = TrainConfig(epochs=2, batch_size=64, patience=None)
        train(
            module,
            data,
            torch.nn.functional.mse_loss,
            cfg,
            generator=torch.Generator().manual_seed(0),
        )
        models.append(module)
    for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(p, q)


def test_cli_fit_stream_then_score(parts, tmp_path):
    folder, frame = parts
    model = tmp_path / "m.aedetect"
    args = ["fit", str(folder), "-o", str(model), "--stream", "--id-column", "customer"]
    res = CliRunner().invoke(app, [*args, "--label-column", "is_anomaly", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    assert "fitted streamed on 6000 rows x 6 columns" in res.stdout
    assert load(model).n_features_in_ == 6
    res = CliRunner().invoke(app, ["score", str(model), str(folder), "-o", str(tmp_path / "s.csv")])
    assert res.exit_code == 0, res.output
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == [
        "customer",
        "score",
        "is_anomaly",
        "true_is_anomaly",
    ]
    csv = tmp_path / "t.csv"
    frame.to_csv(csv, index=False)
    res = CliRunner().invoke(app, ["fit", str(csv), "-o", str(model), "--stream"])
    assert res.exit_code == 2 and "--stream needs a Parquet file" in res.stderr


def test_small_row_groups_are_gathered_into_parts_of_whole_groups(tmp_path):
    from aedetect.streamfit import ParquetEpochs, _groups

    frame = make_mixed_table(600, 10, seed=3).features
    path = tmp_path / "tiny-groups.parquet"
    frame.to_parquet(path, row_group_size=7)  # 86 groups: a streaming writer's file
    groups = _groups(path)
    held = {0: np.array([0, 1])}  # two validation rows, left out of the parts

    def rows(f):
        return torch.zeros(len(f), 1)

    cpu = torch.device("cpu")
    sizes = [
        len(p) for p in ParquetEpochs(groups, list(frame.columns), rows, held, 0, cpu, 100).parts(1)
    ]
    assert sum(sizes) == 598
    assert all(100 <= s < 107 for s in sizes[:-1]) and 0 < sizes[-1] < 107
    det = AutoencoderDetector(hidden=(8, 3), epochs=2, batch_size=32, random_state=0)
    fitted = fit_parquet(det, path, sample_rows=300)
    assert np.isfinite(fitted.decision_function(frame)).all()
