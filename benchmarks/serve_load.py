"""Load test of ``aedetect serve`` on loopback (issue 17): latency, throughput, equality.

``python -m benchmarks.serve_load`` fits a model on the built-in ``mixed`` table
with ``aedetect fit``, scores the table with ``aedetect score`` (the reference
numbers), starts ``aedetect serve`` on 127.0.0.1 under uvicorn, and sends
``--requests`` POSTs of ``--rows`` rows (JSON records, cycling over the table)
from ``--concurrency`` concurrent connections. It reports p50 / p99 / max latency,
requests and rows per second, errors, and whether every score equals the CLI's
for the same rows, then writes a block into BENCHMARKS.md between
``<!-- benchmarks:serve start -->`` and ``<!-- benchmarks:serve end -->``.

Traffic goes to the loopback address only; the run stops by itself after
``--requests`` requests or ``--time-limit`` seconds, whichever comes first.
The client runs on the same machine as the server and shares its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("<!-- benchmarks:serve start -->", "<!-- benchmarks:serve end -->")


def _aedetect() -> list[str]:
    script = Path(sys.executable).with_name("aedetect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aedetect"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(folder: Path, rows: int) -> tuple[Path, list[bytes], list[list[float]]]:
    """Fit the model, score the table with the CLI; return bodies and their CLI scores."""
    from aedetect.data.datasets import make_mixed_table

    table = make_mixed_table(n_rows=2000, n_anomalies=10, seed=0)
    frame = table.features.copy()
    frame.insert(0, "customer", table.ids.to_numpy())
    data = folder / "mixed.csv"
    frame.to_csv(data, index=False)
    model = folder / "mixed.aedetect"
    subprocess.run([*_aedetect(), "fit", str(data), "-o", str(model), "--id-column",
                    "customer", "--seed", "0", "-q"], check=True)  # fmt: skip
    scores = folder / "cli-scores.csv"
    subprocess.run([*_aedetect(), "score", str(model), str(data), "-o", str(scores), "-q"],
                   check=True)  # fmt: skip
    expected = pd.read_csv(scores)["score"].tolist()
    seen = pd.read_csv(data, skipinitialspace=True)  # the rows exactly as the CLI read them
    bodies, wanted = [], []
    for start in range(0, len(seen) - rows + 1, rows):
        part = seen.iloc[start : start + rows]
        bodies.append(json.dumps(part.to_dict(orient="records")).encode())
        wanted.append(expected[start : start + rows])
    return model, bodies, wanted


def start_server(model: Path, port: int) -> subprocess.Popen:
    """Start ``aedetect serve`` on loopback and wait until ``/health`` answers."""
    import httpx

    proc = subprocess.Popen(
        [*_aedetect(), "serve", str(model), "--host", "127.0.0.1", "--port", str(port), "-q"]
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"aedetect serve exited with code {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("aedetect serve did not answer /health within 120 s")


async def load(
    url: str, bodies: list[bytes], wanted: list[list[float]], n: int, concurrency: int,
    time_limit: float,
) -> dict[str, Any]:  # fmt: skip
    """Send ``n`` requests from ``concurrency`` workers; time and check each."""
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    mismatched = 0
    max_diff = 0.0
    counter = iter(range(n))
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    stop_at = time.monotonic() + time_limit

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal mismatched, max_diff
        for i in counter:
            if time.monotonic() > stop_at:
                return
            k = i % len(bodies)
            t0 = time.perf_counter()
            try:
                r = await client.post(url, content=bodies[k], headers=headers)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                continue
            scores = r.json()["scores"]
            if scores != wanted[k]:
                mismatched += 1
                max_diff = max(max_diff, float(np.max(np.abs(np.subtract(scores, wanted[k])))))

    load_before = os.getloadavg()[0]
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        for k in range(min(len(bodies), 32)):  # warm-up, not timed
            await client.post(url, content=bodies[k], headers=headers)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    done = len(latencies)
    return {
        "requests": done,
        "seconds": elapsed,
        "p50_ms": float(np.percentile(lat, 50)) if done else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if done else float("nan"),
        "max_ms": float(lat.max()) if done else float("nan"),
        "requests_per_s": done / elapsed,
        "errors": errors,
        "mismatched": mismatched,
        "max_diff": max_diff,
        "load": (load_before, os.getloadavg()[0]),
    }


def block(result: dict[str, Any], args: argparse.Namespace) -> str:
    """Return the BENCHMARKS.md section of this run."""
    r = result
    rows_s = r["requests_per_s"] * args.rows
    cut = (
        ""
        if r["requests"] >= args.requests
        else f" (stopped by the {args.time_limit:g} s limit after {r['requests']} of "
        f"{args.requests})"
    )
    equal = (
        "every score equal to `aedetect score`'s for the same rows (bit for bit)"
        if r["mismatched"] == 0
        else f"{r['mismatched']} responses differ from `aedetect score` (max {r['max_diff']:.3g})"
    )
    errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
    cpu = platform.processor() or platform.machine()
    return "\n".join(
        [
            MARKERS[0],
            "## Scoring service under load (`python -m benchmarks.serve_load`)",
            "",
            f"Generated {datetime.now(UTC):%Y-%m-%d} on {cpu} ({os.cpu_count()} cores, shared "
            "by the client and the server), Python "
            f"{platform.python_version()}. One `aedetect serve` process (uvicorn, loopback), "
            "a model fitted with `aedetect fit mixed` defaults (seed 0); each request is "
            f"{args.rows} JSON records of the `mixed` table; {args.concurrency} concurrent "
            "connections (httpx, keep-alive).",
            "",
            "| requests | rows each | concurrency | p50 ms | p99 ms | max ms | requests/s "
            "| rows/s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {r['requests']:,} | {args.rows} | {args.concurrency} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['requests_per_s']:.0f} | {rows_s:,.0f} |",
            "",
            f"- {r['requests']:,} requests in {r['seconds']:.1f} s{cut}; errors: {errors}.",
            f"- Load average (1 min) {r['load'][0]:.1f} before and {r['load'][1]:.1f} after the "
            "run: other jobs shared the cores, so these are floors for an idle machine.",
            f"- Scores: {equal}.",
            MARKERS[1],
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the load test; print the numbers; write BENCHMARKS.md unless ``--no-write``."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.serve_load", description=__doc__)
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--rows", type=int, default=100, help="rows per request")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--time-limit", type=float, default=900.0, help="seconds, then stop")
    p.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model, bodies, wanted = prepare(Path(tmp), args.rows)
        port = _free_port()
        server = start_server(model, port)
        try:
            url = f"http://127.0.0.1:{port}/models/mixed/score"
            result = asyncio.run(
                load(url, bodies, wanted, args.requests, args.concurrency, args.time_limit)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = block(result, args)
    print(text)
    if not args.no_write:
        from benchmarks.report import replace_block

        replace_block(ROOT / "BENCHMARKS.md", text, MARKERS)
    return 0 if not result["errors"] and result["mismatched"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
