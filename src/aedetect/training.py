"""The one training loop: tensors in, a trained module and its history out.

It knows nothing about anomalies. Speed comes from holding the data as one
tensor and slicing shuffled batches from it (no per-row Dataset or collate), a
fused or foreach optimizer, a thread count matched to the machine, and flushing
subnormal floats, which are slow on CPUs and common in sigmoid outputs.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["OPTIMIZERS", "History", "TrainConfig", "cpu_threads", "flushed_denormals", "train"]

log = logging.getLogger(__name__)

OPTIMIZERS = ("adam", "sgd", "adagrad")
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EpochCallback = Callable[[int, float, "float | None"], None]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    ``patience`` is the number of epochs without a better validation loss after
    which training stops; the best weights are restored. ``None`` turns early
    stopping off.
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    patience: int | None = 10


@dataclass
class History:
    """Loss per epoch and how training ended."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Plain data for saving."""
        return {
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
        }


def _denormals_flushed() -> bool:
    # torch has a setter and no getter: a subnormal input multiplied by one
    # comes out as zero exactly when flushing is on.
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    return bool((tiny * 1.0).item() == 0.0)


@contextlib.contextmanager
def flushed_denormals() -> Iterator[None]:
    """Flush subnormal floats to zero inside the block; restore the caller's setting."""
    before = _denormals_flushed()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def cpu_threads(n: int | None = None) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block, then restore the caller's count.

    By default: torch's current setting, capped at the cores this process may run
    on (torch counts the host's cores, which oversubscribes a container's CPU
    quota). A user who lowered the count with ``torch.set_num_threads`` keeps it.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n or min(before, _available_cores())))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_optimizer(
    name: str, params: list[nn.Parameter], lr: float, weight_decay: float, device: torch.device
) -> torch.optim.Optimizer:
    """Adam, SGD or Adagrad, fused where torch supports it on ``device``, else foreach."""
    classes = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad}
    cls = classes[name]
    try:
        return cls(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, lr=lr, weight_decay=weight_decay, foreach=True)


@torch.no_grad()
def evaluate_loss(module: nn.Module, X: torch.Tensor, loss_fn: LossFn, chunk: int = 8192) -> float:
    """Mean loss over ``X``, computed in chunks, in eval mode."""
    was_training = module.training
    module.eval()
    total = torch.zeros((), dtype=torch.float64, device=X.device)
    for start in range(0, len(X), chunk):
        xb = X[start : start + chunk]
        total += loss_fn(module(xb), xb).double() * len(xb)
    module.train(was_training)
    return float(total.item()) / max(1, len(X))


def train(
    module: nn.Module,
    X: torch.Tensor,
    loss_fn: LossFn,
    config: TrainConfig,
    *,
    X_val: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    on_epoch: EpochCallback | None = None,
    extra_loss: Callable[[], torch.Tensor] | None = None,
) -> History:
    """Train ``module`` to reproduce ``X``; return the loss history.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch to its reconstruction.
    X : torch.Tensor
        Training rows, already on the module's device.
    loss_fn : callable
        ``loss_fn(output, target)`` returning a scalar.
    config : TrainConfig
        Epochs, batch size, optimizer and early stopping.
    X_val : torch.Tensor, optional
        Validation rows for early stopping.
    generator : torch.Generator, optional
        Source of the shuffling order; seed it for reproducible runs.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, train_loss, val_loss)`` after each epoch.
    extra_loss : callable, optional
        A penalty added to each batch loss (e.g. an activity regulariser).
    """
    device = X.device
    opt = make_optimizer(
        config.optimizer, list(module.parameters()), config.lr, config.weight_decay, device
    )
    history = History()
    best_loss, best_state, since_best = float("inf"), None, 0
    n, bs = len(X), max(1, min(config.batch_size, len(X)))
    started = time.perf_counter()
    module.train()
    for epoch in range(1, config.epochs + 1):
        # One gather per epoch, then contiguous slices: cheaper than per-batch indexing.
        order = torch.randperm(n, generator=generator, device="cpu").to(device)
        shuffled = X[order]
        batch_losses = []
        for start in range(0, n, bs):
            xb = shuffled[start : start + bs]
            loss = loss_fn(module(xb), xb)
            if extra_loss is not None:
                loss = loss + extra_loss()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            batch_losses.append(loss.detach())
        # Mean over rows: every batch but the last has bs rows. One sync per epoch.
        sizes = torch.full((len(batch_losses),), float(bs), dtype=torch.float64)
        sizes[-1] = n - bs * (len(batch_losses) - 1)
        train_loss = float(torch.stack(batch_losses).double().cpu() @ sizes) / n
        history.train_loss.append(train_loss)
        val_loss = (
            evaluate_loss(module, X_val, loss_fn) if X_val is not None and len(X_val) else None
        )
        if val_loss is not None:
            history.val_loss.append(val_loss)
        if on_epoch is not None:
            on_epoch(epoch, train_loss, val_loss)
        log.debug("epoch %d train %.6g val %s", epoch, train_loss, val_loss)
        monitored = val_loss if val_loss is not None else train_loss
        if monitored < best_loss:
            best_loss, since_best, history.best_epoch = monitored, 0, epoch
            if val_loss is not None and config.patience is not None:
                best_state = copy.deepcopy(module.state_dict())
        else:
            since_best += 1
        if val_loss is not None and config.patience is not None and since_best >= config.patience:
            history.stopped_early = epoch < config.epochs
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    history.seconds = time.perf_counter() - started
    return history
