"""Where and how torch computes: seed, device, CPU threads, subnormal floats.

Thread count and subnormal flushing are process-wide torch settings. They are set
only inside :func:`compute`, a scoped context that holds a process-wide lock, so
several threads scoring at once run one after another with the same settings
(and get the same numbers as one at a time); the caller's settings come back on
exit. Imports nothing from aedetect but its exceptions.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from aedetect.exceptions import ConfigError

__all__ = [
    "available_cores",
    "compute",
    "cpu_threads",
    "denormals_flushed",
    "flushed_denormals",
    "resolve_device",
    "resolve_seed",
]

# Re-entrant: fit() scores inside its own compute() block.
_LOCK = threading.RLock()


def resolve_seed(random_state: Any) -> int:
    """Return a 32-bit seed from ``random_state``: an int, a numpy RandomState, or None (fresh)."""
    rs = random_state
    if rs is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(rs, np.random.RandomState):
        return int(rs.randint(0, 2**31 - 1))
    if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
        return int(rs) % (2**32)
    raise ConfigError(f"random_state must be an integer or None, got {rs!r}")


def resolve_device(device: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; ``cuda`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' but no CUDA device is available; use 'auto' or 'cpu'")
    return torch.device(device)


def denormals_flushed() -> bool:
    """Whether torch flushes subnormal floats to zero now."""
    # torch has a setter and no getter: a subnormal input multiplied by one
    # comes out as zero exactly when flushing is on.
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    return bool((tiny * 1.0).item() == 0.0)


@contextlib.contextmanager
def flushed_denormals() -> Iterator[None]:
    """Flush subnormal floats to zero inside the block; restore the caller's setting."""
    with _LOCK:
        before = denormals_flushed()
        torch.set_flush_denormal(True)
        try:
            yield
        finally:
            torch.set_flush_denormal(before)


def available_cores() -> int:
    """Cores this process may run on (not the host's count)."""
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
    with _LOCK:
        before = torch.get_num_threads()
        torch.set_num_threads(max(1, n or min(before, available_cores())))
        try:
            yield
        finally:
            torch.set_num_threads(before)


@contextlib.contextmanager
def compute(threads: int | None = None) -> Iterator[None]:
    """Thread count and subnormal flushing for training and scoring, held under one lock.

    Thread-safe: a second thread entering waits until the first leaves, so the
    process-wide settings never change under a running computation.
    """
    with _LOCK, cpu_threads(threads), flushed_denormals():
        yield
