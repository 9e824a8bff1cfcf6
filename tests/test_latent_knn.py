"""The latent k-nearest-neighbour score and the ``logz`` ensemble."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aedetect import AutoencoderDetector
from aedetect.exceptions import ConfigError
from aedetect.latent import knn_distance
from aedetect.scales import logz

FAST = {"epochs": 5, "random_state": 0, "hidden": (16, 4)}


def _blobs(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)) + rng.integers(0, 2, size=(n, 1)) * 4.0


def test_knn_distance_leaves_a_row_out_of_its_own_neighbours() -> None:
    ref = torch.tensor([[0.0], [1.0], [3.0]])
    assert knn_distance(ref, ref, 1).tolist() == [0.0, 0.0, 0.0]
    own = knn_distance(ref, ref, 1, itself=torch.tensor([0, 1, -1]))
    assert own.tolist() == [1.0, 1.0, 0.0]
    # k larger than the reference: every other row, no error
    assert knn_distance(ref[:1], ref, 10).item() == pytest.approx(4.0 / 3.0)


def test_knn_distance_of_a_row_does_not_depend_on_the_batch() -> None:
    rng = np.random.default_rng(1)
    ref = torch.from_numpy(rng.normal(size=(300, 5)))
    q = torch.from_numpy(rng.normal(size=(2100, 5)))
    whole = knn_distance(q, ref, 5)
    alone = torch.cat([knn_distance(q[i : i + 1], ref, 5) for i in (0, 1500, 2099)])
    assert torch.equal(whole[[0, 1500, 2099]], alone)


def test_latent_knn_ranks_far_rows_high_and_survives_saving(tmp_path) -> None:
    X = _blobs()
    det = AutoencoderDetector(scoring="latent-knn", **FAST).fit(X)
    far = np.full((1, 6), 30.0)
    scores = det.decision_function(np.vstack([X[:50], far]))
    assert scores[-1] > scores[:-1].max()
    # training scores leave each row out of its own neighbours: all positive
    assert (det.decision_scores_ > 0).all()
    from aedetect.persistence import load_detector, save_detector

    save_detector(det, tmp_path / "m.aedetect")
    again = load_detector(tmp_path / "m.aedetect")
    np.testing.assert_array_equal(again.decision_function(X), det.decision_function(X))


def test_logz_ensemble_is_on_the_first_scores_scale() -> None:
    X = _blobs()
    det = AutoencoderDetector(
        scoring="ensemble",
        ensemble=("reconstruction", "latent-knn"),
        ensemble_method="logz",
        ensemble_weights=(1.0, 0.0),
        **FAST,
    ).fit(X)
    # with all the weight on reconstruction the ensemble IS the reconstruction error
    recon = det.all_scores(X)["reconstruction"]
    np.testing.assert_allclose(det.decision_function(X), recon, rtol=1e-9)
    # the default rule (a fence) applies to it, not the 0.9 quantile
    assert "IQR" in det.threshold_rule_


def test_logz_is_a_standardised_log() -> None:
    train = np.sort(np.exp(np.random.default_rng(0).normal(2.0, 0.5, size=5000)))
    z = logz(train, np.exp(np.array([2.0, 2.5])))
    np.testing.assert_allclose(z, [0.0, 1.0], atol=0.05)


def test_ensemble_weights_need_one_weight_per_score() -> None:
    det = AutoencoderDetector(
        scoring="ensemble", ensemble=("reconstruction", "latent-knn"), ensemble_weights=(1.0,)
    )
    with pytest.raises(ConfigError, match="ensemble_weights needs one weight per ensemble score"):
        det.fit(_blobs(50))
    with pytest.raises(ConfigError, match="ensemble_weights"):
        AutoencoderDetector(ensemble_weights=(-1.0, 2.0)).fit(_blobs(50))


def test_codes_are_kept_only_when_latent_knn_is_used() -> None:
    X = _blobs(100)
    plain = AutoencoderDetector(**FAST).fit(X)
    assert "latent.reference" not in plain.scorer_.get_state()
    assert "latent-knn" not in plain.all_scores(X).columns


def test_reference_rows_sample_and_index_back() -> None:
    from aedetect.latent import reference_rows

    rows, itself = reference_rows(10, 4, torch.Generator().manual_seed(0))
    assert rows is not None and len(rows) == 4 and (itself >= 0).sum() == 4
    assert torch.equal(itself[rows], torch.arange(4))
    assert reference_rows(3, 4, torch.Generator())[0] is None
