"""Denoising: Gaussian noise on a module's input while it trains."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

__all__ = ["add_input_noise"]


def add_input_noise(module: nn.Module, std: float) -> RemovableHandle:
    """Add ``N(0, std^2)`` noise to ``module``'s input in training mode only.

    The target the loss compares with stays the clean input, so the module
    learns to denoise. Returns the hook's handle: ``handle.remove()`` ends it.
    Works for any module, without changing its weights' names.
    """

    def hook(mod: nn.Module, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...] | None:
        if not mod.training or std <= 0:
            return None
        x = args[0]
        return (x + std * torch.randn_like(x), *args[1:])

    return module.register_forward_pre_hook(hook)
