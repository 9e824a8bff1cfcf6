"""Torch modules only: they know shapes, not data or anomalies."""

from aedetect.models.dense import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    DenseAutoencoder,
    layer_activations,
)

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "DenseAutoencoder", "layer_activations"]
