"""Variational autoencoders, KL term and annealing, denoising (issue 5)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from aedetect import AutoencoderDetector, load, save
from aedetect.models import ConvVAE, DenseVAE
from aedetect.training import TrainConfig, train

FAST = dict(hidden=(32, 8), epochs=15, scaling="pooled", random_state=0)


def _kl(det, X):
    with torch.no_grad():
        Xt = torch.from_numpy(det.encoder_.transform(X))
        mu, logvar = det.module_.encode_distribution(Xt)
        return float(det.module_.kl_divergence(mu, logvar).mean())


@pytest.fixture(scope="module")
def vae(digits_one_class):
    train_rows = digits_one_class[0]
    return AutoencoderDetector(model="vae", scoring="reconstruction-probability", **FAST).fit(
        train_rows
    )


@pytest.fixture(scope="module")
def plain_vae(digits_one_class):
    return AutoencoderDetector(model="vae", kl_weight=0.0, **FAST).fit(digits_one_class[0])


def test_kl_term_is_real_and_changes_the_model(vae, plain_vae, digits_one_class):
    train_rows, test = digits_one_class[0], digits_one_class[1]
    kl_on, kl_off = _kl(vae, train_rows), _kl(plain_vae, train_rows)
    assert kl_on > 0.5  # a real, non-zero divergence from the prior ...
    assert kl_on < 0.5 * kl_off  # ... that the KL weight pulls towards it
    on = vae.all_scores(test)["reconstruction"].to_numpy()
    off = plain_vae.all_scores(test)["reconstruction"].to_numpy()
    assert not np.allclose(on, off, rtol=1e-3)


def test_reconstruction_probability_ranks_other_digits_higher(vae, digits_one_class):
    _, test, y = digits_one_class
    assert roc_auc_score(y, vae.decision_function(test)) > 0.9
    # seeded draws: the same item gets the same score every time and alone
    again = vae.decision_function(test[:4])
    np.testing.assert_allclose(again, vae.decision_function(test)[:4], rtol=1e-5)


def test_vae_round_trips(vae, digits_one_class, tmp_path):
    test = digits_one_class[1]
    save(vae, tmp_path / "vae.aedetect")
    loaded = load(tmp_path / "vae.aedetect")
    assert isinstance(loaded.module_, DenseVAE)
    assert np.array_equal(loaded.decision_function(test), vae.decision_function(test))
    before, after = vae.all_scores(test), loaded.all_scores(test)
    assert "reconstruction-probability" in after.columns
    for name in before:
        assert np.array_equal(before[name].to_numpy(), after[name].to_numpy()), name


def test_annealing_and_noise_change_training(digits_one_class):
    train_rows = digits_one_class[0]
    kw = {**FAST, "epochs": 4}
    base = AutoencoderDetector(model="vae", **kw).fit(train_rows)
    annealed = AutoencoderDetector(model="vae", kl_anneal=4, **kw).fit(train_rows)
    assert base.history_.train_loss[0] > annealed.history_.train_loss[0]  # less KL early
    assert not hasattr(annealed.module_, "kl_scale")  # the schedule lives in the loop
    clean = AutoencoderDetector(**kw).fit(train_rows)
    noisy = AutoencoderDetector(noise=0.5, **kw).fit(train_rows)
    assert not np.allclose(clean.decision_scores_, noisy.decision_scores_)
    # the noise hook is gone after training: scoring is deterministic
    assert not noisy.module_._forward_pre_hooks
    np.testing.assert_array_equal(noisy.decision_function(train_rows), noisy.decision_scores_)


def test_dense_vae_samples_in_training_only():
    module = DenseVAE(10, (6, 2))
    x = torch.randn(5, 10)
    module.train()
    assert not torch.equal(module(x), module(x))
    assert float(module.forward_with_penalty(x)[1].detach()) > 0
    module.eval()
    assert module.forward_with_penalty(x)[1] is None
    assert torch.equal(module(x), module(x))
    assert [h.shape[1] for h in module.layer_outputs(x)] == [6, 2]


def test_conv_vae_learns_8x8_digits():
    X = torch.from_numpy(load_digits().data[:400].astype(np.float32) / 16)
    module = ConvVAE((1, 8, 8), channels=(8, 4), latent=4)
    assert module(X[:3]).shape == (3, 64)
    torch.manual_seed(0)
    config = TrainConfig(epochs=8, batch_size=64, lr=3e-3, patience=None)
    hist = train(module, X, torch.nn.functional.mse_loss, config)
    assert hist.train_loss[-1] < 0.7 * hist.train_loss[0]
    shapes = [tuple(h.shape[1:]) for h in module.layer_outputs(X[:2])]
    assert shapes == [(8, 4, 4), (4, 2, 2), (4,)]
    # odd sizes come back at their own size
    assert ConvVAE((3, 7, 9), (4,), 2)(torch.randn(2, 189)).shape == (2, 189)


def test_conv_vae_in_the_detector(digits_one_class):
    det = AutoencoderDetector(
        model="conv-vae", hidden=(8, 4, 4), epochs=3, scaling="pooled", random_state=0
    )
    det.image_shape = (1, 8, 8)  # the images work adds this as a parameter
    det.fit(digits_one_class[0])
    assert isinstance(det.module_, ConvVAE)
    assert set(det.all_scores(digits_one_class[1][:5]).columns) >= {"layerwise", "ensemble"}
