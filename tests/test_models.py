import pytest
import torch
from torch import nn

from aedetect import AutoencoderDetector, ConfigError
from aedetect.models import DenseAutoencoder
from aedetect.models.factory import ModelSpec, build, spec_from_params
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
    model = build(spec_from_params(det.get_params(), 8, None))
    assert _shape(model) == [
        ("linear", 8, 8), "tanh", ("linear", 8, 4), "relu",
        ("linear", 4, 8), "relu", ("linear", 8, 8), "tanh",
    ]  # fmt: skip
    assert model.activity_l1 == 1e-4
    assert det.sequence_encoding == "ordinal" and det.batch_size == 128


def test_activity_penalty_changes_training():
    X = torch.randn(64, 8)
    model = DenseAutoencoder(8, (8, 4), activity_l1=1e-2).train()
    out, penalty = model.forward_with_penalty(X)
    assert penalty.item() > 0
    assert torch.equal(out, model(X))  # the same network, no state kept between passes
    assert DenseAutoencoder(8, (8, 4)).train().forward_with_penalty(X)[1] is None
    assert model.eval().forward_with_penalty(X)[1] is None


def test_preset_overrides_and_unknown_preset():
    det = AutoencoderDetector.from_preset("sequence-ae-2d", epochs=3)
    assert det.hidden == (8, 2) and det.epochs == 3
    with pytest.raises(ConfigError, match="unknown preset 'nope'; known: sequence-ae"):
        AutoencoderDetector.from_preset("nope")
    assert set(PRESETS) >= {"sequence-ae", "sequence-ae-onehot", "sequence-ae-2d"}


def test_wrong_number_of_layer_activations():
    with pytest.raises(ConfigError, match="activation needs one name or 3"):
        AutoencoderDetector(hidden=(8, 4), activation=("tanh", "relu")).fit([[1.0], [2.0]])


def test_model_spec_round_trips_through_json():
    import json

    spec = ModelSpec(kind="conv", n_features=64, image_shape=(1, 8, 8), conv_encoder=(4, "pool"))
    again = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    torch.manual_seed(0)
    a = build(spec)
    torch.manual_seed(0)
    b = build(again)
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


@pytest.mark.parametrize(
    ("model", "architecture", "kind"),
    [("ae", "dense", "ae"), ("ae", "conv", "conv"), ("vae", "dense", "vae")],
)
def test_architecture_is_deprecated_and_mapped(model, architecture, kind):
    params = AutoencoderDetector(model=model, architecture=architecture).get_params()
    with pytest.warns(FutureWarning, match="architecture is deprecated"):
        assert spec_from_params(params, 64, (1, 8, 8)).kind == kind


@pytest.mark.parametrize(("model", "architecture"), [("vae", "conv"), ("conv", "dense")])
def test_contradictory_model_and_architecture_are_refused(model, architecture):
    det = AutoencoderDetector(model=model, architecture=architecture)
    with pytest.raises(ConfigError, match=f"model='{model}' contradicts architecture"):
        det.check_params()


def test_model_conv_needs_no_architecture():
    import warnings

    import numpy as np

    images = np.random.default_rng(0).uniform(size=(20, 8, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det = AutoencoderDetector(model="conv", conv_encoder=(2, "pool"), epochs=1).fit(images)
    assert det.spec_.kind == "conv" and det.spec_.image_shape == (1, 8, 8)
