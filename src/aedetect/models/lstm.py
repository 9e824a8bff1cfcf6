"""An LSTM encoder-decoder over windows of a (multichannel) series."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from aedetect.models.dense import ACTIVATIONS

__all__ = ["LSTMAutoencoder"]


class LSTMAutoencoder(nn.Module):
    """Encoder LSTM -> latent code -> decoder LSTM (the code fed at every step) -> values.

    The input is a window flattened time-major, ``(batch, window * channels)``,
    as :func:`aedetect.data.series.sliding_windows` gives it; so is the output.

    Parameters
    ----------
    window, channels : int
        Steps per window and values per step.
    hidden : sequence of int, default=(16, 4)
        The LSTMs' hidden size, then the latent size. One entry: both.
    output_activation : str, default="identity"
        Activation of the reconstruction.
    dropout : float, default=0.0
        Dropout on the latent code while training.
    """

    def __init__(
        self,
        window: int,
        channels: int,
        hidden: Sequence[int] = (16, 4),
        output_activation: str = "identity",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        width, latent = (hidden[0], hidden[-1]) if len(hidden) > 1 else (hidden[0], hidden[0])
        self.window, self.channels = int(window), int(channels)
        self.encoder_lstm = nn.LSTM(self.channels, width, batch_first=True)
        self.to_code = nn.Linear(width, latent)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.decoder_lstm = nn.LSTM(latent, width, batch_first=True)
        self.to_values = nn.Linear(width, self.channels)
        self.out = ACTIVATIONS[output_activation]()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each window: the encoder's last hidden state, projected."""
        _, (h, _) = self.encoder_lstm(x.reshape(len(x), self.window, self.channels))
        return self.to_code(h[-1])

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the latent code only (what latent scores cluster)."""
        return [self.encode(x)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of each window, flattened time-major."""
        code = self.drop(self.encode(x))
        steps = code.unsqueeze(1).expand(-1, self.window, -1)
        h, _ = self.decoder_lstm(steps)
        return self.out(self.to_values(h)).reshape(len(x), -1)

    def forward_with_penalty(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Reconstruction; no extra loss term."""
        return self(x), None
