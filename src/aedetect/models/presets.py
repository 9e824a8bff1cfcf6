"""Named parameter sets that reproduce the reference systems' networks.

A preset is plain data: estimator parameters. Use
``AutoencoderDetector.from_preset(name, **overrides)`` or ``--preset NAME``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "preset_params"]

_SEQUENCE = {
    # Reference C (R. Qiu 2020, after A. Agmon 2020): 8 -> 8 tanh (L1 activity 1e-4)
    # -> 4 relu -> 8 relu -> 8 tanh; Adam, MSE, batch 128; characters as integer
    # codes min-max scaled per position.
    "hidden": (8, 4),
    "activation": ("tanh", "relu", "relu"),
    "output_activation": "tanh",
    "activity_l1": 1e-4,
    "sequence_encoding": "ordinal",
    "scaling": "minmax",
    "batch_size": 128,
    "lr": 1e-3,
    "epochs": 100,
    "trim": 0.0,
    "refit": 0,
}

# Image presets train on every row for a fixed number of epochs, as the references
# did (no hold-out, no early stopping), and feed the network the raw scaled pixels
# (no clipping).
_IMAGE = {
    "validation_fraction": 0.0,
    "clip": None,
    "optimizer": "adam",
    "lr": 1e-3,
    "loss": "mse",
    "trim": 0.0,
    "refit": 0,
}

# Reference A (MNIST / CIFAR-10 conv autoencoder, three scoring methods): 3x3 kernels,
# padding 1; encoder conv 1->32 relu, maxpool 2, conv 32->16 relu, maxpool 2, conv 16->8
# relu, conv 8->8 relu (latent 8x7x7); decoder conv 8->8 relu, conv 8->8 relu, upsample
# x2, conv 8->8 relu, upsample x2, conv 8->1 with no output activation. Pixels to
# [-1, 1]; MSE, Adam 1e-3, batch 100; 5 epochs on MNIST.
_CONV_A = {
    **_IMAGE,
    "model": "conv",
    "conv_encoder": (32, "pool", 16, "pool", 8, 8),
    "conv_decoder": (8, 8, "up", 8, "up"),
    "kernel_size": 3,
    "activation": "relu",
    "output_activation": "identity",
    "pooling": "max",
    "upsampling": "nearest",
    "scaling": "symmetric",
    "batch_size": 100,
    "epochs": 5,
}
# Reference B (three Keras models, MNIST normal vs Fashion-MNIST abnormal): pixels / 255,
# sigmoid outputs, batch 64, 10 epochs, Adam (Keras default lr 1e-3). B offers MSE and
# binary cross-entropy; these use cross-entropy because with MSE the conv model's
# sigmoid output collapses to all-black within an epoch under PyTorch's initialisation.
_KERAS_B = {
    **_IMAGE,
    "loss": "bce",
    "activation": "relu",
    "output_activation": "sigmoid",
    "scaling": "unit",
    "batch_size": 64,
    "epochs": 10,
}

PRESETS: dict[str, dict[str, Any]] = {
    "sequence-ae": dict(_SEQUENCE),
    # The same network on per-position one-hot input (the better-founded encoding).
    "sequence-ae-onehot": {**_SEQUENCE, "sequence_encoding": "onehot", "scaling": "standard"},
    # The seed article's 2-unit latent, for a scatter of the codes. Its latent layer
    # uses tanh instead of relu: a 2-unit relu layer often dies or collapses onto an
    # axis, which defeats the picture.
    "sequence-ae-2d": {
        **_SEQUENCE,
        "hidden": (8, 2),
        "activation": ("tanh", "tanh", "relu"),
    },
    # A, MNIST: 28x28x1 -> 8x7x7 latent.
    "conv-mnist": dict(_CONV_A),
    # A, CIFAR-10: channels 3 -> 64 -> 32 -> 16 (latent 16x8x8), 20 epochs on one class.
    "conv-cifar": {
        **_CONV_A,
        "conv_encoder": (64, "pool", 32, "pool", 16, 16),
        "conv_decoder": (16, 16, "up", 16, "up"),
        "epochs": 20,
    },
    # B `autoencoder`: 784 -> 64 relu -> 784 sigmoid.
    "dense-64": {**_KERAS_B, "hidden": (64,)},
    # B `deep_autoencoder`: 784 -> 128 relu -> 64 relu -> 128 relu -> 784 sigmoid.
    "deep-dense": {**_KERAS_B, "hidden": (128, 64)},
    # B `convolutional_autoencoder`: conv32 relu, maxpool, conv16 relu, maxpool, conv8 relu
    # (7x7x8); upsample, conv16 relu, upsample, conv32 relu, conv1 sigmoid; 3x3 'same'.
    "conv-keras": {
        **_KERAS_B,
        "model": "conv",
        "conv_encoder": (32, "pool", 16, "pool", 8),
        "conv_decoder": ("up", 16, "up", 32),
        "kernel_size": 3,
        "pooling": "max",
        "upsampling": "nearest",
    },
    # D (UCI digits, worst-reconstructed item): 64-32-16-4-16-32-64, tanh hidden layers,
    # pixels / 16 (the data's 0..16 range onto [0, 1]). The output activation is not
    # public; sigmoid is the same author's related demo's (pixels / 16, sigmoid output).
    "digits-deep": {
        **_IMAGE,
        "hidden": (32, 16, 4),
        "activation": "tanh",
        "output_activation": "sigmoid",
        "scaling": "unit",
        "batch_size": 10,
        "epochs": 100,
    },
    # E (MNIST 784-100-50-100-784): pixels / 255, tanh on every hidden layer and on the
    # output; Adam, MSE, batch 40. The epoch count is not public: 20.
    "mnist-100-50": {
        **_IMAGE,
        "hidden": (100, 50),
        "activation": "tanh",
        "output_activation": "tanh",
        "scaling": "unit",
        "batch_size": 40,
        "epochs": 20,
    },
}


def preset_params(name: str) -> dict[str, Any]:
    """Parameters of preset ``name``; raises ``KeyError`` naming the known ones.

    A preset is one network, as the system it reproduces (``members=1``).
    """
    try:
        return {"members": 1, **PRESETS[name]}
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
