"""A data-parallel dense training step on two Python threads against main's step: wall time.

Issue 19 asks for the batch-256 training loop at >= 60% of the 2-thread float32
GEMM peak. The idea measured here: instead of torch splitting every small matrix
product over its 2 intra-op threads (a wait after each operation), split the
batch into two fixed halves; the caller (torch set to 1 thread for the step) and
one long-lived worker thread (1 torch thread of its own) each run the
hand-written forward and backward (:class:`aedetect.dense_step.DenseStep`,
``elements=`` the whole batch's, so the halves' gradients add up to the batch's)
of their half at once (torch releases the GIL inside its kernels); the two flat
gradients are added in a fixed order and :class:`aedetect.training.FusedAdam`
steps. Nothing of this is in the library: it is a prototype to measure.

Timed (wall time, 2 torch threads, interleaved, best of ``--repeats`` runs that
other processes left alone; each run ``--epochs`` passes over the rows in fixed
batches):

- ``main``: :class:`DenseStep` and ``FusedAdam`` on 2 intra-op threads (main's step);
- ``data-parallel``: the prototype above;
- ``main-1thread``: main's step with torch set to 1 thread (what each half gets);

at batch 256, 128, 64 and 32; then the whole training loop (``training.train``,
``train_speed.aedetect_model``'s settings, 10 epochs), main's and with the
prototype step, at batch 256, 64 and 32 against the machine's 2-thread GEMM peak
(``machine.gemm_peak``); last the one-class AUROC of a fit with each step.
Data: the 5,000 MNIST digits of ``train_speed``, standardised; network
784-128-64-128-784 ReLU. ``--competitor`` starts one busy-looping process beside
the runs (one core taken) and reports without waiting for a quiet machine.

Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/data_parallel.py
    PYTHONPATH=src .venv/bin/python benchmarks/data_parallel.py --competitor
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional

import aedetect.training
from aedetect.dense_step import DenseStep, dense_step
from aedetect.models import DenseAutoencoder
from aedetect.runtime import compute, denormals_flushed
from aedetect.training import FusedAdam, TrainConfig, train

try:
    from benchmarks import train_speed
    from benchmarks.machine import cpu_model, gemm_peak
except ModuleNotFoundError:  # run as a script: benchmarks/ itself is on the path
    import train_speed  # type: ignore[no-redef]
    from machine import cpu_model, gemm_peak  # type: ignore[no-redef]

Step = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
BATCHES = (256, 128, 64, 32)
LOOP_BATCHES = (256, 64, 32)
#: The steps timed: main's on 2 threads, the prototype, main's on 1 thread.
STEPS = ("main", "data-parallel", "main-1thread")
CPU = torch.device("cpu")


class Worker:
    """A long-lived thread running jobs with 1 torch thread; a job's exception reaches the caller.

    ``torch.set_num_threads`` called in a thread sets that thread's OpenMP and
    MKL thread counts (and torch's default for threads not yet started): the
    caller's own count is left as it was. The caller restores torch's default
    (:meth:`close`).
    """

    def __init__(self) -> None:
        self.threads, self.flush = torch.get_num_threads(), denormals_flushed()
        self.inbox: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="data-parallel", daemon=True)
        self.thread.start()
        self.wait()  # its settings are made before any job

    def _run(self) -> None:
        torch.set_num_threads(1)
        torch.set_flush_denormal(self.flush)
        self.outbox.put(None)
        while (job := self.inbox.get()) is not None:
            try:
                job()
            except BaseException as exc:  # handed to the caller, raised there
                self.outbox.put(exc)
            else:
                self.outbox.put(None)

    def wait(self) -> None:
        """Wait for the job running; raise its exception."""
        error = self.outbox.get()
        if error is not None:
            raise error

    def close(self) -> None:
        """Stop and join the thread; restore torch's thread count."""
        self.inbox.put(None)
        self.thread.join()
        torch.set_num_threads(self.threads)


def main_step(module: DenseAutoencoder, opt: FusedAdam) -> tuple[Step, Callable[[], None]]:
    """Main's step: the hand-written step and FusedAdam on torch's intra-op threads."""
    fast = dense_step(module, functional.mse_loss, CPU)
    assert fast is not None
    fast.attach_grads()

    def step(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = fast(x, target)
        opt.step()
        return loss

    return step, lambda: None


def parallel_step(module: DenseAutoencoder, opt: FusedAdam) -> tuple[Step, Callable[[], None]]:
    """The prototype: two halves on the caller and a worker thread, 1 torch thread each."""
    layers = module.dense_layers()
    assert layers is not None
    whole, first, second = DenseStep(layers), DenseStep(layers), DenseStep(layers)
    whole.attach_grads()
    worker, losses = Worker(), [torch.zeros(()), torch.zeros(())]

    def step(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        half, elements = (len(x) + 1) // 2, target.numel()

        def job() -> None:
            losses[1] = second(x[half:], target[half:], elements)

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            worker.inbox.put(job)
            losses[0] = first(x[:half], target[:half], elements)
            worker.wait()
            torch.add(first.flat_grad, second.flat_grad, out=whole.flat_grad)
            opt.step()
        finally:
            torch.set_num_threads(threads)
        return losses[0] + losses[1]

    return step, worker.close


@contextlib.contextmanager
def parallel_fits() -> Iterator[None]:
    """Inside the block, fits of a plain dense autoencoder train with :func:`parallel_step`."""
    original, closers = aedetect.training.make_step, []

    def make_step(module: Any, loss_fn: Any, opt: Any, state: Any, device: Any) -> Step:
        if dense_step(module, loss_fn, device) is None or not isinstance(opt, FusedAdam):
            return original(module, loss_fn, opt, state, device)
        step, close = parallel_step(module, opt)
        closers.append(close)
        return step

    aedetect.training.make_step = make_step  # type: ignore[assignment]
    try:
        yield
    finally:
        aedetect.training.make_step = original
        for close in closers:
            close()


def report_auroc(X: np.ndarray, y: np.ndarray) -> None:
    """One-class AUROC (digit 0 normal, batch 256, 10 epochs): main's step, the prototype twice."""
    train_rows, test = train_speed.one_class_split(y)
    truth = (y[test] != train_speed.NORMAL_DIGIT).astype(int)
    scores = []
    for parallel in (False, True, True):
        with parallel_fits() if parallel else contextlib.nullcontext():
            det = train_speed.aedetect_model(10, 256).fit(X[train_rows])
        scores.append(det.decision_function(X[test]))
    auc = [roc_auc_score(truth, s) for s in scores]
    gap = float(np.abs(scores[1] - scores[0]).max() / np.abs(scores[0]).max())
    print(
        f"\nAUROC (digit 0 normal, batch 256): main {auc[0]:.4f}, data-parallel {auc[1]:.4f}"
        f" (largest score gap {gap:.1e} of the largest score); data-parallel run to run "
        f"{'identical' if np.array_equal(scores[1], scores[2]) else 'DIFFERENT'}"
    )


def others_share(since: tuple[float, float, float]) -> float:
    """Share of the cores other processes kept busy since ``since`` (:func:`mark`)."""
    busy, own, start = since
    now = mark()
    wall = now[2] - start
    others = (now[0] - busy) - (now[1] - own)
    return max(0.0, others) / max(1e-9, wall * len(os.sched_getaffinity(0)))


def mark() -> tuple[float, float, float]:
    """(busy CPU seconds of the machine, of this process, wall clock) now."""
    return (train_speed.busy_cpu_seconds() or 0.0, train_speed.own_cpu_seconds(), time.time())


def wait_quiet(limit: float, patience: float) -> None:
    """Wait (at most ``patience`` s) until other processes use under ``limit`` of the cores."""
    deadline = time.time() + patience
    while time.time() < deadline:
        since = mark()
        time.sleep(0.3)
        if others_share(since) < limit:
            return


def clean(run: Callable[[], Any], args: argparse.Namespace) -> tuple[float, float, float]:
    """(wall s, CPU s, others' share) of ``run``; retried while other processes interfere."""
    for _ in range(args.tries):
        if not args.competitor:
            wait_quiet(args.quiet, 20.0)
        since, cpu = mark(), time.process_time()
        start = time.perf_counter()
        run()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        share = others_share(since)
        if args.competitor or share < args.quiet:
            break
    return wall, cpu, share


def time_steps(name: str, X: torch.Tensor, bs: int, args: argparse.Namespace) -> tuple[float, ...]:
    """(wall s, CPU s, others' share) per row-pass of ``name``'s step at batch ``bs``."""
    torch.manual_seed(0)
    module = DenseAutoencoder(X.shape[1], train_speed.HIDDEN, "relu", "identity")
    opt = FusedAdam(list(module.parameters()), 3e-3, 0.0)
    step, close = (parallel_step if name == "data-parallel" else main_step)(module, opt)
    batches = [X[i : i + bs] for i in range(0, len(X), bs)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1 if name == "main-1thread" else threads)
    try:
        for xb in batches[:3]:
            step(xb, xb)

        def run() -> None:
            for _ in range(args.epochs):
                for xb in batches:
                    step(xb, xb)

        return clean(run, args)
    finally:
        close()
        torch.set_num_threads(threads)


def time_loop(
    X: torch.Tensor, bs: int, args: argparse.Namespace, parallel: bool
) -> tuple[float, float, float]:
    """(wall s, CPU s, others' share) of the training loop: 10 epochs at batch ``bs``.

    Main's loop, or with ``parallel`` the same loop taking :func:`parallel_step`.
    """
    torch.manual_seed(0)
    module = DenseAutoencoder(X.shape[1], train_speed.HIDDEN, "relu", "identity")
    config = TrainConfig(epochs=10, batch_size=bs, lr=3e-3, patience=None)
    seconds: list[float] = []

    def run() -> None:
        gen = torch.Generator().manual_seed(0)
        with parallel_fits() if parallel else contextlib.nullcontext():
            history = train(module, X, functional.mse_loss, config, generator=gen)
        seconds.append(history.seconds)

    _, cpu, share = clean(run, args)
    return seconds[-1], cpu, share


def measure_peak(args: argparse.Namespace) -> float:
    """The best 2-thread GEMM peak of two runs that other processes left alone (if any)."""
    peaks: list[float] = []
    for _ in range(2):
        clean(lambda: peaks.append(gemm_peak()), args)
    return max(peaks)


def report_steps(X: torch.Tensor, args: argparse.Namespace, peak: float) -> None:
    """Interleaved best-of timings of the two steps; their ratio and GEMM share."""
    flops = len(X) * args.epochs * train_speed.flops_per_row()[1]
    print(f"{'batch':>6}{'step':>15}{'wall s':>9}{'CPU s':>8}{'others':>8}{'GEMM share':>12}")
    for bs in BATCHES:
        best: dict[str, tuple[float, ...]] = {}
        for _ in range(args.repeats):
            for name in STEPS:
                got = time_steps(name, X, bs, args)
                if name not in best or got[0] < best[name][0]:
                    best[name] = got
        for name, (wall, cpu, share) in best.items():
            gemm = flops / wall / 1e9 / peak
            print(f"{bs:>6}{name:>15}{wall:>9.3f}{cpu:>8.2f}{share:>8.0%}{gemm:>12.1%}")
        ratio = best["main"][0] / best["data-parallel"][0]
        one = best["main"][0] / best["main-1thread"][0]
        print(
            f"{'':>6} speed against main: data-parallel {ratio:.2f}x, main on 1 thread "
            f"{one:.2f}x; load {_load()}",
            flush=True,
        )


def report_loop(X: torch.Tensor, args: argparse.Namespace, peak: float) -> None:
    """The training loop at batch 256, 64 and 32, main's and data-parallel: rows/s, GEMM share."""
    print(f"\nthe training loop (training.train, 10 epochs, best of {args.repeats}):")
    flops = len(X) * 10 * train_speed.flops_per_row()[1]
    for bs in LOOP_BATCHES:
        runs: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
        for _ in range(args.repeats):
            for parallel in runs:
                runs[parallel].append(time_loop(X, bs, args, parallel))
        for parallel, timed in runs.items():
            wall, cpu, share = min(timed)
            print(
                f"  batch {bs:>3} {'data-parallel' if parallel else 'main':>13}: {wall:.3f} s, "
                f"{len(X) * 10 / wall:,.0f} rows/s, {flops / wall / 1e9 / peak:.1%} of the GEMM "
                f"peak (CPU {cpu:.2f} s, others {share:.0%}); load {_load()}",
                flush=True,
            )


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="passes over the rows per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per configuration")
    parser.add_argument("--tries", type=int, default=6, help="retries of a disturbed run")
    parser.add_argument("--quiet", type=float, default=0.05, help="others' share that disturbs")
    parser.add_argument("--competitor", action="store_true", help="one busy process beside")
    parser.add_argument("--skip-loop", action="store_true", help="time the steps only")
    parser.add_argument("--skip-steps", action="store_true", help="time the loop only")
    args = parser.parse_args(argv)
    logging.getLogger("aedetect").setLevel(logging.ERROR)  # constant-pixel warnings
    X_np, y = train_speed.load_mnist(None)
    std = X_np.std(axis=0)
    X = torch.from_numpy((X_np - X_np.mean(axis=0)) / np.where(std > 0, std, 1.0)).float()
    competitor = None
    if args.competitor:
        competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with compute(2):
            peak = measure_peak(args)
            print(
                f"Machine: {cpu_model()}, torch {torch.__version__}, {torch.get_num_threads()}"
                f" threads; 2-thread GEMM peak {peak:.1f} GFLOP/s; competitor "
                f"{'on' if competitor else 'off'}; load {_load()}\n"
            )
            if not args.skip_steps:
                report_steps(X, args, peak)
            if not args.skip_loop:
                report_loop(X, args, peak)
            report_auroc(X_np, y)
            print(f"2-thread GEMM peak again at the end: {measure_peak(args):.1f} GFLOP/s")
    finally:
        if competitor is not None:
            competitor.terminate()
            competitor.wait()


if __name__ == "__main__":
    main()
