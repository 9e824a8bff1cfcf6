"""Torch modules only: they know shapes, not data or anomalies.

Each module returns its own extra loss term from ``forward_with_penalty(x)``;
:mod:`aedetect.models.factory` builds one from a saved :class:`ModelSpec`.
"""

from typing import TYPE_CHECKING

from aedetect._lazy import lazy_exports

if TYPE_CHECKING:
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

# Imported on first use, so that ``aedetect.models.presets`` (plain data) needs no torch.
__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            ("POOLINGS", "UPSAMPLINGS", "ConvAutoencoder", "mirror_decoder"), "aedetect.models.conv"
        ),
        **dict.fromkeys(
            ("ACTIVATIONS", "OUTPUT_ACTIVATIONS", "DenseAutoencoder", "layer_activations"),
            "aedetect.models.dense",
        ),
        **dict.fromkeys(("ModelSpec", "build"), "aedetect.models.factory"),
        **dict.fromkeys(("ConvVAE", "DenseVAE"), "aedetect.models.vae"),
    },
)
