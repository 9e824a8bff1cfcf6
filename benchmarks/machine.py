"""The machine a speed number was measured on: CPU model, vector extensions, GEMM peak.

Speed ratios depend on the CPU (its vector units, its cache, how many cores torch
uses). Every speed table prints :func:`machine_table`'s fields beside its ratios so
that numbers from different machines can be read side by side::

    .venv/bin/python -m benchmarks.machine      # this machine's row

The GEMM peak is measured, not looked up: the best of a few float32 2048^3
``torch.mm`` calls with torch's current thread count, in GFLOP/s.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

#: The /proc/cpuinfo flags (x86) or features (ARM) that decide float32 matmul speed.
VECTOR_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "asimd",
    "sve",
    "sve2",
)


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what ``platform`` says."""
    for line in _cpuinfo().splitlines():
        if line.startswith(("model name", "Model", "Hardware")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def vector_extensions() -> list[str]:
    """The CPU's vector extensions among :data:`VECTOR_FLAGS`, in that order."""
    flags: set[str] = set()
    for line in _cpuinfo().splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
            break
    return [f for f in VECTOR_FLAGS if f in flags]


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def gemm_peak(n: int = 2048, warmup: int = 2, repeats: int = 5) -> float:
    """Best float32 ``n x n x n`` matmul throughput in GFLOP/s (torch's current threads)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
    c = torch.empty(n, n)
    for _ in range(warmup):
        torch.mm(a, b, out=c)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def machine_table(peak: float | None = None) -> dict[str, Any]:
    """This machine's row: CPU, vector extensions, cores, torch threads, GEMM peak, load.

    ``peak``: a GEMM peak measured already (GFLOP/s); measured here when None.
    """
    import torch

    return {
        "cpu": cpu_model(),
        "vector_extensions": vector_extensions(),
        "cores": cores(),
        "torch_threads": torch.get_num_threads(),
        "gemm_peak_gflops": gemm_peak() if peak is None else float(peak),
        "load_avg_1m": os.getloadavg()[0],
    }


def machine_cells(table: dict[str, Any]) -> list[str]:
    """The machine's columns of a speed table: CPU, extensions, threads, GEMM peak, load."""
    return [
        table["cpu"],
        " ".join(table["vector_extensions"]) or "-",
        f"{table['torch_threads']}/{table['cores']}",
        f"{table['gemm_peak_gflops']:.0f}",
        f"{table['load_avg_1m']:.2f}",
    ]


#: Headers of :func:`machine_cells`.
MACHINE_HEADERS = ["CPU", "vector extensions", "threads/cores", "GEMM GFLOP/s", "load 1m"]


def ratio_table(rows: list[tuple[str, str]], table: dict[str, Any]) -> list[str]:
    """A Markdown table: each (measure, value) row with the machine's columns beside it."""
    cells = machine_cells(table)
    lines = [
        "| " + " | ".join(["measure", "value", *MACHINE_HEADERS]) + " |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    lines += ["| " + " | ".join([name, value, *cells]) + " |" for name, value in rows]
    return lines


if __name__ == "__main__":
    print("\n".join(ratio_table([("(this machine)", "-")], machine_table())))
