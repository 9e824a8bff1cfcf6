"""The one training loop: tensors in, a trained module and its history out.

It knows nothing about anomalies. A module may return its own extra loss term
(a VAE's KL divergence, an activity penalty) from ``forward_with_penalty(x)``;
the loop adds it, scaled by :attr:`LoopState.penalty_scale`, which epoch
callbacks may schedule (:class:`PenaltyWarmup`). Speed comes from holding the
data as one tensor and slicing shuffled batches from it (no per-row Dataset or
collate), a fused or foreach optimizer and, for a plain dense autoencoder
trained with the mean squared error, a training step written out by hand
(:mod:`aedetect.dense_step`: autograd's gradients without its graph); thread
count and subnormal flushing are :mod:`aedetect.runtime`'s.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from aedetect.dense_step import dense_step
from aedetect.exceptions import ConfigError
from aedetect.params import OPTIMIZERS

__all__ = [
    "OPTIMIZERS",
    "Callback",
    "EpochData",
    "History",
    "LoopState",
    "PenaltyWarmup",
    "RowView",
    "TrainConfig",
    "train",
]

log = logging.getLogger(__name__)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EpochCallback = Callable[[int, float, "float | None"], None]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    ``patience`` is the number of epochs without a better validation loss after
    which training stops; the best weights are restored. ``None`` turns early
    stopping off. ``noise`` is the standard deviation of Gaussian noise added to
    each training batch's input (not to its target): a denoising autoencoder.
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    patience: int | None = 10
    noise: float = 0.0


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


@dataclass
class LoopState:
    """What epoch callbacks may change while training runs."""

    penalty_scale: float = 1.0


# Rows gathered at once when shuffling (rounded to whole batches): bounds the copy.
GATHER_ROWS = 65536


@dataclass(frozen=True)
class RowView:
    """Rows ``rows`` of ``X``, each gathered block passed through ``prepare``: no table copy.

    Training on ``RowView(X, train_rows, clamp)`` gives the same batches, and so
    the same model, as training on ``clamp(X[train_rows])``, without holding
    that second copy of the table.
    """

    X: torch.Tensor
    rows: torch.Tensor
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def device(self) -> torch.device:
        """The rows' device."""
        return self.X.device

    def take(self, index: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Gather the view's rows at positions ``index`` (into ``out`` when given)."""
        block = torch.index_select(self.X, 0, self.rows[index], out=out)
        return block if self.prepare is None else self.prepare(block)


def _gather(
    X: torch.Tensor | RowView, index: torch.Tensor, scratch: list[torch.Tensor]
) -> torch.Tensor:
    """Rows ``index`` of ``X`` in one buffer reused block after block, epoch after epoch.

    ``scratch`` holds the buffer (grown when a block needs more rows): a fresh
    table-sized tensor each epoch costs its page faults again.
    """
    source = X.X if isinstance(X, RowView) else X
    shape = (len(index), *source.shape[1:])
    if not scratch or len(scratch[0]) < len(index) or scratch[0].dtype != source.dtype:
        scratch[:] = [source.new_empty(shape)]
    out = scratch[0][: len(index)]
    if isinstance(X, RowView):
        return X.take(index, out=out)
    return torch.index_select(X, 0, index, out=out)


@runtime_checkable
class EpochData(Protocol):
    """Training rows that do not fit in memory: handed over in parts, one epoch at a time.

    ``len()`` is the number of rows; ``parts(epoch)`` yields tensors on
    ``device`` in this epoch's order (shuffle the parts; the loop shuffles the
    rows within each part). Memory holds one part at a time.
    """

    device: torch.device

    def __len__(self) -> int:
        """Rows per epoch."""

    def parts(self, epoch: int) -> Iterator[torch.Tensor]:
        """Yield epoch ``epoch``'s parts (1-based epochs)."""


class Callback:
    """Hooks called by :func:`train`; override the ones you need."""

    def on_epoch_start(self, epoch: int, state: LoopState) -> None:
        """Before epoch ``epoch`` (1-based)."""

    def on_epoch_end(self, epoch: int, train_loss: float, val_loss: float | None) -> None:
        """After epoch ``epoch`` with its losses."""


class PenaltyWarmup(Callback):
    """Raise the module's extra loss term linearly over ``epochs`` epochs.

    Epoch ``e`` uses ``min(1, e / epochs)`` of the term (KL annealing for a VAE).
    """

    def __init__(self, epochs: int) -> None:
        self.epochs = int(epochs)

    def on_epoch_start(self, epoch: int, state: LoopState) -> None:
        """Set this epoch's share of the penalty."""
        state.penalty_scale = min(1.0, epoch / self.epochs)


def forward_with_penalty(
    module: nn.Module, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return the module's output and its own extra loss term (None for a plain module)."""
    method = getattr(module, "forward_with_penalty", None)
    return method(x) if method is not None else (module(x), None)


def make_optimizer(
    name: str, params: list[nn.Parameter], lr: float, weight_decay: float, device: torch.device
) -> torch.optim.Optimizer:
    """Adam, SGD or Adagrad, fused where torch supports it on ``device``, else foreach.

    Adam on the CPU is a :class:`FusedAdam` (the same arithmetic, less overhead per step).
    """
    if name == "adam" and device.type == "cpu" and FusedAdam.supports(params):
        return FusedAdam(params, lr, weight_decay)  # type: ignore[return-value]
    classes = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad}
    cls = classes[name]
    try:
        return cls(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, lr=lr, weight_decay=weight_decay, foreach=True)


class FusedAdam:
    """Adam as ``torch.optim.Adam(fused=True)`` computes it, minus the optimizer's Python work.

    One call of torch's fused Adam kernel per step, over every parameter that has
    a gradient: the same kernel, arguments and state (moments and float32 step
    counts per parameter), so the same weights as ``torch.optim.Adam(lr=lr,
    weight_decay=weight_decay, fused=True)``. It leaves out ``Optimizer.step``'s
    hooks, grouping by device and dtype and state look-ups, which at batch 64
    cost more than the kernel itself. Only for CPU tensors: see :func:`make_optimizer`.
    """

    def __init__(self, params: list[nn.Parameter], lr: float, weight_decay: float) -> None:
        self.params = params
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        # One tensor of float32 step counts; the kernel gets a 0-dim view per parameter.
        self._counts = torch.zeros(len(params), dtype=torch.float32)
        self.steps = list(self._counts.unbind())
        # Views that share the parameters' memory: the kernel updates them in place.
        self._detached = [p.detach() for p in params]

    @staticmethod
    def supports(params: list[nn.Parameter]) -> bool:
        """Whether torch has the kernel and every parameter is a dense float CPU tensor."""
        return hasattr(torch, "_fused_adam_") and all(
            p.device.type == "cpu" and p.layout == torch.strided and p.dtype.is_floating_point
            for p in params
        )

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (autograd then hands over fresh ones, no zeroing)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One Adam update of every parameter with a gradient."""
        grads = [p.grad for p in self.params]
        if all(g is not None for g in grads):
            self._counts.add_(1)
            self._kernel(self._detached, grads, self.exp_avg, self.exp_avg_sq, self.steps)
            return
        live = [i for i, g in enumerate(grads) if g is not None]
        if not live:
            return
        steps = [self.steps[i] for i in live]
        torch._foreach_add_(steps, 1)
        self._kernel(
            [self._detached[i] for i in live],
            [grads[i] for i in live],
            [self.exp_avg[i] for i in live],
            [self.exp_avg_sq[i] for i in live],
            steps,
        )

    def _kernel(self, *tensors: list[torch.Tensor]) -> None:
        params, grads, exp_avg, exp_avg_sq, steps = tensors
        torch._fused_adam_(
            params,
            grads,
            exp_avg,
            exp_avg_sq,
            [],
            steps,
            lr=self.lr,
            beta1=0.9,
            beta2=0.999,
            weight_decay=self.weight_decay,
            eps=1e-8,
            amsgrad=False,
            maximize=False,
        )


@torch.inference_mode()
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


Step = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def autograd_step(
    module: nn.Module, loss_fn: LossFn, opt: torch.optim.Optimizer, state: LoopState
) -> Step:
    """Return the general training step: autograd's backward pass, the module's penalty added."""

    def step(xin: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        out, penalty = forward_with_penalty(module, xin)
        loss = loss_fn(out, xb)
        if penalty is not None:
            scale = state.penalty_scale
            loss = loss + (penalty if scale == 1.0 else scale * penalty)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def make_step(
    module: nn.Module,
    loss_fn: LossFn,
    opt: torch.optim.Optimizer,
    state: LoopState,
    device: torch.device,
) -> Step:
    """Return the training step: by hand for a dense autoencoder with MSE, else autograd.

    The hand-written step (:mod:`aedetect.dense_step`) computes autograd's
    gradients without its graph; every other module, loss or device trains
    through :func:`autograd_step`.
    """
    fast = dense_step(module, loss_fn, device)
    if fast is None:
        return autograd_step(module, loss_fn, opt, state)
    fast.attach_grads()

    def step(xin: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        loss = fast(xin, xb)
        opt.step()
        return loss

    return step


def _epoch(
    step: Step,
    X: torch.Tensor | RowView,
    bs: int,
    noise: float,
    generator: torch.Generator | None,
    scratch: list[torch.Tensor],
) -> float:
    """One pass over shuffled batches; the mean training loss over rows.

    ``scratch``: the gathered block's buffer, kept between calls (see :func:`_gather`).
    """
    n, device = len(X), X.device
    order = torch.randperm(n, generator=generator, device="cpu").to(device)
    # Sum of loss x rows, on the device: no per-step allocation or sync.
    total = torch.zeros((), dtype=torch.float64, device=device)
    # Gather whole batches a block at a time, then contiguous slices: cheaper than
    # per-batch indexing, and no shuffled copy of the whole table.
    block_rows = bs * max(1, GATHER_ROWS // bs)
    for start in range(0, n, bs):
        if start % block_rows == 0:
            block = _gather(X, order[start : start + block_rows], scratch)
        xb = block[start % block_rows : start % block_rows + bs]
        xin = xb + noise * torch.randn_like(xb) if noise > 0 else xb
        total.add_(step(xin, xb), alpha=len(xb))
    return float(total) / n  # one sync per epoch


def _streamed_epoch(step: Step, data: EpochData, epoch: int, *args: object) -> float:
    """One epoch over the parts of ``data``; the mean training loss over rows."""
    total, rows = 0.0, 0
    for part in data.parts(epoch):
        total += _epoch(step, part, *args) * len(part)  # type: ignore[arg-type]
        rows += len(part)
    return total / max(1, rows)


def _check_finite(train_loss: float, epoch: int, lr: float) -> None:
    if not math.isfinite(train_loss):
        raise ConfigError(
            f"training diverged at epoch {epoch} (loss {train_loss}): lower lr "
            f"(got {lr:g}) or check the data's scale"
        )


def train(
    module: nn.Module,
    X: torch.Tensor | RowView | EpochData,
    loss_fn: LossFn,
    config: TrainConfig,
    *,
    X_val: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    on_epoch: EpochCallback | None = None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``module`` to reproduce ``X``; return the loss history.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch to its reconstruction; may define ``forward_with_penalty``.
    X : torch.Tensor or EpochData
        Training rows, already on the module's device; or an :class:`EpochData`
        that hands them over in parts (data larger than memory); or a
        :class:`RowView` (some rows of a tensor, prepared block by block).
    loss_fn : callable
        ``loss_fn(output, target)`` returning a scalar.
    config : TrainConfig
        Epochs, batch size, optimizer, input noise and early stopping.
    X_val : torch.Tensor, optional
        Validation rows for early stopping.
    generator : torch.Generator, optional
        Source of the shuffling order; seed it for reproducible runs.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, train_loss, val_loss)`` after each epoch.
    callbacks : sequence of Callback, optional
        Epoch hooks, e.g. :class:`PenaltyWarmup`.
    """
    opt = make_optimizer(
        config.optimizer, list(module.parameters()), config.lr, config.weight_decay, X.device
    )
    return _run(module, X, loss_fn, config, opt, X_val, on_epoch, callbacks, generator)


def _run(
    module: nn.Module,
    X: torch.Tensor | RowView | EpochData,
    loss_fn: LossFn,
    config: TrainConfig,
    opt: torch.optim.Optimizer,
    X_val: torch.Tensor | None,
    on_epoch: EpochCallback | None,
    callbacks: Sequence[Callback],
    generator: torch.Generator | None,
) -> History:
    """Run the epochs of :func:`train`: early stopping, the best weights restored."""
    history, state = History(), LoopState()
    best_loss, best_state, since_best = float("inf"), None, 0
    bs = max(1, min(config.batch_size, len(X)))
    early = X_val is not None and len(X_val) > 0 and config.patience is not None
    started = time.perf_counter()
    module.train()
    step = make_step(module, loss_fn, opt, state, X.device)
    scratch: list[torch.Tensor] = []
    for epoch in range(1, config.epochs + 1):
        for cb in callbacks:
            cb.on_epoch_start(epoch, state)
        args = (bs, config.noise, generator, scratch)
        if isinstance(X, (torch.Tensor, RowView)):
            train_loss = _epoch(step, X, *args)
        else:
            train_loss = _streamed_epoch(step, X, epoch, *args)
        _check_finite(train_loss, epoch, config.lr)
        history.train_loss.append(train_loss)
        val_loss = (
            evaluate_loss(module, X_val, loss_fn) if X_val is not None and len(X_val) else None
        )
        if val_loss is not None:
            history.val_loss.append(val_loss)
        for hook in [*(cb.on_epoch_end for cb in callbacks), on_epoch]:
            if hook is not None:
                hook(epoch, train_loss, val_loss)
        log.debug("epoch %d train %.6g val %s", epoch, train_loss, val_loss)
        monitored = val_loss if val_loss is not None else train_loss
        if monitored < best_loss:
            best_loss, since_best, history.best_epoch = monitored, 0, epoch
            if early:
                best_state = copy.deepcopy(module.state_dict())
        else:
            since_best += 1
        if early and since_best >= config.patience:
            history.stopped_early = epoch < config.epochs
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    history.seconds = time.perf_counter() - started
    return history
