"""Torch modules only: they know shapes, not data or anomalies.

Each module returns its own extra loss term from ``forward_with_penalty(x)``;
:mod:`aedetect.models.factory` builds one from a saved :class:`ModelSpec`.
"""

from aedetect.models.conv import POOLINGS, UPSAMPLINGS, ConvAutoencoder, mirror_decoder
from aedetect.models.dense import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    DenseAutoencoder,
    layer_activations,
)
from aedetect.models.factory import ModelSpec, build
from aedetect.models.vae import ConvVAE, DenseVAE

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "POOLINGS",
    "UPSAMPLINGS",
    "ConvAutoencoder",
    "ConvVAE",
    "DenseAutoencoder",
    "DenseVAE",
    "ModelSpec",
    "build",
    "layer_activations",
    "mirror_decoder",
]
