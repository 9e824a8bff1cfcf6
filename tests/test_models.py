import pytest
import torch
from torch import nn

from aedetect import AutoencoderDetector, ConfigError
from aedetect.models import DenseAutoencoder
from aedetect.models.presets import PRESETS


def _shape(module: nn.Module) -> list[tuple[str, int, int] | str]:
    out: list[tuple[str, int, int] | str] = []
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            out.append(("linear", layer.in_features, layer.out_features))
        elif type(layer).__name__ in ("ReLU", "Tanh", "Sigmoid", "Identity"):
            out.append(type(layer).__name__.lower())
    return out


def test_dense_autoencoder_mirrors_the_encoder():
    model = DenseAutoencoder(10, (6, 3), activation="relu", output_activation="sigmoid")
    assert _shape(model) == [
        ("linear", 10, 6), "relu", ("linear", 6, 3), "relu",
        ("linear", 3, 6), "relu", ("linear", 6, 10), "sigmoid",
    ]  # fmt: skip


def test_sequence_ae_preset_is_reference_c():
    # 8 -> 8 tanh (L1 activity 1e-4) -> 4 relu -> 8 relu -> 8 tanh
    det = AutoencoderDetector.from_preset("sequence-ae")
    model = det._build_module(8)
    assert _shape(model) == [
        ("linear", 8, 8), "tanh", ("linear", 8, 4), "relu",
        ("linear", 4, 8), "relu", ("linear", 8, 8), "tanh",
    ]  # fmt: skip
    assert model.activity_l1 == 1e-4
    assert det.sequence_encoding == "ordinal" and det.batch_size == 128


def test_activity_penalty_changes_training():
    X = torch.randn(64, 8)
    model = DenseAutoencoder(8, (8, 4), activity_l1=1e-2).train()
    model(X)
    assert model.penalty().item() > 0
    assert DenseAutoencoder(8, (8, 4)).train().penalty().item() == 0


def test_preset_overrides_and_unknown_preset():
    det = AutoencoderDetector.from_preset("sequence-ae-2d", epochs=3)
    assert det.hidden == (8, 2) and det.epochs == 3
    with pytest.raises(ConfigError, match="unknown preset 'nope'; known: sequence-ae"):
        AutoencoderDetector.from_preset("nope")
    assert set(PRESETS) >= {"sequence-ae", "sequence-ae-onehot", "sequence-ae-2d"}


def test_wrong_number_of_layer_activations():
    with pytest.raises(ConfigError, match="activation needs one name or 3"):
        AutoencoderDetector(hidden=(8, 4), activation=("tanh", "relu")).fit([[1.0], [2.0]])
