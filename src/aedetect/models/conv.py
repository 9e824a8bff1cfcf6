"""A convolutional autoencoder for images, described by a short list of layer tokens.

The encoder and decoder are sequences of tokens: an integer is a convolution with
that many output channels (``kernel_size`` square, 'same' padding, then the
activation), ``"pool"`` halves the height and width (max or average pooling) and
``"up"`` doubles them (nearest or bilinear upsampling). The decoder ends with one
more convolution back to the input's channels, followed by the output activation.

The module takes flat rows (one pixel per column, channel-first order: the
layout of ``images.reshape(n, -1)`` for images shaped (n, c, h, w)) and returns
flat rows, so the training loop and the scoring code treat it like the dense
autoencoder. Images shaped (n, c, h, w) work too and come back in that shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from aedetect.exceptions import ConfigError
from aedetect.models.dense import ACTIVATIONS
from aedetect.params import MODEL, POOLINGS, UPSAMPLINGS, check_tokens, validate

__all__ = ["POOLINGS", "UPSAMPLINGS", "ConvAutoencoder", "mirror_decoder"]

Token = int | str


def mirror_decoder(encoder: Sequence[Token]) -> tuple[Token, ...]:
    """Mirror ``encoder`` into a decoder: reversed, latent layer dropped, pool -> up.

    ``(32, "pool", 16, "pool", 8)`` gives ``("up", 16, "up", 32)``; the final
    convolution back to the input's channels is added by the module.
    """
    tokens = list(encoder)[::-1]
    if tokens and not isinstance(tokens[0], str):
        tokens = tokens[1:]  # the latent convolution is not repeated
    return tuple("up" if t == "pool" else t for t in tokens)


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder over images of one shape.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of the input images.
    encoder : sequence of int or "pool", default=(32, "pool", 16, "pool", 8)
        Encoder layers; the output of the last one is the latent code.
    decoder : sequence of int or "up", optional
        Decoder layers before the final convolution to ``channels``; by default
        the mirror of the encoder (:func:`mirror_decoder`).
    kernel_size : int, default=3
        Odd square kernel of every convolution ('same' padding).
    activation : str, default="relu"
        Activation after every convolution but the last.
    output_activation : {"identity", "sigmoid", "tanh", "relu"}, default="identity"
        Activation of the reconstruction.
    pooling : {"max", "avg"}, default="max"
        What ``"pool"`` does.
    upsampling : {"nearest", "bilinear"}, default="nearest"
        What ``"up"`` does.
    dropout : float, default=0.0
        Dropout after each hidden convolution except the latent one.
    activity_l1 : float, default=0.0
        L1 penalty on the first convolution's activations, from
        :meth:`forward_with_penalty`.

    Raises
    ------
    ConfigError
        For a bad token, an even kernel, or a decoder whose output does not have
        the input's height and width (e.g. pooling an odd size).
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        encoder: Sequence[Token] = (32, "pool", 16, "pool", 8),
        decoder: Sequence[Token] | None = None,
        kernel_size: int = 3,
        activation: str = "relu",
        output_activation: str = "identity",
        pooling: str = "max",
        upsampling: str = "nearest",
        dropout: float = 0.0,
        activity_l1: float = 0.0,
    ) -> None:
        super().__init__()
        c, h, w = (int(v) for v in image_shape)
        self.image_shape = (c, h, w)
        check_tokens(encoder, "conv_encoder", "pool")
        if not any(isinstance(t, int) for t in encoder):
            raise ConfigError(f"conv_encoder needs at least one convolution, got {encoder!r}")
        dec = mirror_decoder(encoder) if decoder is None else tuple(decoder)
        check_tokens(dec, "conv_decoder", "up")
        shape = {"kernel_size": kernel_size, "pooling": pooling, "upsampling": upsampling}
        validate(shape, MODEL)
        if kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be odd, got {kernel_size}")
        self.kernel_size, self.pooling, self.upsampling = int(kernel_size), pooling, upsampling
        n_conv = sum(isinstance(t, int) for t in encoder)
        stages, ch, seen = [], c, 0
        for t in encoder:
            if t == "pool":
                stages.append(nn.MaxPool2d(2) if pooling == "max" else nn.AvgPool2d(2))
                continue
            seen += 1
            stages.append(self._conv(ch, int(t), activation, dropout if seen < n_conv else 0.0))
            ch = int(t)
        self.encoder = nn.ModuleList(stages)
        self.latent_channels = ch
        layers: list[nn.Module] = []
        for t in dec:
            if t == "up":
                mode = {"mode": upsampling}
                if upsampling == "bilinear":
                    mode["align_corners"] = False
                layers.append(nn.Upsample(scale_factor=2, **mode))
            else:
                layers.append(self._conv(ch, int(t), activation, dropout))
                ch = int(t)
        layers.append(self._conv(ch, c, output_activation, 0.0))
        self.decoder = nn.Sequential(*layers)
        self.activity_l1 = float(activity_l1)
        self._check_shapes()
        # Channels-last (NHWC) weights and maps: oneDNN's faster convolutions on the
        # CPU (about 1.3-1.5x per training step on the MNIST presets). Loading a
        # state dict copies into these tensors, so a loaded model computes alike.
        self.to(memory_format=torch.channels_last)

    def _conv(self, n_in: int, n_out: int, activation: str, dropout: float) -> nn.Sequential:
        k = self.kernel_size
        parts: list[nn.Module] = [
            nn.Conv2d(n_in, n_out, k, padding=k // 2),
            ACTIVATIONS[activation](),
        ]
        if dropout > 0:
            parts.append(nn.Dropout(dropout))
        return nn.Sequential(*parts)

    def _check_shapes(self) -> None:
        want = "x".join(map(str, self.image_shape))
        try:
            with torch.no_grad():
                z = self._encode_images(torch.zeros(1, *self.image_shape))
                out = self.decoder(z)
        except RuntimeError as exc:  # e.g. pooling an image down to nothing
            raise ConfigError(
                f"the conv layers do not fit {want} images: {str(exc).splitlines()[0]}"
            ) from None
        self.latent_shape = tuple(z.shape[1:])
        if tuple(out.shape[1:]) != self.image_shape:
            shown = "x".join(map(str, out.shape[1:]))
            raise ConfigError(
                f"the conv decoder turns {want} images into {shown}: every 'pool' needs an "
                "even height and width and a matching 'up' in conv_decoder"
            )

    # ------------------------------------------------------------ forward
    def _as_images(self, x: torch.Tensor) -> torch.Tensor:
        x = x if x.dim() == 4 else x.reshape(len(x), *self.image_shape)
        return x.contiguous(memory_format=torch.channels_last)

    def _encode_images(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.encoder:
            x = stage(x)
        return x

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code of each image, flattened: shape (n, prod(latent_shape))."""
        z = self._encode_images(self._as_images(x))
        return z.reshape(len(z), -1)

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Output of every encoder stage (convolution or pooling), as image maps.

        The last entry, flattened, equals :meth:`encode`. Used for per-layer
        latent scores (which pool wide maps before clustering).
        """
        x = self._as_images(x)
        outs = []
        for stage in self.encoder:
            x = stage(x)
            outs.append(x)
        return outs

    def encoder_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Output of every encoder stage, flattened per image; the last equals :meth:`encode`."""
        return [h.reshape(len(h), -1) for h in self.layer_outputs(x)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction, in the input's layout (flat rows or (n, c, h, w))."""
        out = self.decoder(self._encode_images(self._as_images(x)))
        return out if x.dim() == 4 else out.reshape(len(x), -1)

    def forward_with_penalty(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Reconstruction and this pass's L1 activity penalty (None when off or evaluating)."""
        if not (self.activity_l1 > 0 and self.training):
            return self(x), None
        first = self.encoder[0](self._as_images(x))
        z = first
        for stage in self.encoder[1:]:
            z = stage(z)
        out = self.decoder(z)
        out = out if x.dim() == 4 else out.reshape(len(x), -1)
        return out, self.activity_l1 * first.abs().flatten(1).sum(dim=1).mean()
