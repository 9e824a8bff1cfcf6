"""Variational autoencoders (dense and convolutional) with a real KL term.

The encoder gives a Gaussian ``q(z|x) = N(mu, diag(exp(logvar)))``; training
decodes a reparameterised sample, evaluation decodes ``mu``.
:meth:`forward_with_penalty` returns the reconstruction together with the KL
divergence to ``N(0, I)``, weighted and divided by the number of input features
so that it is on the scale of a per-feature mean squared error: the training
loop adds it to the loss and never needs to know it is a VAE. Nothing is kept
between passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from aedetect.models.dense import ACTIVATIONS, DenseAutoencoder, layer_activations

__all__ = ["ConvVAE", "DenseVAE"]


class _VAEBase(nn.Module):
    """Shared reparameterisation, KL term and scoring hooks."""

    n_features: int

    def __init__(self, kl_weight: float) -> None:
        super().__init__()
        self.kl_weight = float(kl_weight)

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of ``q(z|x)``, each (n, latent)."""
        h = self._body(x)
        return self.mu(h), self.logvar(h).clamp(-12.0, 12.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each row: the mean of ``q(z|x)``."""
        return self.encode_distribution(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction (decoder mean) of each latent code, as flat rows."""
        raise NotImplementedError

    @staticmethod
    def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(q(z|x) || N(0, I)) of each row, summed over latent dimensions."""
        return -0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction: of a sampled code in training mode, of the mean otherwise."""
        return self.forward_with_penalty(x)[0]

    def forward_with_penalty(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Reconstruction and, in training mode, the weighted KL term per input feature."""
        mu, logvar = self.encode_distribution(x)
        if not self.training:
            return self.decode(mu), None
        kl = self.kl_divergence(mu, logvar).mean() / self.n_features
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        return self.decode(z), self.kl_weight * kl


class DenseVAE(_VAEBase):
    """Dense VAE: ``n_features -> hidden[0] -> ... -> (mu, logvar) of size hidden[-1]``.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    hidden : sequence of int, default=(64, 32, 8)
        Encoder widths; the last is the latent size. The decoder mirrors them.
    activation : str or sequence of str, default="relu"
        As :class:`~aedetect.models.DenseAutoencoder`; the latent layer's entry is
        unused (the Gaussian's mean and log-variance are linear).
    output_activation : str, default="identity"
        Activation of the reconstruction.
    dropout : float, default=0.0
        Dropout after each hidden activation but the last encoder one.
    kl_weight : float, default=1.0
        Weight of the KL term.
    """

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (64, 32, 8),
        activation: str | Sequence[str] = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
        kl_weight: float = 1.0,
    ) -> None:
        super().__init__(kl_weight)
        self.n_features = int(n_features)
        widths = [self.n_features, *(int(h) for h in hidden)]
        n_enc = len(widths) - 1
        acts = layer_activations(activation, n_enc)
        self.encoder = (
            DenseAutoencoder._stack(widths[:-1], acts[: n_enc - 1], dropout)
            if n_enc > 1
            else nn.Sequential()
        )
        self.mu = nn.Linear(widths[-2], widths[-1])
        self.logvar = nn.Linear(widths[-2], widths[-1])
        self.decoder = DenseAutoencoder._stack(
            widths[::-1], [*acts[n_enc:], output_activation], dropout
        )

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction (decoder mean) of each latent code."""
        return self.decoder(z)

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden encoder activation, then the latent mean."""
        outs, h = [], x
        for layer in self.encoder:
            h = layer(h)
            if isinstance(layer, tuple(ACTIVATIONS.values())):
                outs.append(h)
        return [*outs, self.mu(h)]


class ConvVAE(_VAEBase):
    """Convolutional VAE on flat rows holding ``(channels, height, width)`` images.

    Encoder: per stage a 3x3 convolution (padding 1), the activation and 2x2 max
    pooling; then linear heads for the Gaussian. Decoder: a linear layer back to
    the last feature map, then per stage an upsampling to the encoder's size at
    that stage and a 3x3 convolution. Any height and width work (odd sizes too).

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of each image; rows have ``prod`` values.
    channels : sequence of int, default=(32, 16)
        Channels of the convolution stages.
    latent : int, default=16
        Size of the latent code.
    activation : str, default="relu"
        Activation after every hidden layer.
    output_activation : str, default="identity"
        Activation of the reconstruction.
    kl_weight : float, default=1.0
        Weight of the KL term.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        channels: Sequence[int] = (32, 16),
        latent: int = 16,
        activation: str = "relu",
        output_activation: str = "identity",
        kl_weight: float = 1.0,
    ) -> None:
        super().__init__(kl_weight)
        c, h, w = (int(v) for v in image_shape)
        self.image_shape = (c, h, w)
        self.n_features = c * h * w
        act = ACTIVATIONS[activation]
        sizes, layers, prev = [(h, w)], [], c
        for ch in channels:
            layers += [
                nn.Conv2d(prev, int(ch), 3, padding=1),
                act(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            h, w = (h + 1) // 2, (w + 1) // 2
            sizes.append((h, w))
            prev = int(ch)
        self.encoder = nn.Sequential(*layers)
        flat = prev * h * w
        self.mu = nn.Linear(flat, int(latent))
        self.logvar = nn.Linear(flat, int(latent))
        dec: list[nn.Module] = [nn.Linear(int(latent), flat), act(), nn.Unflatten(1, (prev, h, w))]
        outs = [int(ch) for ch in channels][::-1][1:] + [c]
        for i, out in enumerate(outs):
            last = i == len(outs) - 1
            dec += [
                nn.Upsample(size=sizes[-2 - i]),
                nn.Conv2d(prev, out, 3, padding=1),
                ACTIVATIONS[output_activation]() if last else act(),
            ]
            prev = out
        self.decoder = nn.Sequential(*dec)

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.reshape(len(x), *self.image_shape)).flatten(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction (decoder mean) of each latent code, as flat rows."""
        return self.decoder(z).flatten(1)

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each pooled feature map (n, c, h, w), then the latent mean."""
        outs, h = [], x.reshape(len(x), *self.image_shape)
        for layer in self.encoder:
            h = layer(h)
            if isinstance(layer, nn.MaxPool2d):
                outs.append(h)
        return [*outs, self.mu(h.flatten(1))]
