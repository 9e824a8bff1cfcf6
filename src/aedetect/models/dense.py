"""A dense (fully connected) autoencoder of any width and depth."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "OUTPUT_ACTIVATIONS", "DenseAutoencoder"]

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


class DenseAutoencoder(nn.Module):
    """Encoder ``n_features -> hidden[0] -> ... -> hidden[-1]``, mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    hidden : sequence of int, default=(64, 32, 8)
        Encoder widths; the last is the latent size. The decoder mirrors them.
    activation : str, default="relu"
        Activation after every hidden layer, the latent one included.
    output_activation : {"identity", "sigmoid", "tanh", "relu"}, default="identity"
        Activation of the reconstruction.
    dropout : float, default=0.0
        Dropout after each hidden activation except the latent one.
    """

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (64, 32, 8),
        activation: str = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        widths = [int(n_features), *(int(h) for h in hidden)]
        self.encoder = self._stack(widths, activation, dropout, last_dropout=False)
        decoder = self._stack(widths[::-1], activation, dropout, last_dropout=False)
        # The decoder's last layer reconstructs the input: swap its activation.
        decoder[-1] = ACTIVATIONS[output_activation]()
        self.decoder = decoder

    @staticmethod
    def _stack(
        widths: list[int], activation: str, dropout: float, last_dropout: bool
    ) -> nn.Sequential:
        layers: list[nn.Module] = []
        n_layers = len(widths) - 1
        for i in range(n_layers):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0 and (i < n_layers - 1 or last_dropout):
                layers.append(nn.Dropout(dropout))
        return nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each row."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of each row."""
        return self.decoder(self.encoder(x))
