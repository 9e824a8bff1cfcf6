"""A 1-D convolutional autoencoder over windows of a (multichannel) series."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from aedetect.models.dense import ACTIVATIONS

__all__ = ["Conv1dAutoencoder"]


class Conv1dAutoencoder(nn.Module):
    """Convolutions along time, a dense latent code, and the mirror back.

    The input is a window flattened time-major, ``(batch, window * channels)``
    (all channels of the first step, then the next step, as
    :func:`aedetect.data.series.sliding_windows` gives it); so is the output.

    Parameters
    ----------
    window : int
        Steps per window.
    channels : int
        Values per step.
    hidden : sequence of int, default=(16, 4)
        Channels of each convolution ('same' padding, no pooling), then the latent
        size (a dense layer over the last convolution's maps). At least two entries.
    kernel_size : int, default=5
        Odd kernel of every convolution.
    activation : str, default="relu"
        Activation after every convolution and the latent layer's input.
    output_activation : str, default="identity"
        Activation of the reconstruction.
    dropout : float, default=0.0
        Dropout after each hidden convolution.
    """

    def __init__(
        self,
        window: int,
        channels: int,
        hidden: Sequence[int] = (16, 4),
        kernel_size: int = 5,
        activation: str = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        if len(hidden) < 2:
            hidden = [max(hidden[0], 8), hidden[0]]
        self.window, self.channels = int(window), int(channels)
        convs, latent = hidden[:-1], hidden[-1]
        pad = kernel_size // 2
        act = ACTIVATIONS[activation]
        enc: list[nn.Module] = []
        for c_in, c_out in zip([self.channels, *convs[:-1]], convs, strict=True):
            enc += [nn.Conv1d(c_in, c_out, kernel_size, padding=pad), act()]
            if dropout > 0:
                enc.append(nn.Dropout(dropout))
        self.convs = nn.Sequential(*enc)
        width = convs[-1] * self.window
        self.to_code = nn.Linear(width, latent)
        self.from_code = nn.Sequential(nn.Linear(latent, width), act())
        dec: list[nn.Module] = []
        back = convs[::-1]
        for c_in, c_out in zip(back[:-1], back[1:], strict=True):
            dec += [nn.Conv1d(c_in, c_out, kernel_size, padding=pad), act()]
        dec += [nn.Conv1d(back[-1], self.channels, kernel_size, padding=pad)]
        dec.append(ACTIVATIONS[output_activation]())
        self.deconvs = nn.Sequential(*dec)
        self._last = convs[-1]

    def _maps(self, x: torch.Tensor) -> torch.Tensor:
        # (batch, window * channels), time-major -> (batch, channels, window)
        return x.reshape(len(x), self.window, self.channels).transpose(1, 2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each window."""
        return self.to_code(self.convs(self._maps(x)).flatten(1))

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the latent code only (what latent scores cluster)."""
        return [self.encode(x)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of each window, flattened time-major."""
        h = self.from_code(self.encode(x)).reshape(len(x), self._last, self.window)
        return self.deconvs(h).transpose(1, 2).reshape(len(x), -1)

    def forward_with_penalty(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Reconstruction; no extra loss term."""
        return self(x), None
