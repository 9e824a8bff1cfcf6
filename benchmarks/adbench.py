"""ADBench's classical tables: aedetect's defaults against six peers, two settings.

ADBench's protocol (Han et al., 2022): a set with more than 10,000 rows is
subsampled to 10,000, stratified on the label; each seed makes a stratified 70/30
split; AUROC and average precision are measured on the 30%. Two settings:

- ``unsup``: fit on every training row, anomalies included (labels hidden);
- ``oneclass``: fit on the training rows labelled normal.

The test rows are the same in both settings. Peers get the training rows
standardised (scikit-learn's ``StandardScaler`` fitted on the rows they train on);
aedetect gets the raw table, as a user would give it. F1 and precision are measured
at each method's default flags: ``predict`` for aedetect, PyOD's ``predict``
(contamination 0.1: the 90% quantile of the training scores) for the PyOD models,
and the same 90%-quantile rule for the scikit-learn ones. A method that fails on a
set is recorded with its error (``status``), never dropped.

Run from the repository root::

    .venv/bin/python -m benchmarks --parts adbench                       # 20 sets, 3 seeds, both
    .venv/bin/python -m benchmarks --parts adbench --sets cardio,wilt --seeds 0 --settings unsup

The data come from ``aedetect.data.adbench`` (downloaded once, cached); the cache
is first filled from ``../shared/data/adbench`` or ``$ADBENCH_DIR`` when present.
Writes ``benchmarks/results/adbench_runs.csv`` (one row per set, seed, setting and
method), ``adbench_summary.csv``, ``adbench_sets.csv``, ``adbench_winloss.png`` and
a Markdown block in BENCHMARKS.md between ``<!-- benchmarks:adbench start -->`` and
``<!-- benchmarks:adbench end -->``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("unsup", "oneclass")
MAX_ROWS = 10_000
TEST_SIZE = 0.3
PEER_CONTAMINATION = 0.1
START = "<!-- benchmarks:adbench start -->"
END = "<!-- benchmarks:adbench end -->"
LOCAL_COPIES = (ROOT.parent / "shared" / "data" / "adbench",)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ data
@dataclass(frozen=True)
class Split:
    """One set, seed and setting: rows to fit on, test rows and their labels."""

    dataset: str
    seed: int
    setting: str
    X_fit: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    y_fit: np.ndarray  # labels of the fitting rows: never shown to a method

    def scaled(self) -> tuple[np.ndarray, np.ndarray]:
        """Both parts standardised on the fitting rows (what peers get)."""
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(self.X_fit)
        return scaler.transform(self.X_fit), scaler.transform(self.X_test)


def fill_cache_from_local() -> None:
    """Fill the ADBench cache from a local copy when there is one (no network)."""
    from aedetect.data.adbench import fill_cache

    folders = [Path(p) for p in (os.environ.get("ADBENCH_DIR"),) if p] + list(LOCAL_COPIES)
    for folder in folders:
        if folder.is_dir():
            fill_cache(folder)


def make_split(name: str, X: np.ndarray, y: np.ndarray, seed: int, setting: str) -> Split:
    """ADBench's protocol: stratified subsample to 10,000 rows, stratified 70/30 split."""
    from sklearn.model_selection import train_test_split

    if len(X) > MAX_ROWS:
        X, _, y, _ = train_test_split(X, y, train_size=MAX_ROWS, stratify=y, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=seed
    )
    if setting == "oneclass":
        X_train, y_train = X_train[y_train == 0], y_train[y_train == 0]
    elif setting != "unsup":
        raise ValueError(f"unknown setting {setting!r}; known: {', '.join(SETTINGS)}")
    return Split(name, seed, setting, X_train, X_test, y_test, y_train)


def splits(sets: list[str], seeds: tuple[int, ...], settings: tuple[str, ...]) -> Any:
    """Yield every split, loading each set once."""
    from aedetect.data.adbench import load_adbench_arrays

    for name in sets:
        X, y = load_adbench_arrays(name)
        for seed in seeds:
            for setting in settings:
                yield make_split(name, X, y, seed, setting)


# ------------------------------------------------------------------ methods
@dataclass(frozen=True)
class Fitted:
    """What a fitted method gives: scores (higher = more anomalous) and 0/1 flags."""

    score: Callable[[np.ndarray], np.ndarray]
    flags: Callable[[np.ndarray], np.ndarray]


def quantile_flags(
    score: Callable[[np.ndarray], np.ndarray], X_fit: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """PyOD's default flags for a method without ``predict``: above the 90% training quantile."""
    cut = float(np.quantile(score(X_fit), 1.0 - PEER_CONTAMINATION))
    return lambda T: (score(T) > cut).astype(int)


def fit_aedetect(X: np.ndarray, seed: int, **params: Any) -> Fitted:
    from aedetect import AutoencoderDetector

    det = AutoencoderDetector(random_state=seed, **params).fit(X)
    return Fitted(det.decision_function, det.predict)


def _pyod(module: str, cls: str, deep: bool = False) -> Callable[[np.ndarray, int], Fitted]:
    def fit(X: np.ndarray, seed: int) -> Fitted:
        import importlib

        kwargs: dict[str, Any] = {"random_state": seed, "verbose": 0} if deep else {}
        model = getattr(importlib.import_module(module), cls)(**kwargs).fit(X)
        return Fitted(model.decision_function, model.predict)

    return fit


def _sklearn(fit_fn: Callable[[np.ndarray, Any], Any]) -> Callable[[np.ndarray, int], Fitted]:
    def fit(X: np.ndarray, seed: int) -> Fitted:
        from benchmarks.methods import Context

        score = fit_fn(X, Context(seed))
        return Fitted(score, quantile_flags(score, X))

    return fit


def _aedetect_fit(params: dict[str, Any]) -> Callable[[np.ndarray, int], Fitted]:
    return lambda X, seed: fit_aedetect(X, seed, **params)


def peer_methods() -> dict[str, tuple[str, Callable[[np.ndarray, int], Fitted], str]]:
    """name -> (label, fit, inputs) for the six peers; inputs is ``scaled``."""
    from benchmarks import methods

    return {
        "pyod-ae": (
            "PyOD AutoEncoder",
            _pyod("pyod.models.auto_encoder", "AutoEncoder", True),
            "scaled",
        ),
        "isolation-forest": ("IForest", _sklearn(methods.isolation_forest), "scaled"),
        "pyod-knn": ("KNN", _pyod("pyod.models.knn", "KNN"), "scaled"),
        "pyod-ecod": ("ECOD", _pyod("pyod.models.ecod", "ECOD"), "scaled"),
        "pca": ("PCA", _sklearn(methods.pca_reconstruction), "scaled"),
        "ocsvm": ("OC-SVM", _sklearn(methods.one_class_svm), "scaled"),
    }


METHOD_LABELS = {"aedetect": "aedetect", **{k: v[0] for k, v in peer_methods().items()}}
ALL_METHODS = tuple(METHOD_LABELS)


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return "error: " + (text[:300] + "..." if len(text) > 300 else text)


def evaluate(
    split: Split, fit: Callable[[np.ndarray, int], Fitted], scaled: bool
) -> dict[str, Any]:
    """Fit on the split's fitting rows; AUROC, AP, F1 and precision on its test rows."""
    from sklearn.metrics import average_precision_score, f1_score, precision_score, roc_auc_score

    row: dict[str, Any] = {"status": "ok"}
    try:
        X_fit, X_test = split.scaled() if scaled else (split.X_fit, split.X_test)
        start = time.perf_counter()
        fitted = fit(X_fit, split.seed)
        row["fit_s"] = time.perf_counter() - start
        scores = np.asarray(fitted.score(X_test), dtype=np.float64)
        if not np.isfinite(scores).all():
            raise ValueError(f"{int((~np.isfinite(scores)).sum())} non-finite scores")
        flags = np.asarray(fitted.flags(X_test)).astype(int)
        row["auroc"] = float(roc_auc_score(split.y_test, scores))
        row["ap"] = float(average_precision_score(split.y_test, scores))
        row["f1"] = float(f1_score(split.y_test, flags, zero_division=0))
        row["precision"] = float(precision_score(split.y_test, flags, zero_division=0))
        row["flagged"] = float(flags.mean())
    except Exception as exc:  # a failing method is a result, not the end of the run
        row["status"] = _error(exc)
        if os.environ.get("ADBENCH_DEBUG"):
            traceback.print_exc()
    return row


def split_info(split: Split) -> dict[str, Any]:
    return {
        "dataset": split.dataset,
        "seed": split.seed,
        "setting": split.setting,
        "n_fit": len(split.X_fit),
        "n_test": len(split.y_test),
        "n_features": split.X_fit.shape[1],
        "test_anomaly_rate": float(split.y_test.mean()),
    }


# ------------------------------------------------------------------ summaries
def ranks(runs: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Per (set, setting) mean over seeds, then rank of each method (1 = best).

    A failed method (no value) ranks last on that set.
    """
    ok = runs[runs["status"] == "ok"]
    per_set = ok.groupby(["setting", "dataset", "method"])[metric].mean().unstack("method")
    all_sets = runs.groupby(["setting", "dataset"]).size().index
    per_set = per_set.reindex(all_sets)
    methods = sorted(runs["method"].unique())
    per_set = per_set.reindex(columns=methods)
    filled = per_set.fillna(-np.inf)
    return filled.rank(axis=1, ascending=False, method="average")


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean AUROC, AP, F1, precision, rank and fit seconds per setting and method.

    Means are over the sets each method finished (per-set means over seeds first);
    ``failed`` counts the (set, seed) runs that failed.
    """
    rank = ranks(runs).stack().rename("rank").reset_index()
    ok = runs[runs["status"] == "ok"]
    metrics = ["auroc", "ap", "f1", "precision", "fit_s"]
    per_set = ok.groupby(["setting", "dataset", "method"])[metrics].mean().reset_index()
    summary = per_set.groupby(["setting", "method"])[metrics].mean()
    summary["rank"] = rank.groupby(["setting", "method"])["rank"].mean()
    summary["sets"] = per_set.groupby(["setting", "method"]).size()
    summary["failed"] = (runs["status"] != "ok").groupby([runs["setting"], runs["method"]]).sum()
    return summary.reset_index().sort_values(["setting", "auroc"], ascending=[True, False])


def per_set_table(runs: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Rows (setting, set), columns methods: mean over seeds; NaN where a method failed."""
    ok = runs[runs["status"] == "ok"]
    table = ok.groupby(["setting", "dataset", "method"])[metric].mean().unstack("method")
    return table.reindex(runs.groupby(["setting", "dataset"]).size().index)


def losses(runs: pd.DataFrame, method: str = "aedetect", margin: float = 0.10) -> pd.DataFrame:
    """Sets where ``method``'s AUROC is more than ``margin`` below the best other method's."""
    table = per_set_table(runs)
    others = table.drop(columns=[method])
    out = pd.DataFrame(
        {
            method: table[method],
            "best_peer": others.idxmax(axis=1),
            "best_auroc": others.max(axis=1),
        }
    )
    out["gap"] = out["best_auroc"] - out[method]
    return out[out["gap"] > margin].reset_index()


# ------------------------------------------------------------------ figure
def plot_winloss(runs: pd.DataFrame, path: Path, method: str = "aedetect") -> Path | None:
    """Per set, ``method``'s AUROC minus the best peer's, one panel per setting."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    table = per_set_table(runs)
    settings = [s for s in SETTINGS if s in table.index.get_level_values(0)]
    fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 6), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        part = table.loc[setting]
        gap = (part[method] - part.drop(columns=[method]).max(axis=1)).sort_values()
        colours = ["#2a7" if g >= 0 else "#c33" for g in gap]
        ax.barh(list(gap.index), gap.values, color=colours)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"{setting}: {method} AUROC - best peer's")
        ax.set_xlabel("AUROC difference (right = aedetect wins)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# ------------------------------------------------------------------ markdown
def _f(value: Any, digits: int = 3) -> str:
    return (
        "failed"
        if value is None or (isinstance(value, float) and np.isnan(value))
        else f"{value:.{digits}f}"
    )


def markdown_block(runs: pd.DataFrame, meta: dict[str, Any], figure: str | None) -> str:
    summary = summarise(runs)
    lines = [
        START,
        "## ADBench classical tables (`python -m benchmarks --parts adbench`)",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} ({meta['wall_s']:.0f} s; "
        f"{meta['cores']} cores, load {meta['load']:.2f} before the run). Sets: "
        f"{', '.join(meta['sets'])}; seeds {', '.join(map(str, meta['seeds']))}. Protocol: "
        "ADBench's (rows over 10,000 subsampled to 10,000 stratified; stratified 70/30 split "
        "per seed; AUROC and average precision on the 30%). `unsup`: fit on every training "
        "row, anomalies included; `oneclass`: fit on the training rows labelled normal. Peers "
        "at their defaults on standardised input; aedetect at its defaults on the raw table. "
        "F1 and precision at each method's default flags (aedetect `predict`; peers: PyOD's "
        "contamination 0.1). Rank: per set (mean over seeds), 1 = best, failed = last.",
        "",
    ]
    for setting in SETTINGS:
        part = summary[summary["setting"] == setting]
        if part.empty:
            continue
        lines += [
            f"### {setting}",
            "",
            "| method | mean AUROC | mean AP | mean rank | mean F1 | mean precision "
            "| fit s | failed |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for _, r in part.iterrows():
            lines.append(
                f"| {METHOD_LABELS.get(r['method'], r['method'])} | {_f(r['auroc'])} | "
                f"{_f(r['ap'])} | {_f(r['rank'], 2)} | {_f(r['f1'])} | {_f(r['precision'])} | "
                f"{_f(r['fit_s'], 2)} | {int(r['failed'])} |"
            )
        lines.append("")
    table = per_set_table(runs)
    methods = [m for m in ALL_METHODS if m in table.columns]
    lines += [
        "### AUROC per set (mean over seeds)",
        "",
        "| setting | set | " + " | ".join(METHOD_LABELS.get(m, m) for m in methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for (setting, name), r in table.iterrows():
        best = r[methods].max()
        cells = [f"**{_f(r[m])}**" if r[m] == best else _f(r[m]) for m in methods]
        lines.append(f"| {setting} | {name} | " + " | ".join(cells) + " |")
    lines.append("")
    if "aedetect" in table.columns:
        lost = losses(runs)
        lines += ["### aedetect's losses of more than 0.10 AUROC to the best peer", ""]
        if lost.empty:
            lines.append("None.")
        for _, r in lost.iterrows():
            lines.append(
                f"- {r['setting']} {r['dataset']}: {_f(r['aedetect'])} against "
                f"{METHOD_LABELS.get(r['best_peer'], r['best_peer'])} {_f(r['best_auroc'])}"
            )
        lines.append("")
    if figure:
        lines += [f"![aedetect against the best peer, per set]({figure})", ""]
    failed = runs[runs["status"] != "ok"]
    if not failed.empty:
        lines += ["Failures:", ""]
        for (name, method), grp in failed.groupby(["dataset", "method"]):
            lines.append(f"- {name} / {method} ({len(grp)} runs): {grp['status'].iloc[0]}")
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ run
def run(
    sets: list[str],
    seeds: tuple[int, ...],
    settings: tuple[str, ...],
    methods: tuple[str, ...],
    aedetect_params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every method on every split; one row each."""
    peers = peer_methods()
    rows: list[dict[str, Any]] = []
    for split in splits(sets, seeds, settings):
        info = split_info(split)
        for name in methods:
            if name == "aedetect":
                row = evaluate(split, _aedetect_fit(aedetect_params or {}), scaled=False)
            else:
                row = evaluate(split, peers[name][1], scaled=True)
            rows.append({**info, "method": name, **row})
            shown = (
                f"AUROC {row['auroc']:.3f} fit {row['fit_s']:.1f}s"
                if "auroc" in row
                else row["status"]
            )
            log(f"[{split.dataset} seed {split.seed} {split.setting}] {name}: {shown}")
    return rows


def parse_args(argv: list[str]) -> argparse.Namespace:
    from aedetect.data.adbench import adbench_names

    p = argparse.ArgumentParser(
        prog="python -m benchmarks --parts adbench", description=__doc__.splitlines()[0]
    )
    p.add_argument("--parts", default="adbench")
    p.add_argument(
        "--sets",
        help="comma-separated short names: the 20 with checksums (default) or any of ADBench's 47",
    )
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--settings", default=",".join(SETTINGS))
    p.add_argument("--methods", default=",".join(ALL_METHODS))
    p.add_argument("--threads", type=int, help="torch and BLAS threads")
    p.add_argument(
        "--aedetect-params",
        type=json.loads,
        default={},
        help="JSON of AutoencoderDetector parameters for an ablation, e.g. '{\"trim\": 0.1}'",
    )
    p.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    p.add_argument("--no-markdown", action="store_true", help="write the CSV files only")
    args = p.parse_args(argv)
    if args.parts != "adbench":
        p.error("--parts adbench runs on its own; run the other parts separately")
    known = adbench_names(every=True)
    args.sets = (
        [s.strip().lower() for s in args.sets.split(",")] if args.sets else list(adbench_names())
    )
    for s in args.sets:
        if s not in known:
            p.error(f"unknown set {s!r}; known: {', '.join(known)}")
    args.settings = tuple(s.strip() for s in args.settings.split(","))
    for s in args.settings:
        if s not in SETTINGS:
            p.error(f"unknown setting {s!r}; known: {', '.join(SETTINGS)}")
    args.methods = tuple(m.strip() for m in args.methods.split(","))
    for m in args.methods:
        if m not in ALL_METHODS:
            p.error(f"unknown method {m!r}; known: {', '.join(ALL_METHODS)}")
    try:
        args.seeds = tuple(int(s) for s in args.seeds.split(","))
    except ValueError:
        p.error("--seeds takes comma-separated integers")
    return args


def write_outputs(
    runs: pd.DataFrame, out: Path, meta: dict[str, Any], markdown: Path | None
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("adbench_runs.csv", runs),
        ("adbench_summary.csv", summarise(runs)),
        ("adbench_sets.csv", per_set_table(runs).reset_index()),
    ):
        frame.to_csv(out / name, index=False)
        written.append(out / name)
    fig = None
    if "aedetect" in set(runs["method"]) and runs["method"].nunique() > 1:
        fig = plot_winloss(runs, out / "adbench_winloss.png")
        if fig is not None:
            written.append(fig)
    if markdown is not None:
        rel = os.path.relpath(fig, markdown.parent) if fig is not None else None
        from benchmarks.report import replace_block

        replace_block(markdown, markdown_block(runs, meta, rel), (START, END))
        written.append(markdown)
    return written


def main(argv: list[str] | None = None) -> pd.DataFrame:
    from datetime import UTC, datetime

    from benchmarks.run import command_line

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.threads is not None:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    import logging

    logging.getLogger("aedetect").setLevel(logging.ERROR)
    fill_cache_from_local()
    meta = {
        "command": command_line(argv),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "load": os.getloadavg()[0],
        "sets": args.sets,
        "seeds": args.seeds,
    }
    started = time.perf_counter()
    runs = pd.DataFrame(
        run(args.sets, args.seeds, args.settings, args.methods, args.aedetect_params)
    )
    meta["wall_s"] = time.perf_counter() - started
    written = write_outputs(runs, args.out_dir, meta, None if args.no_markdown else args.markdown)
    log(f"done in {meta['wall_s']:.0f} s; wrote {', '.join(str(p) for p in written)}")
    return runs
