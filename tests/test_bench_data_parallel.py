"""benchmarks/data_parallel.py's prototype: the whole batch's gradients, settings restored."""

import sys
from pathlib import Path

import pytest
import torch
from torch.nn import functional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.data_parallel import Worker, main_step, parallel_step  # noqa: E402

from aedetect.models import DenseAutoencoder  # noqa: E402
from aedetect.training import FusedAdam  # noqa: E402


def _trained(kind, steps=5, rows=37):
    torch.manual_seed(0)
    module = DenseAutoencoder(12, (8, 3))
    opt = FusedAdam(list(module.parameters()), 1e-2, 0.0)
    step, close = kind(module, opt)
    x = torch.randn(rows, 12, generator=torch.Generator().manual_seed(1))
    try:
        losses = [float(step(x, x)) for _ in range(steps)]
    finally:
        close()
    return [p.detach().clone() for p in module.parameters()], losses


def test_the_halves_train_as_the_whole_batch_and_run_to_run_alike():
    threads = torch.get_num_threads()
    whole, whole_losses = _trained(main_step)
    first, first_losses = _trained(parallel_step)
    again, _ = _trained(parallel_step)
    assert torch.get_num_threads() == threads
    for a, b, c in zip(whole, first, again, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
        assert torch.equal(b, c)
    assert first_losses == pytest.approx(whole_losses, rel=1e-4)


def test_a_workers_exception_reaches_the_caller_and_the_thread_ends():
    threads = torch.get_num_threads()
    worker = Worker()

    def boom():
        raise ValueError("in the worker")

    worker.inbox.put(boom)
    with pytest.raises(ValueError, match="in the worker"):
        worker.wait()
    worker.close()
    assert not worker.thread.is_alive()
    assert torch.get_num_threads() == threads


def test_the_prototype_step_fills_the_whole_batch_gradient():
    torch.manual_seed(0)
    module = DenseAutoencoder(12, (8, 3))
    x = torch.randn(21, 12, generator=torch.Generator().manual_seed(2))
    module.zero_grad()
    functional.mse_loss(module(x), x).backward()
    expected = [p.grad.clone() for p in module.parameters()]

    class NoStep:
        params = list(module.parameters())

        def step(self):
            pass

    step, close = parallel_step(module, NoStep())
    try:
        step(x, x)
    finally:
        close()
    for p, want in zip(module.parameters(), expected, strict=True):
        torch.testing.assert_close(p.grad, want, rtol=1e-5, atol=1e-7)
