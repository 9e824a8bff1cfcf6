"""A dense (fully connected) autoencoder of any width and depth."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from aedetect.params import ACTIVATIONS as ACTIVATION_NAMES
from aedetect.params import OUTPUT_ACTIVATIONS, layer_activations

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "DenseAutoencoder", "layer_activations"]

# Names (and their order) come from aedetect.params: one vocabulary.
ACTIVATIONS: dict[str, type[nn.Module]] = dict(
    zip(
        ACTIVATION_NAMES,
        (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Identity),
        strict=True,
    )
)


class DenseAutoencoder(nn.Module):
    """Encoder ``n_features -> hidden[0] -> ... -> hidden[-1]``, mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    hidden : sequence of int, default=(64, 32, 8)
        Encoder widths; the last is the latent size. The decoder mirrors them.
    activation : str or sequence of str, default="relu"
        Activation after every hidden layer, or one per hidden layer (encoder
        layers first, then the decoder's hidden layers: ``2 * len(hidden) - 1``).
    output_activation : {"identity", "sigmoid", "tanh", "relu"}, default="identity"
        Activation of the reconstruction.
    dropout : float, default=0.0
        Dropout after each hidden activation except the latent one.
    activity_l1 : float, default=0.0
        L1 penalty on the first hidden layer's activations (as Keras'
        ``activity_regularizer``), returned by :meth:`forward_with_penalty`.
    """

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (64, 32, 8),
        activation: str | Sequence[str] = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
        activity_l1: float = 0.0,
    ) -> None:
        super().__init__()
        widths = [int(n_features), *(int(h) for h in hidden)]
        acts = layer_activations(activation, len(widths) - 1)
        n_enc = len(widths) - 1
        self.encoder = self._stack(widths, acts[:n_enc], dropout)
        decoder = self._stack(widths[::-1], [*acts[n_enc:], output_activation], dropout)
        self.decoder = decoder
        self.activity_l1 = float(activity_l1)

    @staticmethod
    def _stack(widths: list[int], activations: list[str], dropout: float) -> nn.Sequential:
        layers: list[nn.Module] = []
        n_layers = len(widths) - 1
        for i in range(n_layers):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            layers.append(ACTIVATIONS[activations[i]]())
            if dropout > 0 and i < n_layers - 1:
                layers.append(nn.Dropout(dropout))
        return nn.Sequential(*layers)

    def dense_layers(self) -> list[tuple[nn.Linear, nn.Module]] | None:
        """Return the training pass as (Linear, activation) pairs; None when it is more.

        What :mod:`aedetect.dense_step` differentiates by hand. None with dropout,
        an activity penalty, or a subclass that changes the forward pass: autograd
        trains those.
        """
        own = DenseAutoencoder
        if self.activity_l1 > 0 or any(
            getattr(type(self), name) is not getattr(own, name)
            for name in ("forward", "encode", "forward_with_penalty")
        ):
            return None
        modules = [*self.encoder, *self.decoder]
        if len(modules) % 2 or any(isinstance(m, nn.Dropout) for m in modules):
            return None
        pairs = list(zip(modules[0::2], modules[1::2], strict=True))
        if not all(isinstance(linear, nn.Linear) for linear, _ in pairs):
            return None
        return pairs

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each row."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of each row."""
        return self.decoder(self.encode(x))

    def forward_with_penalty(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Reconstruction and this pass's L1 activity penalty (None when off or evaluating)."""
        if not (self.activity_l1 > 0 and self.training):
            return self(x), None
        first = self.encoder[1](self.encoder[0](x))
        out = self.decoder(self.encoder[2:](first))
        return out, self.activity_l1 * first.abs().sum(dim=1).mean()
