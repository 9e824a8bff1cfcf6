"""Latent codes of a trained autoencoder and nearest-neighbour distances between them."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["knn_distance", "latent_code", "reference_rows"]


def _flat(h: torch.Tensor) -> torch.Tensor:
    return h.reshape(len(h), -1)


@torch.no_grad()
def latent_code(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return the code before the bottleneck's activation, one row per item.

    A VAE's mean; the output of a ``Sequential`` encoder's last weight layer
    (a ReLU after the bottleneck would zero whole directions of the code); else
    ``module.encode(x)``.
    """
    if hasattr(module, "encode_distribution"):
        return _flat(module.encode_distribution(x)[0])
    encoder = getattr(module, "encoder", None)
    if isinstance(encoder, nn.Sequential):
        weighted = [i for i, m in enumerate(encoder) if any(True for _ in m.parameters(False))]
        if weighted:
            return _flat(encoder[: weighted[-1] + 1](x))
    return _flat(module.encode(x))


def knn_distance(
    Q: torch.Tensor, reference: torch.Tensor, k: int, itself: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean Euclidean distance of each row of ``Q`` to its ``k`` nearest reference rows.

    ``itself`` gives, per row of ``Q``, its own index in ``reference`` (-1: not
    there), left out of its neighbours. Exact row by row (no matmul shortcut), in
    blocks of rows, so a row's score does not depend on the rest of the batch.
    """
    ref = reference.double()
    k = max(1, min(k, len(ref) - (1 if itself is not None else 0)))
    out = []
    for start in range(0, len(Q), 1024):
        d = torch.cdist(
            Q[start : start + 1024].double(), ref, compute_mode="donot_use_mm_for_euclid_dist"
        )
        if itself is not None:
            own = itself[start : start + 1024].to(d.device)
            rows = (own >= 0).nonzero()[:, 0]
            d[rows, own[rows]] = float("inf")
        out.append(d.topk(min(k, d.shape[1]), dim=1, largest=False).values.mean(dim=1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)


def reference_rows(
    n: int, keep: int, generator: torch.Generator
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Rows kept as the k-NN reference (None: all ``n``; else a seeded sample of ``keep``).

    Also returns each of the ``n`` rows' index in the reference (-1: not kept).
    """
    if n <= keep:
        return None, torch.arange(n)
    rows = torch.randperm(n, generator=generator)[:keep].sort().values
    itself = torch.full((n,), -1, dtype=torch.long)
    itself[rows] = torch.arange(keep)
    return rows, itself
