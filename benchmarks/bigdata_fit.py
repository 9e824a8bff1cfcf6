"""Peak memory of fitting on 1M x 50 (issue 16): in memory, and streamed from Parquet.

Each measurement runs in a fresh process and reports its peak resident set
size while fitting (``VmHWM``, reset once the data is made), the RSS after the
imports and before the data exists, and the peak above that (the input table
included), as a multiple of the float32 table (rows x columns x 4 bytes).
"After imports" is after a warm-up fit on 2,048 rows: torch imports
``torch._dynamo`` and sympy (about 75 MiB) at an optimizer's first step, a
one-time cost that does not grow with the table::

    .venv/bin/python -m benchmarks.bigdata_fit --rows 1000000 --columns 50
    .venv/bin/python -m benchmarks.bigdata_fit --parts stream --rows 10000000 --dir /tmp/big

``memory``: an ``AutoencoderDetector`` fitted on a float32 array (1 epoch:
memory does not grow with epochs); ``inplace``: the same with ``fit(X,
copy=False)`` (the array encoded in place). ``stream``:
``aedetect.streamfit.fit_parquet`` on a folder of Parquet files written chunk
by chunk (never whole in memory).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

MIB = 1 << 20


def _rss_now() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _peak() -> int:
    """Peak RSS since the last :func:`_reset_peak` (Linux: VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:  # "5" resets the peak RSS (VmHWM)
        fh.write("5")


def _data(rows: int, columns: int, seed: int, start: int = 0):
    """A float32 table of 4 latent factors plus noise, made in blocks (no big temporaries)."""
    import numpy as np

    mix = np.random.default_rng(seed).normal(size=(4, columns)).astype(np.float32)
    out = np.empty((rows, columns), dtype=np.float32)
    for lo in range(0, rows, 65536):
        rng = np.random.default_rng([seed, start + lo])
        n = min(65536, rows - lo)
        noise = rng.standard_normal((n, columns), dtype=np.float32)
        out[lo : lo + n] = rng.standard_normal((n, 4), dtype=np.float32) @ mix + 0.1 * noise
    return out


def _warm_up(columns: int) -> None:
    """Fit once on a few rows: torch's imports at first use happen here, not in the fit."""
    from aedetect import AutoencoderDetector

    AutoencoderDetector(epochs=1, batch_size=1024, random_state=0).fit(_data(2048, columns, 1))


def child_memory(rows: int, columns: int, copy: bool = True) -> dict:
    from aedetect import AutoencoderDetector

    _warm_up(columns)
    base = _rss_now()
    X = _data(rows, columns, 0)
    _reset_peak()
    t = time.perf_counter()
    AutoencoderDetector(epochs=1, batch_size=1024, random_state=0).fit(X, copy=copy)
    return {"base": base, "peak": _peak(), "seconds": time.perf_counter() - t}


def write_parquet_dir(folder: Path, rows: int, columns: int, per_file: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    names = [f"x{j}" for j in range(columns)]
    for k, start in enumerate(range(0, rows, per_file)):
        n = min(per_file, rows - start)
        X = _data(n, columns, 0, start)
        table = pa.table({name: X[:, j] for j, name in enumerate(names)})
        pq.write_table(table, folder / f"part-{k:04d}.parquet", row_group_size=65536)


def child_stream(folder: str, rows: int) -> dict:
    from aedetect import AutoencoderDetector
    from aedetect.streamfit import fit_parquet

    _warm_up(50)
    base = _rss_now()
    _reset_peak()
    t = time.perf_counter()
    det = AutoencoderDetector(epochs=1, batch_size=1024, random_state=0)
    fit_parquet(det, folder, sample_rows=100_000)
    return {"base": base, "peak": _peak(), "seconds": time.perf_counter() - t}


def run_child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bigdata_fit", "--child", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="memory", help="memory, inplace, stream (or a list)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--columns", type=int, default=50)
    ap.add_argument("--dir", default="/tmp/aedetect-bigdata-fit")
    ap.add_argument("--child", nargs="*")
    a = ap.parse_args()
    if a.child is not None:
        kind = a.child[0]
        result = (
            child_stream(a.child[1], a.rows)
            if kind == "stream"
            else child_memory(a.rows, a.columns, copy=kind != "inplace")
        )
        print(json.dumps(result))
        return
    table = a.rows * a.columns * 4
    for part in a.parts.split(","):
        sized = ["--rows", str(a.rows), "--columns", str(a.columns)]
        if part == "stream":
            folder = Path(a.dir) / f"{a.rows}x{a.columns}"
            if not folder.exists():
                write_parquet_dir(folder, a.rows, a.columns, 500_000)
            r = run_child(["stream", str(folder), *sized])
        else:
            r = run_child([part, *sized])
        above = r["peak"] - r["base"]
        print(
            f"{part}: {a.rows:,} x {a.columns}: float32 table {table / MIB:.0f} MiB; "
            f"peak RSS {r['peak'] / MIB:.0f} MiB, after imports {r['base'] / MIB:.0f} MiB, "
            f"above that {above / MIB:.0f} MiB = {above / table:.2f}x the table; "
            f"fit {r['seconds']:.1f}s"
        )


if __name__ == "__main__":
    main()
