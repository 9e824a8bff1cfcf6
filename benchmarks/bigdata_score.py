"""Scoring 1M and 10M rows of a 50-column table (issue 16): in memory, streamed, on Dask.

For each size, a folder of Parquet files (500,000 rows each, row groups of
65,536; float32 columns) is written once, block by block, and scored three
ways, each in a fresh process, into a Parquet output:

- ``memory``: ``pipeline.score`` (the whole table loaded), then written;
- ``stream``: ``pipeline.score_chunks`` with the default ``chunk_rows``
  (``aedetect score``'s path);
- ``dask``: ``aedetect.dask.score_parquet`` on a LocalCluster of 2 worker
  processes (1 thread each), partitioned Parquet out.

Reported: peak RSS per process (``VmHWM``; for Dask the client and the
largest worker) and rows per second (wall clock, reading and writing
included; Dask's includes starting the cluster)::

    .venv/bin/python -m benchmarks.bigdata_score --rows 1000000,10000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.bigdata_fit import MIB, _data, _peak, write_parquet_dir

WAYS = ("memory", "stream", "dask")


def _model(folder: Path, columns: int) -> Path:
    path = folder / "model.aedetect"
    if not path.exists():
        from aedetect import AutoencoderDetector, save

        X = _data(20_000, columns, 0)
        save(AutoencoderDetector(epochs=5, random_state=0).fit(X), str(path))
    return path


def _worker_peak() -> int:
    from benchmarks.bigdata_fit import _peak as peak

    return peak()


def child(way: str, data: str, model: str, out: str) -> dict:
    from aedetect import pipeline
    from aedetect.outputs import writing_frames

    t = time.perf_counter()
    request = pipeline.DataRequest(data)
    worker = 0
    if way == "memory":
        frame = pipeline.score(Path(model), request)
        with writing_frames(out) as sink:
            sink.write(frame)
        rows = len(frame)
    elif way == "stream":
        with writing_frames(out) as sink:
            rows = pipeline.score_chunks(Path(model), request, sink).rows
    else:
        from aedetect import dask as ae_dask

        with ae_dask.cluster("local", n_workers=2, threads_per_worker=1) as client:
            rows = ae_dask.score_parquet(model, data, out)
            worker = max(client.run(_worker_peak).values())
    seconds = time.perf_counter() - t
    return {"rows": rows, "seconds": seconds, "peak": _peak(), "worker": worker}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1000000,10000000")
    ap.add_argument("--columns", type=int, default=50)
    ap.add_argument("--ways", default=",".join(WAYS))
    ap.add_argument("--dir", default="/tmp/aedetect-bigdata-score")
    ap.add_argument("--child", nargs=4)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(*a.child)))
        return
    root = Path(a.dir)
    root.mkdir(parents=True, exist_ok=True)
    model = _model(root, a.columns)
    print("| rows | way | rows/s | peak RSS (MiB) | Dask worker peak (MiB) |")
    print("|---:|---|---:|---:|---:|")
    for n in (int(r) for r in a.rows.split(",")):
        data = root / f"{n}x{a.columns}"
        if not data.exists():
            write_parquet_dir(data, n, a.columns, 500_000)
        for way in a.ways.split(","):
            out = root / (f"scores-{way}-{n}" + ("" if way == "dask" else ".parquet"))
            cmd = [sys.executable, "-m", "benchmarks.bigdata_score", "--child"]
            res = subprocess.run(
                [*cmd, way, str(data), str(model), str(out)], capture_output=True, text=True
            )
            if res.returncode:
                print(f"| {n:,} | {way} | failed: {res.stderr.strip().splitlines()[-1]} | | |")
                continue
            r = json.loads(res.stdout.strip().splitlines()[-1])
            worker = f"{r['worker'] / MIB:,.0f}" if r["worker"] else ""
            print(
                f"| {n:,} | {way} | {r['rows'] / r['seconds']:,.0f} | "
                f"{r['peak'] / MIB:,.0f} | {worker} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
