"""Every image preset builds the reference network exactly (layer by layer)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aedetect import AutoencoderDetector
from aedetect.models.factory import build as build_module
from aedetect.models.factory import spec_from_params
from aedetect.models.presets import PRESETS


def build(name: str, shape=(1, 28, 28)) -> tuple[AutoencoderDetector, nn.Module]:
    det = AutoencoderDetector.from_preset(name)
    det.check_params()
    n = shape[0] * shape[1] * shape[2]
    return det, build_module(spec_from_params(det.get_params(), n, shape))


def conv_layers(module: nn.Module) -> list[tuple]:
    """(kind, in, out, kernel) for convs, ('pool',) / ('up',) / activation names, in order."""
    out = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            out.append(("conv", m.in_channels, m.out_channels, m.kernel_size, m.padding))
        elif isinstance(m, nn.MaxPool2d):
            out.append(("pool",))
        elif isinstance(m, nn.Upsample):
            out.append(("up",))
        elif isinstance(m, (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity)):
            out.append(type(m).__name__)
    return out


def dense_layers(module: nn.Module) -> list:
    return [
        (m.in_features, m.out_features) if isinstance(m, nn.Linear) else type(m).__name__
        for m in module.modules()
        if isinstance(m, (nn.Linear, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity))
    ]


def c(i, o):
    return ("conv", i, o, (3, 3), (1, 1))


def test_conv_mnist_is_reference_a():
    det, m = build("conv-mnist")
    assert conv_layers(m) == [
        c(1, 32),
        "ReLU",
        ("pool",),
        c(32, 16),
        "ReLU",
        ("pool",),
        c(16, 8),
        "ReLU",
        c(8, 8),
        "ReLU",
        c(8, 8),
        "ReLU",
        c(8, 8),
        "ReLU",
        ("up",),
        c(8, 8),
        "ReLU",
        ("up",),
        c(8, 1),
        "Identity",
    ]
    assert m.latent_shape == (8, 7, 7) and m.encode(torch.zeros(2, 784)).shape == (2, 392)
    assert (det.scaling, det.batch_size, det.epochs, det.lr, det.loss) == (
        "symmetric",
        100,
        5,
        1e-3,
        "mse",
    )


def test_conv_cifar_is_reference_a():
    _, m = build("conv-cifar", (3, 32, 32))
    convs = [layer[1:3] for layer in conv_layers(m) if layer[0] == "conv"]
    assert convs == [(3, 64), (64, 32), (32, 16), (16, 16), (16, 16), (16, 16), (16, 16), (16, 3)]
    assert m.latent_shape == (16, 8, 8)
    assert AutoencoderDetector.from_preset("conv-cifar").epochs == 20


def test_conv_keras_is_reference_b():
    det, m = build("conv-keras")
    assert conv_layers(m) == [
        c(1, 32),
        "ReLU",
        ("pool",),
        c(32, 16),
        "ReLU",
        ("pool",),
        c(16, 8),
        "ReLU",
        ("up",),
        c(8, 16),
        "ReLU",
        ("up",),
        c(16, 32),
        "ReLU",
        c(32, 1),
        "Sigmoid",
    ]
    assert m.latent_shape == (8, 7, 7)
    assert (det.scaling, det.batch_size, det.epochs) == ("unit", 64, 10)


@pytest.mark.parametrize(
    ("name", "layers"),
    [
        ("dense-64", [(784, 64), "ReLU", (64, 784), "Sigmoid"]),
        (
            "deep-dense",
            [(784, 128), "ReLU", (128, 64), "ReLU", (64, 128), "ReLU", (128, 784), "Sigmoid"],
        ),
        (
            "mnist-100-50",
            [(784, 100), "Tanh", (100, 50), "Tanh", (50, 100), "Tanh", (100, 784), "Tanh"],
        ),
    ],
)
def test_dense_mnist_presets(name, layers):
    det, m = build(name)
    assert dense_layers(m) == layers
    assert det.scaling == "unit" and det.clip is None and det.validation_fraction == 0.0


def test_digits_deep_is_reference_d():
    det, m = build("digits-deep", (1, 8, 8))
    assert dense_layers(m) == [
        (64, 32),
        "Tanh",
        (32, 16),
        "Tanh",
        (16, 4),
        "Tanh",
        (4, 16),
        "Tanh",
        (16, 32),
        "Tanh",
        (32, 64),
        "Sigmoid",
    ]
    assert det.scaling == "unit"


def test_every_preset_is_documented_and_tested():
    image = {
        "conv-mnist",
        "conv-cifar",
        "dense-64",
        "deep-dense",
        "conv-keras",
        "digits-deep",
        "mnist-100-50",
    }
    assert image <= set(PRESETS)
