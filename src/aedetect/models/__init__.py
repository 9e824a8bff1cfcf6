"""Torch modules only: they know shapes, not data or anomalies."""

from aedetect.models.conv import POOLINGS, UPSAMPLINGS, ConvAutoencoder, mirror_decoder
from aedetect.models.dense import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    DenseAutoencoder,
    layer_activations,
)
from aedetect.models.noise import add_input_noise
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
    "add_input_noise",
    "layer_activations",
    "mirror_decoder",
]
