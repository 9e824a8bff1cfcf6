"""Scores beyond reconstruction: latent k-means, layerwise, ensemble (issue 5)."""

import re

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from aedetect import AutoencoderDetector, ConfigError, load, save
from aedetect.centroids import kmeans, nearest_distance, whitening
from aedetect.models import DenseAutoencoder
from aedetect.scoring import layer_outputs

D = 20
CENTRES = np.array([[-2, -2], [2, -2], [-2, 2], [2, 2], [0, 0]], dtype=float)


@pytest.fixture(scope="module")
def plane():
    """Normal rows: five tight clusters on a 2-D plane inside 20 dimensions.

    ``far``: rows on the plane but between the clusters (they reconstruct well,
    their codes are far from every cluster). ``off``: rows at the clusters, pushed
    off the plane (their codes are normal, their reconstruction is not).
    """
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(D, 2)))[0] * 3

    def on_plane(z):
        return z @ basis.T + rng.normal(scale=0.02, size=(len(z), D))

    def normal(n):
        return on_plane(CENTRES[rng.integers(0, 5, n)] + rng.normal(scale=0.15, size=(n, 2)))

    between = np.array([[0, 2], [2, 0], [0, -2], [-2, 0]], dtype=float)
    far = on_plane(between[rng.integers(0, 4, 60)] + rng.normal(scale=0.15, size=(60, 2)))
    off_plane = np.eye(D) - basis @ basis.T / 9
    off = normal(60) + rng.normal(size=(60, D)) @ off_plane * 0.25
    return normal(600), normal(200), far, off


@pytest.fixture(scope="module")
def linear_det(plane):
    # A linear autoencoder: its error sees only the distance from the plane.
    train = plane[0]
    return AutoencoderDetector(hidden=(8, 2), activation="identity", epochs=60, random_state=0).fit(
        train
    )


def _aurocs(det, normal, anomalies):
    X = np.vstack([normal, anomalies])
    y = np.r_[np.zeros(len(normal)), np.ones(len(anomalies))]
    return {k: roc_auc_score(y, v) for k, v in det.all_scores(X).items()}


def test_latent_kmeans_finds_what_reconstruction_misses(plane, linear_det):
    auc = _aurocs(linear_det, plane[1], plane[2])
    assert auc["latent-kmeans"] > 0.95
    assert auc["reconstruction"] < 0.75
    assert auc["layerwise"] > 0.95


def test_reconstruction_finds_what_latent_kmeans_misses(plane, linear_det):
    auc = _aurocs(linear_det, plane[1], plane[3])
    assert auc["reconstruction"] > 0.95
    assert auc["latent-kmeans"] < 0.8
    # the ensemble keeps the better part's signal in both problems
    assert auc["ensemble"] > 0.9
    assert _aurocs(linear_det, plane[1], plane[2])["ensemble"] > 0.9


def test_kmeans_recovers_separated_clusters():
    gen = torch.Generator().manual_seed(0)
    X = torch.from_numpy(CENTRES[np.repeat(np.arange(5), 40)] * 5) + torch.randn(200, 2) * 0.1
    centroids = kmeans(X.double(), 5, gen)
    found = sorted(map(tuple, np.round(centroids.numpy() / 5)))
    assert found == sorted(map(tuple, CENTRES))
    # fewer distinct rows than k: as many centroids as distinct rows
    assert len(kmeans(torch.ones(10, 3, dtype=torch.float64), 5, gen)) == 1
    # more clusters than rows: at most one centroid per two rows, so distances are not all 0
    assert len(kmeans(torch.randn(60, 3, generator=gen, dtype=torch.float64), 1000, gen)) == 30


def test_mahalanobis_uses_the_cluster_shape():
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.normal(size=(2000, 2)) * [3.0, 0.3])
    centroid = torch.zeros(1, 2, dtype=torch.float64)
    probe = torch.tensor([[1.5, 0.0], [0.0, 0.6]], dtype=torch.float64)
    euclid = nearest_distance(probe, centroid)
    mahal = nearest_distance(probe, centroid, whitening(X, centroid))
    assert euclid[0] > euclid[1] and mahal[0] < mahal[1]
    np.testing.assert_allclose(mahal.numpy(), [0.5, 2.0], rtol=0.1)


def test_layer_outputs_follow_the_encoder():
    module = DenseAutoencoder(10, (6, 4, 2), dropout=0.2).eval()
    widths = [h.shape[1] for h in layer_outputs(module, torch.randn(3, 10))]
    assert widths == [6, 4, 2]


@pytest.fixture(scope="module")
def digits_det(digits_one_class):
    train = digits_one_class[0]
    return AutoencoderDetector(
        hidden=(32, 8),
        epochs=10,
        scoring="layerwise",
        distance="mahalanobis",
        contamination=0.1,
        random_state=0,
    ).fit(train)


def test_scores_are_per_item_not_per_batch(digits_det, digits_one_class):
    X = digits_one_class[1]
    every = digits_det.all_scores(X)
    alone = digits_det.all_scores(X[7:8])
    for name in every:
        # equal up to float32 rounding of the network's batched matmuls
        np.testing.assert_allclose(alone[name].iloc[0], every[name].iloc[7], rtol=1e-5)


def test_threshold_is_fitted_on_the_chosen_score(digits_det, digits_one_class):
    train = digits_one_class[0]
    chosen = digits_det.all_scores(train)["layerwise"].to_numpy()
    np.testing.assert_allclose(digits_det.decision_scores_, chosen, rtol=1e-6)
    assert np.mean(digits_det.decision_scores_ > digits_det.threshold_) == pytest.approx(
        0.1, abs=0.01
    )
    np.testing.assert_allclose(digits_det.decision_function(train), chosen, rtol=1e-6)


def test_every_score_round_trips_bit_identically(digits_det, digits_one_class, tmp_path):
    X = digits_one_class[1]
    save(digits_det, tmp_path / "m.aedetect")
    loaded = load(tmp_path / "m.aedetect")
    assert loaded.get_params() == digits_det.get_params()
    before, after = digits_det.all_scores(X), loaded.all_scores(X)
    assert list(after.columns) == ["reconstruction", "latent-kmeans", "layerwise", "ensemble"]
    for name in before:
        assert np.array_equal(before[name].to_numpy(), after[name].to_numpy()), name
    assert np.array_equal(loaded.decision_function(X), digits_det.decision_function(X))
    for key, value in digits_det.scorer_.get_state().items():
        assert np.array_equal(loaded.scorer_.get_state()[key], value), key


def test_options_change_the_scores_as_documented(digits_one_class):
    train, test = digits_one_class[0], digits_one_class[1]
    kw = dict(hidden=(16, 4), epochs=3, random_state=0)
    mean = AutoencoderDetector(**kw).fit(train)
    total = AutoencoderDetector(reduction="sum", **kw).fit(train)
    np.testing.assert_allclose(
        total.decision_function(test), mean.decision_function(test) * 64, rtol=1e-5
    )
    lw = AutoencoderDetector(scoring="layerwise", layer_combine="mean", **kw).fit(train)
    assert not np.allclose(lw.decision_function(test), mean.all_scores(test)["layerwise"])
    ens = AutoencoderDetector(scoring="ensemble", ensemble_method="rank", **kw).fit(train)
    ranks = ens.decision_scores_
    # ranks of training rows among themselves lie in [0, 1]; test rows beyond them stay ordered
    assert ranks.min() >= 0 and ranks.max() <= 1
    assert ens.decision_function(test).max() > 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"scoring": "iforest"}, "scoring must be one of reconstruction, latent-kmeans"),
        ({"n_clusters": 0}, "n_clusters must be an integer >= 1, got 0"),
        ({"distance": "cosine"}, "distance must be one of euclidean, mahalanobis, got 'cosine'"),
        ({"ensemble": ("ensemble",)}, "ensemble must be a non-empty tuple of reconstruction"),
        (
            {"scoring": "reconstruction-probability"},
            "scoring 'reconstruction-probability' needs model='vae' or 'conv-vae', got 'ae'",
        ),
        ({"model": "gan"}, "model must be one of ae, conv, vae, conv-vae, conv1d, lstm, got 'gan'"),
        ({"noise": -1.0}, "noise must be in [0.0, inf), got -1.0"),
    ],
)
def test_bad_score_parameters_are_named(params, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        AutoencoderDetector(**params).fit(np.zeros((10, 3)))


def test_conv_vae_needs_images():
    from aedetect import DataError

    with pytest.raises(DataError, match=re.escape("model='conv-vae' needs images")):
        AutoencoderDetector(model="conv-vae").fit(np.zeros((10, 3)))


def test_model_file_without_scorer_state_still_scores_reconstruction(tmp_path):
    from hostile.crafting import resealed

    X = np.random.default_rng(0).normal(size=(60, 4))
    det = AutoencoderDetector(hidden=(4, 2), epochs=2, random_state=0).fit(X)
    save(det, tmp_path / "new.aedetect")

    def drop_scorer(tensors):
        for key in [k for k in tensors if k.startswith("scorer.")]:
            del tensors[key]

    resealed(tmp_path / "new.aedetect", tmp_path / "old.aedetect", tensor_edit=drop_scorer)
    old = load(tmp_path / "old.aedetect")
    assert np.array_equal(old.decision_function(X), det.decision_function(X))
    assert list(old.all_scores(X).columns) == ["reconstruction"]


def test_nearest_distances_are_exact_across_blocks():
    # 700 rows of 3,000 values: several blocks of the exact distance, each row as alone.
    X = torch.randn(700, 3000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    centroids = X[:4] + 0.5
    whole = torch.stack([(X - c).square().sum(dim=1) for c in centroids], dim=1)
    assert torch.equal(nearest_distance(X, centroids), whole.min(dim=1).values.sqrt())
    assert torch.equal(nearest_distance(X[5:6], centroids), nearest_distance(X, centroids)[5:6])


def test_whitening_is_fitted_and_saved_only_for_the_mahalanobis_distance(tmp_path):
    from aedetect.exceptions import ModelFileError
    from aedetect.modelfile import raw_tensors, read_file
    from hostile.crafting import resealed

    X = np.random.default_rng(0).normal(size=(200, 6))
    kw = dict(hidden=(4, 2), epochs=2, random_state=0, scoring="layerwise")
    euclid = AutoencoderDetector(**kw).fit(X)
    maha = AutoencoderDetector(distance="mahalanobis", **kw).fit(X)
    assert not [k for k in euclid.scorer_.state_ if "whiten" in k or "mahalanobis" in k]
    layers = range(int(maha.scorer_.state_["n_layers"][0]))
    assert {f"layer{i}.{k}" for i in layers for k in ("whiten", "mahalanobis")} <= set(
        maha.scorer_.state_
    )
    for i in layers:  # the Euclidean state does not depend on the distance chosen
        for key in (f"layer{i}.centroids", f"layer{i}.euclidean"):
            assert np.array_equal(euclid.scorer_.state_[key], maha.scorer_.state_[key])
    save(euclid, tmp_path / "e.aedetect")
    save(maha, tmp_path / "m.aedetect")
    stored = raw_tensors(tmp_path / "m.aedetect", read_file(tmp_path / "m.aedetect")[0])
    mahalanobis_state = {
        k: v[:3] for k, v in stored.items() if k.endswith((".whiten", ".mahalanobis"))
    }
    assert len(mahalanobis_state) == 2 * len(layers)

    # A file written before Euclidean models left it out holds whitening: still read.
    old = resealed(
        tmp_path / "e.aedetect",
        tmp_path / "old.aedetect",
        tensor_edit=lambda tensors: tensors.update(mahalanobis_state),
    )
    assert np.array_equal(load(old).decision_function(X), euclid.decision_function(X))

    # A Mahalanobis model without its whitening is a damaged file, named.
    bad = resealed(
        tmp_path / "m.aedetect",
        tmp_path / "bad.aedetect",
        tensor_edit=lambda tensors: tensors.pop("scorer.layer0.whiten"),
    )
    with pytest.raises(ModelFileError, match=r"scorer\.layer0\.whiten: needs \d+x\d+"):
        load(bad)
