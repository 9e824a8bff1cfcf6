"""Torch modules only: they know shapes, not data or anomalies."""

from aedetect.models.conv import POOLINGS, UPSAMPLINGS, ConvAutoencoder, mirror_decoder
from aedetect.models.dense import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    DenseAutoencoder,
    layer_activations,
)

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "POOLINGS",
    "UPSAMPLINGS",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "layer_activations",
    "mirror_decoder",
]
