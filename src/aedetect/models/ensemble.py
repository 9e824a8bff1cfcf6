"""Several autoencoders of one shape, trained apart, scored together.

Each member is trained on its own from its own seed (the loop trains them one
after another); a row's reconstruction score is then the mean of the members'
scores, so rows that some members rebuild by chance count less than rows none
rebuilds. :func:`members_of` is how scoring code reaches the members of any
module (a plain module is its own only member).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Ensemble", "mean_of", "members_of"]


class Ensemble(nn.Module):
    """Autoencoders of one shape whose reconstruction scores are averaged.

    Parameters
    ----------
    members : sequence of nn.Module
        The trained (or to-be-trained) autoencoders, at least two.

    ``forward`` gives the mean reconstruction (the expected value a reason
    shows); scores average each member's error instead (see
    :func:`members_of`). ``encode`` joins the members' codes side by side.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean reconstruction of each row over the members."""
        return mean_of([m(x) for m in self.members])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's latent code of each row, side by side (flattened)."""
        return torch.cat([m.encode(x).flatten(1) for m in self.members], dim=1)


def mean_of(values: list[torch.Tensor]) -> torch.Tensor:
    """Return the members' values averaged elementwise (one member's: itself, no copy)."""
    return values[0] if len(values) == 1 else torch.stack(values).mean(dim=0)


def members_of(module: nn.Module) -> list[nn.Module]:
    """Return the networks whose errors are averaged: an ensemble's members, or ``module``."""
    return list(module.members) if isinstance(module, Ensemble) else [module]
