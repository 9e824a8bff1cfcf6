import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional

import aedetect.training
from aedetect import AutoencoderDetector
from aedetect.dense_step import DenseStep, dense_step
from aedetect.models import DenseAutoencoder
from aedetect.models.vae import DenseVAE
from aedetect.params import ACTIVATIONS
from aedetect.training import TrainConfig, train

CPU = torch.device("cpu")


def _data(n=150, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g) @ torch.randn(3, d, generator=g) + 0.1 * torch.randn(
        n, d, generator=g
    )


def _autograd_grads(module, x, target):
    module.zero_grad(set_to_none=True)
    functional.mse_loss(module(x), target).backward()
    return [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output_activation", ["identity", "sigmoid", "tanh", "relu"])
def test_gradients_are_autograds_bit_for_bit(activation, output_activation):
    torch.manual_seed(0)
    module = DenseAutoencoder(12, (9, 5, 2), activation, output_activation)
    x = _data(40)
    target = x + 0.05  # input and target may differ (noise)
    expected = _autograd_grads(module, x, target)
    step = dense_step(module, functional.mse_loss, CPU)
    assert isinstance(step, DenseStep)
    step.attach_grads()
    loss = step(x, target)
    with torch.no_grad():
        reference = functional.mse_loss(module(x), target)
    torch.testing.assert_close(loss, reference, rtol=1e-6, atol=0)
    for p, want in zip(module.parameters(), expected, strict=True):
        assert torch.equal(p.grad, want)


def test_per_layer_activations_and_a_shorter_batch_reuse_nothing_stale():
    torch.manual_seed(0)
    module = DenseAutoencoder(12, (8, 3), ["gelu", "elu", "leaky_relu"], "sigmoid")
    step = dense_step(module, functional.mse_loss, CPU)
    step.attach_grads()
    x = _data(70)
    for rows in (32, 6, 32, 17, 6):  # full batches, last batches, buffers rebuilt
        xb = x[:rows]
        expected = _autograd_grads(module, xb, xb)
        step.attach_grads()
        step(xb, xb)
        assert all(
            torch.equal(p.grad, g) for p, g in zip(module.parameters(), expected, strict=True)
        )


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_parts_of_a_batch_add_up_to_its_gradients_and_loss(activation):
    torch.manual_seed(0)
    module = DenseAutoencoder(12, (9, 5, 2), activation, "sigmoid")
    x = _data(41)
    target = x + 0.05
    whole = dense_step(module, functional.mse_loss, CPU)
    whole.attach_grads()
    loss = whole(x, target).clone()
    expected = whole.flat_grad.clone()
    parts, total = [dense_step(module, functional.mse_loss, CPU) for _ in range(2)], 0.0
    for step, rows in zip(parts, (slice(0, 21), slice(21, 41)), strict=True):
        total = total + step(x[rows], target[rows], elements=target.numel())
    torch.testing.assert_close(parts[0].flat_grad + parts[1].flat_grad, expected)
    torch.testing.assert_close(total, loss)
    assert torch.equal(whole.flat_grad, expected)  # the parts wrote buffers of their own


def _train_both(module, X, config, **kwargs):
    """Train a copy with the hand-written step and a copy through autograd, same seeds."""
    fast, slow = copy.deepcopy(module), copy.deepcopy(module)
    torch.manual_seed(1)  # the noise draws
    h_fast = train(fast, X, functional.mse_loss, config, generator=_gen(), **kwargs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aedetect.training, "dense_step", lambda *args: None)
        torch.manual_seed(1)
        h_slow = train(slow, X, functional.mse_loss, config, generator=_gen(), **kwargs)
    return fast, slow, h_fast, h_slow


def _gen():
    return torch.Generator().manual_seed(0)


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(epochs=6, batch_size=32, lr=1e-2, patience=None),
        TrainConfig(epochs=6, batch_size=64, lr=1e-2, weight_decay=1e-3, noise=0.1),
        TrainConfig(epochs=4, batch_size=16, lr=1e-2, optimizer="sgd", patience=None),
    ],
)
def test_training_gives_autograds_weights(config):
    torch.manual_seed(0)
    module = DenseAutoencoder(12, (8, 3), "tanh")
    X, X_val = _data(), _data(40, seed=1)
    kwargs = {"X_val": X_val} if config.patience is not None else {}
    fast, slow, h_fast, h_slow = _train_both(module, X, config, **kwargs)
    for a, b in zip(fast.parameters(), slow.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_fast.train_loss, h_slow.train_loss, rtol=1e-4)
    assert h_fast.val_loss == pytest.approx(h_slow.val_loss, rel=1e-4)


def test_the_training_loop_takes_the_hand_written_step(monkeypatch):
    made = []

    def spy(*args):
        made.append(dense_step(*args))
        return made[-1]

    monkeypatch.setattr(aedetect.training, "dense_step", spy)
    module = DenseAutoencoder(12, (6, 2))
    train(module, _data(), functional.mse_loss, TrainConfig(epochs=2, batch_size=32))
    assert isinstance(made[0], DenseStep)
    grad = module.decoder[0].weight.grad
    flat = made[0].flat_grad
    assert grad.data_ptr() >= flat.data_ptr()
    assert grad.data_ptr() < flat.data_ptr() + flat.numel() * flat.element_size()


def _fit_scores(monkeypatch, fast, **params):
    X = np.random.default_rng(0).normal(size=(300, 10)).astype(np.float32)
    X[:5] += 6
    made = []

    def step(*args):
        made.append(dense_step(*args) if fast else None)
        return made[-1]

    with monkeypatch.context() as mp:
        mp.setattr(aedetect.training, "dense_step", step)
        det = AutoencoderDetector(hidden=(8, 3), epochs=8, random_state=0, **params).fit(X)
    assert isinstance(made[0], DenseStep) == fast
    return det.decision_scores_


@pytest.mark.parametrize(
    "params",
    [
        {"batch_size": 64},
        {"batch_size": 32, "activation": "elu", "validation_fraction": 0.2, "patience": 2},
    ],
)
def test_a_fit_scores_as_before(monkeypatch, params):
    fast = _fit_scores(monkeypatch, True, **params)
    slow = _fit_scores(monkeypatch, False, **params)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-7)
    assert np.argsort(fast)[-5:].tolist() == np.argsort(slow)[-5:].tolist()


def test_dense_autoencoder_offers_its_chain_only_when_plain():
    assert len(DenseAutoencoder(12, (6, 2)).dense_layers()) == 4
    assert DenseAutoencoder(12, (6, 2), dropout=0.1).dense_layers() is None
    assert DenseAutoencoder(12, (6, 2), activity_l1=1e-3).dense_layers() is None

    class Changed(DenseAutoencoder):
        def forward(self, x):
            return super().forward(x) * 2

    assert Changed(12, (6, 2)).dense_layers() is None


def _chain(*layers):
    class Chain(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*layers)

        def forward(self, x):
            return self.body(x)

        def dense_layers(self):
            return list(zip(self.body[0::2], self.body[1::2], strict=True))

    return Chain()


def test_everything_else_keeps_autograd():
    plain = DenseAutoencoder(12, (6, 2))
    assert dense_step(plain, functional.mse_loss, CPU) is not None
    weighted = lambda out, x: ((out - x).square() @ torch.ones(12)).mean() / 12  # noqa: E731
    unsupported = [
        (DenseAutoencoder(12, (6, 2), dropout=0.2), functional.mse_loss),
        (DenseAutoencoder(12, (6, 2), activity_l1=1e-2), functional.mse_loss),
        (plain, weighted),
        (plain, functional.l1_loss),
        (DenseVAE(12, (6, 2)), functional.mse_loss),
        (nn.Sequential(nn.Linear(12, 12)), functional.mse_loss),
        (_chain(nn.Linear(12, 4), nn.ReLU(inplace=True)), functional.mse_loss),
        (_chain(nn.Linear(12, 4), nn.LeakyReLU(0.0)), functional.mse_loss),
        (_chain(nn.Linear(12, 4), nn.Softplus()), functional.mse_loss),
        (_chain(nn.Linear(12, 4, bias=False), nn.ReLU()), functional.mse_loss),
        (_chain(nn.Linear(12, 4).double(), nn.ReLU()), functional.mse_loss),
    ]
    for module, loss in unsupported:
        assert dense_step(module, loss, CPU) is None, module
    frozen = DenseAutoencoder(12, (6, 2))
    frozen.encoder[0].weight.requires_grad_(False)
    assert dense_step(frozen, functional.mse_loss, CPU) is None
    assert dense_step(plain, functional.mse_loss, torch.device("meta")) is None


def test_gradient_views_start_on_64_byte_boundaries():
    # MKL may round a product differently into a misaligned output (AMD EPYC): each
    # parameter's view of the flat gradient starts where a fresh tensor would.
    module = DenseAutoencoder(13, (7, 3), "relu", "identity")
    step = dense_step(module, functional.mse_loss, CPU)
    assert step.flat_grad.data_ptr() % 64 == 0
    for view in step.weight_grads + step.bias_grads:
        assert view.data_ptr() % 64 == 0
