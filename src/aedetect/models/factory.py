"""One model choice, a frozen spec of every shape a module needs, and ``build(spec)``.

``model`` picks the network: ``ae`` (dense autoencoder), ``conv`` (convolutional
autoencoder), ``vae`` (dense variational) or ``conv-vae`` (convolutional
variational); over windows of a series also ``conv1d`` (1-D convolutional) and
``lstm`` (LSTM encoder-decoder), which need the windows' ``series_shape``. The
older ``architecture`` parameter (``dense`` / ``conv``) is
mapped onto it with a ``FutureWarning`` for one release:

==================  ======================  =========================
``model``           ``architecture="dense"``  ``architecture="conv"``
==================  ======================  =========================
``ae``              ``ae``                  ``conv``
``conv``            refused                 ``conv``
``vae``             ``vae``                 refused: use ``conv-vae``
``conv-vae``        refused                 ``conv-vae``
==================  ======================  =========================

A :class:`ModelSpec` is plain data (``asdict`` / :meth:`ModelSpec.from_dict`),
saved verbatim in the model file, so a file rebuilds exactly the module it was
trained with.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from torch import nn

from aedetect.exceptions import ConfigError
from aedetect.models.conv import ConvAutoencoder
from aedetect.models.conv1d import Conv1dAutoencoder
from aedetect.models.dense import DenseAutoencoder
from aedetect.models.ensemble import Ensemble
from aedetect.models.lstm import LSTMAutoencoder
from aedetect.models.vae import ConvVAE, DenseVAE
from aedetect.params import MAX_MEMBERS

__all__ = [
    "ENSEMBLE_KINDS",
    "IMAGE_KINDS",
    "SERIES_KINDS",
    "ModelSpec",
    "build",
    "resolve_kind",
    "spec_from_params",
]

#: Kinds that need images (an image shape).
IMAGE_KINDS = ("conv", "conv-vae")
#: Kinds that need windows of a series (a series shape: window, channels).
SERIES_KINDS = ("conv1d", "lstm")
#: Kinds several of which can make an ensemble (at most :data:`~aedetect.params.MAX_MEMBERS`).
ENSEMBLE_KINDS = ("ae", "conv")
_FROM_ARCHITECTURE = {
    ("ae", "dense"): "ae",
    ("vae", "dense"): "vae",
    ("ae", "conv"): "conv",
    ("conv", "conv"): "conv",
    ("conv-vae", "conv"): "conv-vae",
}


def resolve_kind(model: str, architecture: str | None = None, warn: bool = True) -> str:
    """Return the network kind from ``model`` and the deprecated ``architecture``.

    Raises :class:`ConfigError` for a contradictory pair such as
    ``model="vae", architecture="conv"``; warns (``FutureWarning``) whenever
    ``architecture`` is given and ``warn`` is true.
    """
    if architecture is None:
        return model
    kind = _FROM_ARCHITECTURE.get((model, architecture))
    if kind is None:
        hint = "; use model='conv-vae'" if model == "vae" else ""
        raise ConfigError(
            f"model={model!r} contradicts architecture={architecture!r}{hint} "
            "(architecture is deprecated: give model alone)"
        )
    if warn:
        warnings.warn(
            f"architecture is deprecated and will be removed in the next release: "
            f"use model={kind!r} instead of model={model!r}, architecture={architecture!r}",
            FutureWarning,
            stacklevel=4,  # the caller of fit()
        )
    return kind


@dataclass(frozen=True)
class ModelSpec:
    """Everything :func:`build` needs to make a module: its kind and shapes.

    ``hidden`` is the dense widths (``ae``, ``vae``) or, for ``conv-vae``, the
    conv channels then the latent size. ``conv_*``, ``kernel_size``, ``pooling``
    and ``upsampling`` describe a ``conv`` network; ``kl_weight`` a VAE's;
    ``series_shape`` (window, channels) the windows of a ``conv1d`` or ``lstm``;
    ``members`` how many such networks an :class:`~aedetect.models.ensemble.Ensemble`
    holds (``ae`` and ``conv``; 1: a single network).
    """

    kind: str
    n_features: int
    image_shape: tuple[int, int, int] | None = None
    hidden: tuple[int, ...] = (64, 32, 8)
    activation: str | tuple[str, ...] = "relu"
    output_activation: str = "identity"
    dropout: float = 0.0
    activity_l1: float = 0.0
    conv_encoder: tuple[int | str, ...] = (32, "pool", 16, "pool", 8)
    conv_decoder: tuple[int | str, ...] | None = None
    kernel_size: int = 3
    pooling: str = "max"
    upsampling: str = "nearest"
    kl_weight: float = 1.0
    series_shape: tuple[int, int] | None = None
    members: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        """Rebuild a spec written by :meth:`to_dict` (lists back to tuples)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"model spec has unknown fields: {', '.join(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def spec_from_params(
    params: Mapping[str, Any],
    n_features: int,
    image_shape: tuple[int, int, int] | None,
    warn: bool = True,
) -> ModelSpec:
    """Return the spec of the network an estimator's parameters describe."""
    kind = resolve_kind(params["model"], params.get("architecture"), warn=warn)
    activation = params["activation"]
    decoder = params.get("conv_decoder")
    series = params.get("series_shape")
    return ModelSpec(
        kind=kind,
        n_features=int(n_features),
        image_shape=None if image_shape is None else tuple(int(v) for v in image_shape),
        hidden=tuple(int(h) for h in params["hidden"]),
        activation=activation if isinstance(activation, str) else tuple(activation),
        output_activation=params["output_activation"],
        dropout=float(params["dropout"]),
        activity_l1=float(params["activity_l1"]),
        conv_encoder=tuple(_token(t) for t in params["conv_encoder"]),
        conv_decoder=None if decoder is None else tuple(_token(t) for t in decoder),
        kernel_size=int(params["kernel_size"]),
        pooling=params["pooling"],
        upsampling=params["upsampling"],
        kl_weight=float(params["kl_weight"]),
        series_shape=None if series is None else (int(series[0]), int(series[1])),
        members=int(params.get("members", 1)) if params.get("members") != "auto" else 1,
    )


def _token(value: Any) -> int | str:
    return value if isinstance(value, str) else int(value)


# Each kind's class and the spec fields it takes, in its positional order.
_SIGNATURES: dict[str, tuple[type[nn.Module], tuple[str, ...]]] = {
    "ae": (
        DenseAutoencoder,
        ("n_features", "hidden", "activation", "output_activation", "dropout", "activity_l1"),
    ),
    "vae": (
        DenseVAE,
        ("n_features", "hidden", "activation", "output_activation", "dropout", "kl_weight"),
    ),
    "conv": (
        ConvAutoencoder,
        (
            "image_shape", "conv_encoder", "conv_decoder", "kernel_size", "activation",
            "output_activation", "pooling", "upsampling", "dropout", "activity_l1",
        ),
    ),
}  # fmt: skip


def build(spec: ModelSpec) -> nn.Module:
    """Make the (untrained) module ``spec`` describes."""
    n = spec.members
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_MEMBERS:
        raise ConfigError(f"members must be an integer from 1 to {MAX_MEMBERS}, got {n!r}")
    if n != 1:
        if spec.kind not in ENSEMBLE_KINDS:
            raise ConfigError(f"members above 1 work with model ae or conv, got {spec.kind!r}")
        return Ensemble([build(replace(spec, members=1)) for _ in range(n)])
    if spec.kind in IMAGE_KINDS and spec.image_shape is None:
        raise ConfigError(f"model={spec.kind!r} needs an image_shape")
    if spec.kind == "conv-vae":
        # hidden: the conv channels, then the latent size; one activation throughout.
        act = spec.activation if isinstance(spec.activation, str) else spec.activation[0]
        return ConvVAE(
            spec.image_shape,
            spec.hidden[:-1],
            spec.hidden[-1],
            act,
            spec.output_activation,
            spec.kl_weight,
        )
    if spec.kind in SERIES_KINDS:
        return _series_module(spec)
    if spec.kind not in _SIGNATURES:
        raise ConfigError(
            f"model must be one of ae, conv, vae, conv-vae, conv1d, lstm, got {spec.kind!r}"
        )
    cls, names = _SIGNATURES[spec.kind]
    return cls(*(getattr(spec, name) for name in names))


def _series_module(spec: ModelSpec) -> nn.Module:
    if spec.series_shape is None:
        raise ConfigError(f"model={spec.kind!r} needs a series_shape (window, channels)")
    window, channels = spec.series_shape
    if window * channels != spec.n_features:
        raise ConfigError(
            f"series_shape {window}x{channels} holds {window * channels} values, "
            f"got {spec.n_features} columns"
        )
    if spec.kind == "lstm":
        return LSTMAutoencoder(window, channels, spec.hidden, spec.output_activation, spec.dropout)
    act = spec.activation if isinstance(spec.activation, str) else spec.activation[0]
    return Conv1dAutoencoder(
        window, channels, spec.hidden, spec.kernel_size, act, spec.output_activation, spec.dropout
    )
