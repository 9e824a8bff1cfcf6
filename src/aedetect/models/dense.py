"""A dense (fully connected) autoencoder of any width and depth."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "DenseAutoencoder", "layer_activations"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu")


def layer_activations(activation: str | Sequence[str], n_hidden: int) -> list[str]:
    """One activation per hidden layer: encoder layers, then the decoder's hidden ones.

    A single name applies to all ``2 * n_hidden - 1`` of them; a sequence must
    name each.
    """
    n_layers = 2 * n_hidden - 1
    if isinstance(activation, str):
        return [activation] * n_layers
    names = list(activation)
    if len(names) != n_layers:
        raise ValueError(
            f"activation needs one name or {n_layers} (encoder then decoder hidden layers), "
            f"got {len(names)}"
        )
    return names


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
        ``activity_regularizer``), available after each forward pass from
        :meth:`penalty`.
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
        self._activity: torch.Tensor | None = None

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

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each row."""
        if self.activity_l1 > 0 and self.training:
            first = self.encoder[1](self.encoder[0](x))
            self._activity = first
            return self.encoder[2:](first)
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of each row."""
        return self.decoder(self.encode(x))

    def penalty(self) -> torch.Tensor:
        """L1 activity penalty of the last training forward pass (0 when off)."""
        if self._activity is None:
            return torch.zeros(())
        return self.activity_l1 * self._activity.abs().sum(dim=1).mean()
