"""Side-by-side benchmark of aedetect against the tools users would pick instead.

One command runs every method (``benchmarks/methods.py``) on every data set
(``benchmarks/bench_data.py``) with the same splits and seeds, then

- accuracy: AUROC and average precision per split, fit and score time;
- speed: ``benchmarks/train_speed.py`` (aedetect vs PyOD AutoEncoder at equal
  architecture and epochs);
- throughput: aedetect ``decision_function`` rows/s vs a bare forward pass of its
  own network on pre-encoded tensors;
- adbench (only when asked for, ``--parts adbench``): ADBench's classical tables,
  see ``benchmarks/adbench.py``;
- nab (only when asked for, ``--parts nab``): the Numenta Anomaly Benchmark, see
  ``benchmarks/nab.py``;
- explain (only when asked for, ``--parts explain``): is the corrupted column of
  a row named first, by cause and by error? See ``benchmarks/explain.py``.
- startup (only when asked for, ``--parts startup``): start-up time of
  ``--version``, ``--help`` and ``info`` against ``import torch``, see
  ``benchmarks/startup.py``;
- scaling: fit time and peak memory (one fresh process per method and size) on
  10k, 100k and 1M rows of a 50-column table, skipping sizes past a time budget;

and writes CSV files and PNG figures into ``benchmarks/results/`` and a Markdown
section into BENCHMARKS.md between ``<!-- benchmarks:run start -->`` and
``<!-- benchmarks:run end -->`` (the rest of the file is left as it is).

Run from the repository root, on an otherwise idle machine (timings under
contention are meaningless)::

    .venv/bin/python -m benchmarks            # full run (estimated 20-25 min on 2 idle cores)
    .venv/bin/python -m benchmarks --quick    # smoke run: small data, few epochs
    .venv/bin/python -m benchmarks --datasets digits,synthetic --methods aedetect-best,pca \
        --seeds 0 --parts accuracy

A failing method or data set is recorded in the CSV (``status``) and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import bench_data
from benchmarks.methods import AEDETECT_METHODS, BEST_PER_DATA_TYPE, METHODS, Context, Method

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("accuracy", "speed", "throughput", "scaling")
SCALING_METHODS = (
    "aedetect-default",
    "pyod-ae",
    "pyod-vae",
    "pyod-knn",
    "pyod-ecod",
    "isolation-forest",
    "ocsvm",
    "pca",
)


@dataclass
class Settings:
    """Everything that decides what a run does; written at the top of the report."""

    quick: bool
    parts: tuple[str, ...]
    datasets: list[str] | None
    methods: list[str]
    seeds: tuple[int, ...]
    classes: tuple[int, ...] | None
    epochs: int | None
    threads: int | None
    peer_scaling: str
    scaling_rows: tuple[int, ...]
    scaling_cols: int
    scaling_epochs: int
    scaling_methods: list[str]
    budget_s: float
    throughput_rows: int
    throughput_params: dict[str, Any]
    out_dir: Path
    markdown: Path
    command: str
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _list(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _ints(text: str | None) -> tuple[int, ...] | None:
    items = _list(text)
    return tuple(int(t) for t in items) if items else None


def command_line(argv: list[str]) -> str:
    """The command as typed: the interpreter relative to the working folder when inside it."""
    exe = Path(sys.executable)
    try:
        shown = str(exe.relative_to(Path.cwd()))
    except ValueError:
        shown = str(exe)
    return " ".join([shown, "-m", "benchmarks", *(shlex.quote(a) for a in argv)])


def parse_args(argv: list[str]) -> Settings:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small data, 1 seed, 20 epochs at most")
    p.add_argument("--parts", help=f"comma-separated subset of {', '.join(PARTS)} (default: all)")
    p.add_argument("--datasets", help="comma-separated names or prefixes (synthetic, mixed, ...)")
    p.add_argument("--methods", help=f"comma-separated subset of {', '.join(METHODS)}")
    p.add_argument("--seeds", help="comma-separated seeds (default 0,1,2; quick: 0)")
    p.add_argument("--classes", help="one-class data sets: normal classes to run (default all)")
    p.add_argument("--epochs", type=int, help="cap on epochs of the neural methods")
    p.add_argument("--threads", type=int, help="torch and BLAS threads (default: their own)")
    p.add_argument(
        "--peer-scaling",
        choices=("standard", "none"),
        default="standard",
        help="peers' input: standardised on the training rows (default) or as encoded",
    )
    p.add_argument("--scaling-rows", help="table sizes (default 10000,100000,1000000)")
    p.add_argument("--scaling-cols", type=int, default=50)
    p.add_argument("--scaling-epochs", type=int, default=3, help="epochs of neural methods")
    p.add_argument("--scaling-methods", help="methods timed at scale (default: all but best)")
    p.add_argument("--budget", type=float, help="seconds a fit may take in scaling (60)")
    p.add_argument("--throughput-rows", type=int, help="rows scored for throughput (200000)")
    p.add_argument(
        "--throughput-params",
        default="{}",
        help="detector parameters for throughput, JSON (default: the defaults)",
    )
    p.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    args = p.parse_args(argv)
    quick = args.quick
    parts = tuple(_list(args.parts) or PARTS)
    methods = _list(args.methods) or list(METHODS)
    scaling_methods = _list(args.scaling_methods) or (
        ["aedetect-default", "isolation-forest", "pca"] if quick else list(SCALING_METHODS)
    )
    for name in (*methods, *scaling_methods):
        if name not in METHODS:
            p.error(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    for part in parts:
        if part not in PARTS:
            p.error(f"unknown part {part!r}; known: {', '.join(PARTS)}")
    try:
        bench_data.select(bench_data.data_specs(bench_data.FULL), _list(args.datasets))
    except ValueError as exc:
        p.error(str(exc))
    try:
        seeds, classes, sizes = _ints(args.seeds), _ints(args.classes), _ints(args.scaling_rows)
    except ValueError:
        p.error("--seeds, --classes and --scaling-rows take comma-separated integers")
    epochs = args.epochs if args.epochs is not None else (20 if quick else None)
    if epochs is not None and epochs < 1:
        p.error("--epochs must be at least 1")
    return Settings(
        quick=quick,
        parts=parts,
        datasets=_list(args.datasets),
        methods=methods,
        seeds=seeds or ((0,) if quick else (0, 1, 2)),
        classes=classes or ((0, 1) if quick else None),
        epochs=epochs,
        threads=args.threads,
        peer_scaling=args.peer_scaling,
        scaling_rows=sizes or ((2_000, 20_000) if quick else (10_000, 100_000, 1_000_000)),
        scaling_cols=args.scaling_cols,
        scaling_epochs=args.scaling_epochs,
        scaling_methods=scaling_methods,
        budget_s=args.budget if args.budget is not None else (30.0 if quick else 60.0),
        throughput_rows=args.throughput_rows or (20_000 if quick else 200_000),
        throughput_params=json.loads(args.throughput_params),
        out_dir=args.out_dir,
        markdown=args.markdown,
        command=command_line(argv),
    )


# ------------------------------------------------------------------ machine
def pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    import torch

    from benchmarks.train_speed import cpu_name

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    info: dict[str, Any] = {
        "cpu": cpu_name(),
        "cores": cores,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_1m_before": os.getloadavg()[0],
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    for pkg in ("aedetect", "torch", "numpy", "scikit-learn", "pandas", "pyod", "mlxtend"):
        info[pkg] = pkg_version(pkg)
    return info


# ------------------------------------------------------------------ accuracy
def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return "error: " + (text[:300] + "..." if len(text) > 300 else text)


def run_one(
    method: Method, split: bench_data.Split, epochs: int | None, peer_scaling: str = "standard"
) -> dict[str, Any]:
    """Fit on the split's training rows, score its test rows; errors become a status."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    row: dict[str, Any] = {"method": method.name, "status": "ok", "note": ""}
    try:
        if method.inputs == "numeric":
            X_train, X_test = split.numeric(peer_scaling == "standard")
        else:
            X_train, X_test = split.raw_train, split.raw_test
        ctx = Context(split.seed, split.data_type, split.sequence_columns, epochs, split.dataset)
        start = time.perf_counter()
        score = method.fit(X_train, ctx)
        row["fit_s"] = time.perf_counter() - start
        start = time.perf_counter()
        scores = np.asarray(score(X_test), dtype=np.float64)
        row["score_s"] = time.perf_counter() - start
        if not np.isfinite(scores).all():
            row["note"] = f"{int((~np.isfinite(scores)).sum())} non-finite scores set to max"
            top = np.nanmax(np.where(np.isfinite(scores), scores, np.nan))
            scores = np.where(np.isfinite(scores), scores, top + 1.0)
        row["auroc"] = float(roc_auc_score(split.y_test, scores))
        row["ap"] = float(average_precision_score(split.y_test, scores))
        row["fit_rows_per_s"] = len(X_train) / row["fit_s"]
    except Exception as exc:  # one failing method must not end the run
        row["status"] = _error(exc)
        logging.getLogger("benchmarks").debug(traceback.format_exc())
    return row


def run_accuracy(settings: Settings) -> list[dict[str, Any]]:
    sizes = bench_data.QUICK if settings.quick else bench_data.FULL
    specs = bench_data.select(bench_data.data_specs(sizes), settings.datasets)
    methods = []
    for name in settings.methods:
        m = METHODS[name]
        if m.missing():
            settings.notes.append(f"{name}: skipped, {', '.join(m.missing())} not installed")
            log(f"skipping {name}: {', '.join(m.missing())} not installed")
        else:
            methods.append(m)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        if spec.missing():
            settings.notes.append(
                f"{spec.name}: skipped, {', '.join(spec.missing())} not installed"
            )
            log(f"skipping {spec.name}: {', '.join(spec.missing())} not installed")
            continue
        base = {"dataset": spec.name, "data_type": spec.data_type, "protocol": spec.protocol}
        try:
            splits = list(spec.splits(settings.seeds, settings.classes))
        except Exception as exc:
            log(f"{spec.name}: could not load ({_error(exc)})")
            rows.extend({**base, "method": m.name, "status": _error(exc)} for m in methods)
            continue
        for i, split in enumerate(splits, 1):
            info = {
                **base,
                "group": split.group,
                "seed": split.seed,
                "n_train": len(split.raw_train),
                "n_test": len(split.y_test),
                "n_anomalies_test": int(split.y_test.sum()),
            }
            done: dict[str, dict[str, Any]] = {}  # aedetect settings already run on this split
            for m in methods:
                key = _aedetect_key(m, split, settings.epochs)
                if key is not None and key in done:
                    row = {
                        **done[key],
                        "method": m.name,
                        "note": f"same settings as {done[key]['method']}",
                    }
                else:
                    row = run_one(m, split, settings.epochs, settings.peer_scaling)
                    if key is not None:
                        done[key] = row
                rows.append({**info, **row})
                auc = f"AUROC {row['auroc']:.3f} fit {row['fit_s']:.2f}s" if "auroc" in row else ""
                log(
                    f"[{spec.name} {i}/{len(splits)} group {split.group} seed {split.seed}] "
                    f"{m.name}: {auc or row['status']}"
                )
    return rows


def _aedetect_key(method: Method, split: bench_data.Split, epochs: int | None) -> str | None:
    if method.name not in AEDETECT_METHODS or method.params is None:
        return None
    ctx = Context(split.seed, split.data_type, split.sequence_columns, epochs, split.dataset)
    return repr(sorted(method.params(ctx).items()))


# ------------------------------------------------------------------ speed
def run_speed(settings: Settings) -> dict[str, Any] | None:
    """``benchmarks/train_speed.py``: quick settings in quick mode, 3 repeats otherwise."""
    from benchmarks import train_speed

    argv = ["--quick"] if settings.quick else ["--repeats", "3"]
    try:
        result = train_speed.main(argv)
    except SystemExit as exc:  # train_speed exits when mlxtend is missing
        settings.notes.append(f"speed: skipped ({exc})")
        return None
    except Exception as exc:
        settings.notes.append(f"speed: {_error(exc)}")
        return None
    result["command"] = f".venv/bin/python benchmarks/train_speed.py {' '.join(argv)}"
    result["conv"] = run_conv(settings)
    return result


def run_conv(settings: Settings) -> list[dict[str, Any]]:
    """``benchmarks/conv_speed.py`` on both conv presets: aedetect against a plain loop."""
    from benchmarks import conv_speed

    n, epochs, repeats = (500, 1, 1) if settings.quick else (None, 2, 3)
    out = []
    for preset in ("conv-mnist", "conv-keras"):
        try:
            out.append(conv_speed.compare(preset, n, epochs, repeats))
        except Exception as exc:
            settings.notes.append(f"conv speed {preset}: {_error(exc)}")
    return out


# ------------------------------------------------------------------ throughput
def run_throughput(settings: Settings, repeats: int = 7) -> dict[str, Any] | None:
    """aedetect decision_function vs a bare forward of ``module_`` on pre-encoded tensors.

    Every timed call runs ``repeats`` times after a warm-up, the calls interleaved
    (a burst of other load hits all of them alike); the best time of each counts,
    in wall time and in CPU time of this process. ``ratio_median`` is the median
    over rounds of each round's own ratio: steadier on a busy machine.
    """
    import torch

    from aedetect import AutoencoderDetector
    from aedetect.data.encoding import as_frame
    from aedetect.fastpath import ChunkForward, chunk_rows
    from aedetect.runtime import compute

    n, cols = settings.throughput_rows, settings.scaling_cols
    try:
        X, _ = _throughput_rows(n, cols)
        params = {"epochs": 2, "random_state": 0, **settings.throughput_params}
        det = AutoencoderDetector(**params).fit(X[: min(n, 10_000)])
        encoded = torch.from_numpy(det.encoder_.transform(as_frame(X)))
        module = det.module_.eval()
        chunk = chunk_rows(cols)

        def bare(rows: int) -> None:
            with torch.inference_mode():
                for start in range(0, n, rows):
                    module(encoded[start : start + rows])

        def own_forward() -> None:
            # The fast path's forward alone (the dense layers in reused buffers,
            # activations in place): what its overhead is measured against.
            forward = ChunkForward(module, chunk)
            with torch.inference_mode():
                for start in range(0, n, chunk):
                    forward(encoded[start : start + chunk])

        def general() -> None:
            # The general path (a table with categories takes it; all tables did before
            # issue 19's scoring work): the encoder's transform, then the scorer.
            Xt = torch.from_numpy(det.encoder_.transform(as_frame(X)))
            with compute():
                det.scorer_.score(det.module_, Xt)

        # The fastest of one call on all rows, 8,192-row chunks (the general path's)
        # and the fast path's own chunks: the baseline is the network at its best.
        calls = {
            "aedetect": lambda: det.decision_function(X),
            "general": general,
            "bare_whole": lambda: bare(n),
            "bare_chunked": lambda: bare(8192),
            "bare_scoring_chunk": lambda: bare(chunk),
            "own_forward": own_forward,
        }
        wall, cpu, rounds = _best_times(calls, repeats)
    except Exception as exc:
        settings.notes.append(f"throughput: {_error(exc)}")
        return None
    built = tuple(det.spec_.hidden)  # as built (a numeric table gets the wide default)
    members = "" if det.spec_.members == 1 else f"{det.spec_.members} x "
    bare_keys = ("bare_whole", "bare_chunked", "bare_scoring_chunk")
    bare_s, bare_cpu_s = min(wall[k] for k in bare_keys), min(cpu[k] for k in bare_keys)
    per_round = [r["aedetect"] / min(r[k] for k in bare_keys) for r in rounds]
    return {
        "rows": n,
        "cols": cols,
        "network": members + "-".join(str(w) for w in (cols, *built, *built[-2::-1], cols)),
        "aedetect_s": wall["aedetect"],
        "bare_s": bare_s,
        "bare_whole_s": wall["bare_whole"],
        "bare_chunked_s": wall["bare_chunked"],
        "bare_scoring_chunk_s": wall["bare_scoring_chunk"],
        "scoring_chunk": chunk,
        "general_s": wall["general"],
        "own_forward_s": wall["own_forward"],
        "aedetect_rows_per_s": n / wall["aedetect"],
        "bare_rows_per_s": n / bare_s,
        "ratio": wall["aedetect"] / bare_s,
        "ratio_median": float(np.median(per_round)),
        "rounds": repeats,
        "ratio_general": wall["general"] / bare_s,
        "ratio_own_forward": wall["aedetect"] / wall["own_forward"],
        "aedetect_cpu_s": cpu["aedetect"],
        "bare_cpu_s": bare_cpu_s,
        "ratio_cpu": cpu["aedetect"] / bare_cpu_s,
        "ratio_own_forward_cpu": cpu["aedetect"] / cpu["own_forward"],
        "torch_threads": torch.get_num_threads(),
    }


def _throughput_rows(n: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """The throughput rows: ``make_synthetic('global')`` arrays, float32."""
    from aedetect.data.synthetic import synthetic_arrays

    X, y = synthetic_arrays("global", n_rows=n, n_anomalies=n // 100, dim=cols, seed=0)
    return X.astype(np.float32), y


def _best_times(
    calls: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, float], dict[str, float], list[dict[str, float]]]:
    """Best wall and CPU seconds of each call, and each round's wall seconds.

    A warm-up, then ``repeats`` rounds, each timing every call once.
    """
    for call in calls.values():
        call()
    wall = {name: float("inf") for name in calls}
    cpu = dict(wall)
    rounds = []
    for _ in range(repeats):
        this = {}
        for name, call in calls.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            this[name] = time.perf_counter() - start
            wall[name] = min(wall[name], this[name])
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
        rounds.append(this)
    return wall, cpu, rounds


# ------------------------------------------------------------------ scaling
def run_scaling(settings: Settings) -> list[dict[str, Any]]:
    """One fresh process per (method, rows); past the budget, larger sizes are skipped."""
    rows: list[dict[str, Any]] = []
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    tmp = tempfile.TemporaryDirectory(prefix="aedetect-scaling-")
    tables: dict[int, Path] = {}
    for name in settings.scaling_methods:
        method = METHODS[name]
        if method.missing():
            settings.notes.append(f"scaling {name}: skipped, {', '.join(method.missing())} missing")
            continue
        failed_at: str | None = None
        for n in settings.scaling_rows:
            base = {"method": name, "rows": n, "cols": settings.scaling_cols}
            if failed_at is not None:
                rows.append({**base, "status": f"skipped: {failed_at}"})
                continue
            if n not in tables:
                from benchmarks.scaling import make_table

                tables[n] = Path(tmp.name) / f"table-{n}.npy"
                np.save(tables[n], make_table(n, settings.scaling_cols))
            log(f"scaling {name} {n:,} rows ...")
            row = _scaling_child(settings, name, n, env, tables[n])
            rows.append({**base, **row})
            if row["status"] != "ok":
                failed_at = f"{row['status']} at {n:,} rows"
            log(f"scaling {name} {n:,} rows: {row['status']} {row.get('fit_s', '')}")
    tmp.cleanup()
    return rows


def _scaling_child(
    settings: Settings, name: str, n: int, env: dict[str, str], data: Path
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.scaling",
        "--method",
        name,
        "--rows",
        str(n),
        "--cols",
        str(settings.scaling_cols),
        "--epochs",
        str(settings.scaling_epochs),
        "--budget",
        str(settings.budget_s),
        "--data",
        str(data),
    ]
    if settings.threads is not None:
        cmd += ["--threads", str(settings.threads)]
    # The child ends itself past the budget; this limit only guards against a hang
    # elsewhere (imports, making the data, scoring).
    limit = 2 * settings.budget_s + 120 + n / 5_000
    dnf = {"status": f"did not finish in {settings.budget_s:g} s"}
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=limit, env=env, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return dnf
    if done.returncode == -signal.SIGALRM:
        return dnf
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit {done.returncode}"]
        return {"status": "error: " + lines[-1][:300]}
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"status": "error: no result printed"}
    result.pop("method", None)
    if result["fit_s"] > settings.budget_s:
        return {**result, "status": f"did not finish in {settings.budget_s:g} s"}
    return {**result, "status": "ok"}


# ------------------------------------------------------------------ main
def _separate_part(argv: list[str]) -> str | None:
    """The part ``--parts`` names that runs on its own with options of its own, if any.

    ``adbench`` (ADBench's tables: ``benchmarks/adbench.py``) and ``nab`` (the
    Numenta Anomaly Benchmark: ``benchmarks/nab.py``).
    """
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--parts=") else None
        if arg == "--parts" and i + 1 < len(argv):
            value = argv[i + 1]
        for part in ("adbench", "nab", "startup", "explain"):
            if value is not None and part in (_list(value) or []):
                return part
    return None


def _without_parts(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--parts":
            skip = True
        elif not arg.startswith("--parts="):
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> Any:
    from benchmarks import report

    argv = list(sys.argv[1:] if argv is None else argv)
    part = _separate_part(argv)
    if part == "adbench":  # settings, seeds and sets of its own
        from benchmarks import adbench

        return adbench.main(argv)
    if part == "nab":  # designs and files of its own
        from benchmarks import nab

        return nab.main(_without_parts(argv))
    if part == "startup":  # the light commands' start-up
        from benchmarks import startup

        return startup.main(argv)
    if part == "explain":  # the corrupted column named first (issue 15)
        from benchmarks import explain

        return explain.main(_without_parts(argv))
    settings = parse_args(argv)
    limits = None
    if settings.threads is not None:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(settings.threads)
        limits = threadpool_limits(settings.threads)  # numpy's and scikit-learn's BLAS
    logging.getLogger("aedetect").setLevel(logging.ERROR)  # constant-pixel warnings
    started = time.perf_counter()
    machine = machine_info()
    if machine["load_avg_1m_before"] > 0.5:
        log(
            f"WARNING: 1-minute load average {machine['load_avg_1m_before']:.2f} before the run: "
            "timings are distorted by other processes"
        )
    result: dict[str, Any] = {"machine": machine, "settings": settings}
    result["accuracy"] = run_accuracy(settings) if "accuracy" in settings.parts else []
    result["speed"] = run_speed(settings) if "speed" in settings.parts else None
    # The speed part's table has the scoring ratio too.
    wants_throughput = {"throughput", "speed"} & set(settings.parts)
    result["throughput"] = run_throughput(settings) if wants_throughput else None
    if result["speed"] is not None:
        print("\n".join(report.speed_table(result)))
    result["scaling"] = run_scaling(settings) if "scaling" in settings.parts else []
    machine["load_avg_1m_after"] = os.getloadavg()[0]
    result["wall_s"] = time.perf_counter() - started
    written = report.write_all(result)
    if limits is not None:
        limits.restore_original_limits()
    log(f"done in {result['wall_s']:.0f} s; wrote {', '.join(str(p) for p in written)}")
    return result


__all__ = ["BEST_PER_DATA_TYPE", "main"]
