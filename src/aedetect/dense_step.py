"""A dense autoencoder's training step written out by hand: no autograd graph.

At batch 64 a training step of the 784-128-64-128-784 network spends about as
much time in autograd's bookkeeping (graph nodes, saved tensors, dispatch,
fresh gradient tensors) as in its matrix products. :class:`DenseStep` does the
same arithmetic as ``loss.backward()`` without the graph: the forward pass
writes into preallocated buffers (``torch.addmm(..., out=)``, activations in
place), the backward pass calls the very kernels autograd calls
(``mse_loss_backward``, ``threshold_backward``, ``tanh_backward``, ..., ``mm``
and ``sum``) with ``out=`` into buffers, and each parameter's gradient is a view
of one flat tensor, overwritten every step (no zeroing, no allocation). The
gradients are those of autograd, bit for bit on the CPU (tested), so the
optimizer takes the same steps.

It covers a chain of ``nn.Linear`` layers, each followed by one of
:data:`SUPPORTED` (ReLU, Tanh, Sigmoid, LeakyReLU with a positive slope, ELU,
GELU, Identity), trained with the mean squared error; a module offers its chain
through ``dense_layers()`` (see :class:`aedetect.models.DenseAutoencoder`) and
returns None when it is anything else (dropout, an activity penalty).
:func:`dense_step` returns None whenever the fast step does not apply, and the
training loop keeps autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional

__all__ = ["SUPPORTED", "DenseStep", "dense_step"]

aten = torch.ops.aten

#: Activation modules the hand-written step knows the derivative of.
SUPPORTED: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.Identity,
)

#: ``(activation, pre, out)``: the activation of ``pre`` written into ``out``.
Forward = Callable[[nn.Module, torch.Tensor, torch.Tensor], None]
#: ``(activation, grad, pre, out)``: ``grad`` times the derivative, written into ``grad``.
Backward = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], None]


def _relu_backward(_: nn.Module, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor) -> None:
    aten.threshold_backward.grad_input(grad, out, 0, grad_input=grad)


def _tanh_backward(_: nn.Module, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor) -> None:
    aten.tanh_backward.grad_input(grad, out, grad_input=grad)


def _sigmoid_backward(
    _: nn.Module, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor
) -> None:
    aten.sigmoid_backward.grad_input(grad, out, grad_input=grad)


def _leaky_backward(
    act: nn.Module, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor
) -> None:
    aten.leaky_relu_backward.grad_input(grad, pre, act.negative_slope, False, grad_input=grad)


def _elu_backward(act: nn.Module, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor) -> None:
    aten.elu_backward.grad_input(grad, act.alpha, 1, 1, False, pre, grad_input=grad)


def _gelu_backward(
    act: nn.Module, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor
) -> None:
    aten.gelu_backward.grad_input(grad, pre, approximate=act.approximate, grad_input=grad)


# Each activation: its forward into ``out``, its backward, and whether the backward
# reads the pre-activation (then ``out`` is a buffer of its own, else ``pre`` itself).
_RULES: dict[type[nn.Module], tuple[Forward, Backward, bool]] = {
    nn.ReLU: (lambda a, pre, out: pre.relu_(), _relu_backward, False),
    nn.Tanh: (lambda a, pre, out: pre.tanh_(), _tanh_backward, False),
    nn.Sigmoid: (lambda a, pre, out: pre.sigmoid_(), _sigmoid_backward, False),
    nn.LeakyReLU: (
        lambda a, pre, out: aten.leaky_relu.out(pre, a.negative_slope, out=out),
        _leaky_backward,
        True,
    ),
    nn.ELU: (lambda a, pre, out: aten.elu.out(pre, a.alpha, 1, 1, out=out), _elu_backward, True),
    nn.GELU: (
        lambda a, pre, out: aten.gelu.out(pre, approximate=a.approximate, out=out),
        _gelu_backward,
        True,
    ),
}


def _supported(activation: nn.Module) -> bool:
    kind = type(activation)
    if kind not in SUPPORTED:
        return False
    if kind in (nn.ReLU, nn.LeakyReLU, nn.ELU):  # in-place variants change the saved tensors
        if getattr(activation, "inplace", False):
            return False
    if kind is nn.LeakyReLU:
        return activation.negative_slope > 0
    return True


# Elements per alignment step of the flat gradient's views (64 bytes of float32).
_ALIGN = 16


class _Buffers:
    """One batch size's buffers: each layer's pre-activation, output and input gradient."""

    def __init__(self, rows: int, layers: Sequence[tuple[nn.Linear, nn.Module]]) -> None:
        like = layers[0][0].weight
        self.pre: list[torch.Tensor] = []
        self.out: list[torch.Tensor] = []
        self.grad: list[torch.Tensor] = []
        for linear, act in layers:
            pre = like.new_empty(rows, linear.out_features)
            own = type(act) in _RULES and _RULES[type(act)][2]
            self.pre.append(pre)
            self.out.append(like.new_empty(rows, linear.out_features) if own else pre)
            self.grad.append(like.new_empty(rows, linear.out_features))
        self.grad_t = [g.t() for g in self.grad]
        # The output gradient's factor, as mse_loss_backward takes it: 2 / elements.
        self.norm = 2.0 / self.grad[-1].numel()
        self.diff = self.grad[-1].view(-1)


class DenseStep:
    """Forward and backward of a Linear/activation chain by hand; see the module docstring.

    Parameters
    ----------
    layers : sequence of (torch.nn.Linear, torch.nn.Module)
        The chain, first layer first; each activation one of :data:`SUPPORTED`.

    Notes
    -----
    Each parameter's ``.grad`` becomes a view of one flat tensor, overwritten by
    every :meth:`__call__`: an optimizer over the parameters then steps as after
    ``loss.backward()``. Call ``opt.step()`` but not ``opt.zero_grad()``.
    """

    def __init__(self, layers: Sequence[tuple[nn.Linear, nn.Module]]) -> None:
        self.layers = list(layers)
        self.weights = [linear.weight for linear, _ in self.layers]
        # Views: the weights are updated in place, so these stay current.
        self.weights_t = [w.t() for w in self.weights]
        self.biases = [linear.bias for linear, _ in self.layers]
        self.rules = [_RULES.get(type(act)) for _, act in self.layers]
        params = [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]
        # Each view starts on a 64-byte boundary, as a fresh tensor does: MKL's
        # products can round differently into a misaligned output (seen on AMD EPYC),
        # and the weight gradients must be autograd's bit for bit.
        starts, end = [], 0
        for p in params:
            start = -(-end // _ALIGN) * _ALIGN
            starts.append(start)
            end = start + p.numel()
        self.flat_grad = params[0].new_zeros(end)
        views = [
            self.flat_grad[a : a + p.numel()].view_as(p)
            for a, p in zip(starts, params, strict=True)
        ]
        self.weight_grads, self.bias_grads = views[0::2], views[1::2]
        self._buffers: dict[int, _Buffers] = {}

    def attach_grads(self) -> None:
        """Point each parameter's ``.grad`` at its view of the flat gradient."""
        for p, g in zip(self.weights, self.weight_grads, strict=True):
            p.grad = g
        for p, g in zip(self.biases, self.bias_grads, strict=True):
            p.grad = g

    def _buffers_for(self, rows: int) -> _Buffers:
        buffers = self._buffers.get(rows)
        if buffers is None:
            # The full batch and the epoch's last, shorter one: keep two sizes at most.
            if len(self._buffers) >= 2:
                self._buffers.clear()
            buffers = self._buffers[rows] = _Buffers(rows, self.layers)
        return buffers

    @torch.no_grad()
    def __call__(
        self, x: torch.Tensor, target: torch.Tensor, elements: int | None = None
    ) -> torch.Tensor:
        """Fill the gradients of ``mse_loss(chain(x), target)``; return that loss (0-dim).

        The gradients are autograd's bit for bit: the output gradient is
        ``(out - target) * (2 / elements)``, what ``mse_loss_backward`` computes.
        The loss is the squared difference summed by ``torch.dot``: ``mse_loss``'s
        value up to float32 rounding of the sum (it is reported and checked for
        divergence, never differentiated).

        ``elements``: divide by this many elements instead of ``target.numel()``:
        ``x`` is then part of a batch of that many elements, and the gradients and
        loss are this part's share of the whole batch's (parts add up to it).
        """
        buf = self._buffers_for(len(x))
        layers, rules = self.layers, self.rules
        h = x
        for i, rule in enumerate(rules):
            pre = buf.pre[i]
            torch.addmm(self.biases[i], h, self.weights_t[i], out=pre)
            h = buf.out[i]
            if rule is not None:
                rule[0](layers[i][1], pre, h)
        grad = buf.grad[-1]
        torch.sub(h, target, out=grad)
        flat = buf.diff
        loss = torch.dot(flat, flat).div_(elements or flat.numel())
        grad.mul_(buf.norm if elements is None else 2.0 / elements)
        for i in range(len(rules) - 1, -1, -1):
            rule = rules[i]
            if rule is not None:
                rule[1](layers[i][1], grad, buf.pre[i], buf.out[i])
            torch.mm(buf.grad_t[i], x if i == 0 else buf.out[i - 1], out=self.weight_grads[i])
            torch.sum(grad, 0, out=self.bias_grads[i])
            if i > 0:
                grad = buf.grad[i - 1]
                torch.mm(buf.grad[i], self.weights[i], out=grad)
        return loss


def dense_step(module: nn.Module, loss_fn: object, device: torch.device) -> DenseStep | None:
    """Return a :class:`DenseStep` for ``module`` and ``loss_fn``, or None to keep autograd.

    Parameters
    ----------
    module : torch.nn.Module
        Applies when it offers ``dense_layers()`` returning its Linear/activation
        chain (None when its training pass is anything more).
    loss_fn : callable
        Applies when it is ``torch.nn.functional.mse_loss`` itself.
    device : torch.device
        Applies on the CPU.

    Returns
    -------
    DenseStep or None
        None when any part is unsupported: a layer without bias, a frozen or
        non-float32 parameter, another loss, another activation, another device.
    """
    method = getattr(module, "dense_layers", None)
    if method is None or loss_fn is not functional.mse_loss or device.type != "cpu":
        return None
    layers = method()
    if not layers:
        return None
    for linear, act in layers:
        if type(linear) is not nn.Linear or linear.bias is None or not _supported(act):
            return None
        for p in (linear.weight, linear.bias):
            if not p.requires_grad or p.dtype != torch.float32 or p.device.type != "cpu":
                return None
    return DenseStep(layers)
