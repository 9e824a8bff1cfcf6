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
}


def preset_params(name: str) -> dict[str, Any]:
    """Parameters of preset ``name``; raises ``KeyError`` naming the known ones."""
    try:
        return dict(PRESETS[name])
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
