"""Per-pixel error heat maps: an image, its reconstruction and where they differ.

Arrays in, a matplotlib Figure out; no files. Rows are flat, channel-major
(``(channels, height, width)`` flattened, as PyTorch stores images).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = ["error_heatmap", "pixel_error_map"]


def _check_shape(shape: Sequence[int], n_values: int) -> tuple[int, int, int]:
    if len(shape) != 3 or any(int(v) < 1 for v in shape):
        raise ValueError(f"image shape must be (channels, height, width), got {tuple(shape)}")
    c, h, w = (int(v) for v in shape)
    if c * h * w != n_values:
        raise ValueError(
            f"image shape {(c, h, w)} holds {c * h * w} values, but rows have {n_values}"
        )
    return c, h, w


def pixel_error_map(errors: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Error of each pixel, summed over channels: (height, width).

    Parameters
    ----------
    errors : ndarray of shape (channels * height * width,)
        Error of every value of one image (e.g. a row of
        :meth:`~aedetect.AutoencoderDetector.feature_errors`).
    shape : tuple of int
        ``(channels, height, width)``.
    """
    errors = np.asarray(errors, dtype=float).ravel()
    c, h, w = _check_shape(shape, errors.size)
    return errors.reshape(c, h, w).sum(axis=0)


def _display(row: np.ndarray, shape: tuple[int, int, int], low: float, high: float) -> np.ndarray:
    c, h, w = shape
    img = (np.asarray(row, dtype=float).reshape(c, h, w) - low) / ((high - low) or 1.0)
    img = np.clip(img, 0.0, 1.0)
    return img[0] if c == 1 else np.moveaxis(img[:3] if c >= 3 else img[[0] * 3], 0, -1)


def error_heatmap(
    images: np.ndarray,
    reconstructions: np.ndarray,
    errors: np.ndarray,
    shape: Sequence[int],
    titles: Sequence[str] | None = None,
) -> Figure:
    """One line per image: the image, its reconstruction and its per-pixel error.

    Image and reconstruction share one grey (or colour) scale, so that a faded or
    invented stroke shows; the heat map has its own scale and a colour bar.

    Parameters
    ----------
    images : ndarray of shape (n, channels * height * width)
        Images as flat rows, in their own units.
    reconstructions : ndarray of the same shape
        The autoencoder's reconstructions, same units.
    errors : ndarray of the same shape
        Error of every value (e.g. :meth:`~aedetect.AutoencoderDetector.feature_errors`).
    shape : tuple of int
        ``(channels, height, width)``.
    titles : sequence of str, optional
        A title per image (e.g. ``"row 17, score 0.93"``).

    Returns
    -------
    Figure
    """
    images = np.atleast_2d(np.asarray(images, dtype=float))
    reconstructions = np.atleast_2d(np.asarray(reconstructions, dtype=float))
    errors = np.atleast_2d(np.asarray(errors, dtype=float))
    if not images.shape == reconstructions.shape == errors.shape:
        raise ValueError(
            "images, reconstructions and errors must have one shape, got "
            f"{images.shape}, {reconstructions.shape}, {errors.shape}"
        )
    dims = _check_shape(shape, images.shape[1])
    n = len(images)
    fig = Figure(figsize=(7.5, 2.5 * n), layout="constrained")
    axes = fig.subplots(n, 3, squeeze=False)
    for i in range(n):
        low = float(min(images[i].min(), reconstructions[i].min()))
        high = float(max(images[i].max(), reconstructions[i].max()))
        cmap = "gray_r" if dims[0] == 1 else None
        for ax, row, name in (
            (axes[i, 0], images[i], "image"),
            (axes[i, 1], reconstructions[i], "reconstruction"),
        ):
            ax.imshow(_display(row, dims, low, high), cmap=cmap, vmin=0, vmax=1)
            first = titles is not None and name == "image"
            ax.set_title(f"{titles[i]}\n{name}" if first else name, fontsize=9)
        heat = axes[i, 2].imshow(pixel_error_map(errors[i], dims), cmap="inferno")
        axes[i, 2].set_title("squared error", fontsize=9)
        fig.colorbar(heat, ax=axes[i, 2], shrink=0.8)
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    return fig
