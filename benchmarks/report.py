"""Turn a benchmark run into CSV files, PNG figures and a Markdown block in BENCHMARKS.md."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import bench_data
from benchmarks.methods import AEDETECT_METHODS, METHODS

START = "<!-- benchmarks:run start -->"
END = "<!-- benchmarks:run end -->"
# Targets of issue 8.
TARGET_THROUGHPUT_RATIO = 1.2  # issue 19: scoring within 1.2x of a bare forward pass
TARGET_MEMORY_MB = 8 * 1024  # "fits easily in 24 GiB": at most a third of it
TARGET_MEMORY_ROWS = 1_000_000


# ------------------------------------------------------------------ tables of numbers
def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (data set, method): mean and sd over seeds of the per-seed mean over classes."""
    cols = [
        "dataset",
        "method",
        "n_ok",
        "n_failed",
        "auroc_mean",
        "auroc_sd",
        "ap_mean",
        "ap_sd",
        "fit_s_mean",
        "score_s_mean",
        "fit_rows_per_s_mean",
    ]
    if runs.empty or "auroc" not in runs:
        return pd.DataFrame(columns=cols)
    out = []
    for (dataset, method), g in runs.groupby(["dataset", "method"], sort=False):
        ok = g[g["status"] == "ok"]
        rec: dict[str, Any] = {
            "dataset": dataset,
            "method": method,
            "n_ok": len(ok),
            "n_failed": len(g) - len(ok),
        }
        if len(ok):
            per_seed = ok.groupby("seed")[["auroc", "ap"]].mean()
            ddof = 1 if len(per_seed) > 1 else 0
            rec.update(
                auroc_mean=per_seed["auroc"].mean(),
                auroc_sd=per_seed["auroc"].std(ddof=ddof),
                ap_mean=per_seed["ap"].mean(),
                ap_sd=per_seed["ap"].std(ddof=ddof),
                fit_s_mean=ok["fit_s"].mean(),
                score_s_mean=ok["score_s"].mean(),
                fit_rows_per_s_mean=ok["fit_rows_per_s"].mean(),
            )
        out.append(rec)
    return pd.DataFrame(out, columns=cols)


def mean_auroc_comparison(summary: pd.DataFrame, method: str) -> list[dict[str, Any]]:
    """``method`` against every other non-aedetect method, on the data sets both finished."""
    ok = summary.dropna(subset=["auroc_mean"])
    mine = ok[ok["method"] == method].set_index("dataset")["auroc_mean"]
    out = []
    for peer in ok["method"].unique():
        if peer in AEDETECT_METHODS:
            continue
        theirs = ok[ok["method"] == peer].set_index("dataset")["auroc_mean"]
        common = mine.index.intersection(theirs.index)
        if len(common):
            out.append(
                {
                    "peer": peer,
                    "n": len(common),
                    "mine": float(mine[common].mean()),
                    "theirs": float(theirs[common].mean()),
                }
            )
    return out


def targets(result: dict[str, Any], summary: pd.DataFrame) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    speed = result.get("speed")
    if speed is not None:
        for t in speed["targets"]:
            out.append(
                {
                    "target": f"training speed: {t['target']} (train_speed.py)",
                    "measured": t["measured"],
                    "result": "PASS" if t["pass"] else "MISS",
                }
            )
    else:
        out.append(
            {
                "target": "training speed: >= 5x PyOD AutoEncoder at default batch sizes "
                "with AUROC no worse; >= 2x at equal batch size",
                "measured": "not run",
                "result": "NOT RUN",
            }
        )
    for method in AEDETECT_METHODS:
        comp = mean_auroc_comparison(summary, method)
        if not comp or method not in set(summary["method"]):
            continue
        worst = min(comp, key=lambda c: c["mine"] - c["theirs"])
        # compared as shown, to 3 decimals: a tie counts as "at least"
        beaten = [c["peer"] for c in comp if round(c["mine"], 3) < round(c["theirs"], 3)]
        ok = not beaten
        measured = (
            f"{worst['mine']:.3f} vs {worst['peer']} {worst['theirs']:.3f} "
            f"(closest or best peer, {worst['n']} data sets)"
        )
        if beaten:
            measured += f"; peers ahead: {', '.join(beaten)}"
        out.append(
            {
                "target": f"mean AUROC over all data sets, {method} >= every peer",
                "measured": measured,
                "result": "PASS" if ok else "MISS",
            }
        )
    tp = result.get("throughput")
    out.append(
        {
            "target": f"scoring throughput within {TARGET_THROUGHPUT_RATIO:g}x of a bare "
            "forward pass of the same network",
            "measured": (
                f"{tp['ratio']:.2f}x ({tp['aedetect_rows_per_s']:,.0f} vs "
                f"{tp['bare_rows_per_s']:,.0f} rows/s, {tp['rows']:,} x {tp['cols']})"
                if tp
                else "not run"
            ),
            "result": ("PASS" if tp["ratio"] <= TARGET_THROUGHPUT_RATIO else "MISS")
            if tp
            else "NOT RUN",
        }
    )
    big = [
        r
        for r in result.get("scaling", [])
        if r["method"] == "aedetect-default" and r["rows"] >= TARGET_MEMORY_ROWS
    ]
    target = (
        f"training at 1M rows fits easily in 24 GiB (peak RSS <= {TARGET_MEMORY_MB // 1024} GiB)"
    )
    if big and big[0]["status"] == "ok":
        r = big[0]
        out.append(
            {
                "target": target,
                "measured": f"{r['peak_mb'] / 1024:.2f} GiB peak RSS at {r['rows']:,} x "
                f"{r['cols']} ({r['fit_s']:.1f} s fit, {r['epochs']} epochs)",
                "result": "PASS" if r["peak_mb"] <= TARGET_MEMORY_MB else "MISS",
            }
        )
    else:
        out.append(
            {
                "target": target,
                "measured": big[0]["status"] if big else "not run at 1M rows",
                "result": "MISS" if big else "NOT RUN",
            }
        )
    return out


# ------------------------------------------------------------------ figures
def _methods_in(frame: pd.DataFrame) -> list[str]:
    present = set(frame["method"])
    return [m for m in METHODS if m in present]


def _legend_on_top(fig: Any, ax: Any, n: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    ncol = min(5, n)
    fig.legend(handles, labels, loc="upper center", ncol=ncol, fontsize=8)
    rows = -(-n // ncol)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.035 * rows))


def plot_accuracy(summary: pd.DataFrame, path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = summary.dropna(subset=["auroc_mean"])
    if data.empty:
        return None
    datasets = list(dict.fromkeys(data["dataset"]))
    methods = _methods_in(data)
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 0.9 * len(datasets) + 3), 8), sharex=True)
    x = np.arange(len(datasets))
    for ax, metric, name in zip(axes, ("auroc", "ap"), ("AUROC", "average precision"), strict=True):
        for i, m in enumerate(methods):
            d = data[data["method"] == m].set_index("dataset").reindex(datasets)
            ax.bar(
                x + (i - (len(methods) - 1) / 2) * width,
                d[f"{metric}_mean"],
                width,
                yerr=d[f"{metric}_sd"],
                label=m,
                capsize=1.5,
            )
        ax.set_ylabel(f"{name} (mean, sd over seeds)")
        low = float(np.nanmin(data[f"{metric}_mean"]))
        ax.set_ylim(max(0.0, np.floor((low - 0.05) * 10) / 10), 1.01)
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_xticks(x, datasets, rotation=45, ha="right")
    _legend_on_top(fig, axes[0], len(methods))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_times(summary: pd.DataFrame, path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = summary.dropna(subset=["fit_s_mean"])
    if data.empty:
        return None
    datasets = list(dict.fromkeys(data["dataset"]))
    methods = _methods_in(data)
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 0.9 * len(datasets) + 3), 8), sharex=True)
    x = np.arange(len(datasets))
    for ax, col, name in zip(axes, ("fit_s_mean", "score_s_mean"), ("fit", "score"), strict=True):
        for i, m in enumerate(methods):
            d = data[data["method"] == m].set_index("dataset").reindex(datasets)
            ax.bar(x + (i - (len(methods) - 1) / 2) * width, d[col], width, label=m)
        ax.set_yscale("log")
        ax.set_ylabel(f"{name} seconds per split (mean)")
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_xticks(x, datasets, rotation=45, ha="right")
    _legend_on_top(fig, axes[0], len(methods))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_scaling(scaling: pd.DataFrame, path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = scaling[scaling["status"] == "ok"] if "status" in scaling else scaling
    if ok.empty:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    for m in _methods_in(ok):
        d = ok[ok["method"] == m].sort_values("rows")
        a.plot(d["rows"], d["fit_s"], marker="o", label=m)
        b.plot(d["rows"], d["peak_mb"] / 1024, marker="o", label=m)
    a.set(xscale="log", yscale="log", xlabel="rows", ylabel="fit seconds")
    b.set(xscale="log", xlabel="rows", ylabel="peak RSS, GiB (whole process)")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ------------------------------------------------------------------ markdown
def _cell(mean: float, sd: float) -> str:
    if mean is None or not np.isfinite(mean):
        return "-"
    return f"{mean:.3f} ± {sd:.3f}"


def _metric_table(summary: pd.DataFrame, runs: pd.DataFrame, metric: str) -> list[str]:
    methods = _methods_in(summary)
    datasets = list(dict.fromkeys(summary["dataset"]))
    lines = [
        "| data set | " + " | ".join(methods) + " |",
        "|---|" + "---:|" * len(methods),
    ]
    for d in datasets:
        sub = summary[summary["dataset"] == d].set_index("method")
        values = {m: sub.at[m, f"{metric}_mean"] for m in methods if m in sub.index}
        best = max((v for v in values.values() if pd.notna(v)), default=None)
        cells = []
        for m in methods:
            if m not in sub.index:
                cells.append("-")
                continue
            row = sub.loc[m]
            if pd.isna(row[f"{metric}_mean"]):
                cells.append("error" if row["n_failed"] else "-")
                continue
            text = _cell(row[f"{metric}_mean"], row[f"{metric}_sd"])
            if best is not None and round(row[f"{metric}_mean"], 3) == round(best, 3):
                text = f"**{text}**"
            if row["n_failed"]:
                text += f" ({int(row['n_failed'])} failed)"
            cells.append(text)
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    means = {}
    for m in methods:
        sub = summary[(summary["method"] == m)].dropna(subset=[f"{metric}_mean"])
        if len(sub):
            means[m] = (float(sub[f"{metric}_mean"].mean()), len(sub))
    top = max((v for v, _ in means.values()), default=None)
    cells = []
    for m in methods:
        if m not in means:
            cells.append("-")
            continue
        value, n = means[m]
        text = f"**{value:.3f}**" if round(value, 3) == round(top, 3) else f"{value:.3f}"
        cells.append(text + ("" if n == len(datasets) else f" ({n} of {len(datasets)})"))
    lines.append("| **mean over data sets** | " + " | ".join(cells) + " |")
    return lines


def _time_table(summary: pd.DataFrame) -> list[str]:
    methods = _methods_in(summary)
    lines = [
        "| data set | " + " | ".join(methods) + " |",
        "|---|" + "---:|" * len(methods),
    ]
    for d in dict.fromkeys(summary["dataset"]):
        sub = summary[summary["dataset"] == d].set_index("method")
        cells = []
        for m in methods:
            if m in sub.index and pd.notna(sub.at[m, "fit_s_mean"]):
                cells.append(f"{sub.at[m, 'fit_s_mean']:.2f} / {sub.at[m, 'score_s_mean']:.3f}")
            else:
                cells.append("-")
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return lines


def _scaling_table(scaling: pd.DataFrame) -> list[str]:
    sizes = sorted(scaling["rows"].unique())
    head = " | ".join(f"{n:,} rows: fit s, rows/s, peak GiB" for n in sizes)
    lines = [f"| method | {head} |", "|---|" + "---|" * len(sizes)]
    for m in _methods_in(scaling):
        cells = []
        for n in sizes:
            r = scaling[(scaling["method"] == m) & (scaling["rows"] == n)]
            if r.empty:
                cells.append("-")
                continue
            r = r.iloc[0]
            if r["status"] == "ok":
                cells.append(
                    f"{r['fit_s']:.2f} s, {r['train_rows_per_s']:,.0f}/s, {r['peak_mb'] / 1024:.2f}"
                )
            else:
                cells.append(str(r["status"]))
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines


def _speed_lines(speed: dict[str, Any]) -> list[str]:
    s = speed["settings"]
    lines = [
        f"`{speed['command']}`: the 784-128-64-128-784 ReLU autoencoder on {s['rows']:,} MNIST "
        f"digits, {s['epochs']} epochs, {s['stat']} of {s['repeats']} run(s) after a warm-up "
        "(see the training-speed section above for what each number means).",
        "",
        "| configuration | fit s | rows/s (fit) | train s | rows/s (loop) |",
        "|---|---:|---:|---:|---:|",
    ]
    for t in speed["timings"].values():
        lines.append(
            f"| {t['label']} | {t['fit_s']:.3f} | {t['fit_rows_per_s']:,.0f} | "
            f"{t['train_s']:.3f} | {t['train_rows_per_s']:,.0f} |"
        )
    lines += ["", "| speed ratio | by fit | by training loop |", "|---|---:|---:|"]
    for r in speed["ratios"]:
        lines.append(f"| {r['label']} | {r['by_fit']:.2f}x | {r['by_train']:.2f}x |")
    auc = speed["auroc"]
    if "pyod_32" in auc:
        lines += [
            "",
            f"AUROC (digit 0 normal, same epochs): aedetect {auc['aedetect_256']:.4f}, "
            f"PyOD {auc['pyod_32']:.4f}.",
        ]
    return lines


def speed_table(result: dict[str, Any]) -> list[str]:
    """Every speed ratio of the run with this machine (CPU, extensions, GEMM peak) beside it."""
    from benchmarks.machine import ratio_table
    from benchmarks.train_speed import speed_rows

    speed = result["speed"]
    rows = speed_rows(speed)
    for c in speed.get("conv", []):
        rows.append(
            (
                f"conv training, {c['preset']} batch {c['batch']}: aedetect / plain PyTorch loop",
                f"{c['ratio']:.2f}x",
            )
        )
        if "fit_ratio" in c:
            rows.append(
                (
                    f"conv whole fit, {c['preset']}: plain loop's training time / aedetect's fit",
                    f"{c['fit_ratio']:.2f}x",
                )
            )
    tp = result.get("throughput")
    if tp:
        rows.append(("scoring: decision_function time / bare forward pass", f"{tp['ratio']:.2f}x"))
    return ratio_table(rows, speed["machine_table"])


def _protocol(result: dict[str, Any]) -> list[str]:
    st = result["settings"]
    sizes = bench_data.QUICK if st.quick else bench_data.FULL
    specs = bench_data.select(bench_data.data_specs(sizes), st.datasets)
    classes = "all 10" if st.classes is None else ", ".join(map(str, st.classes))
    epochs = (
        "each tool's own default (aedetect: up to 200 with early stopping; PyOD AutoEncoder 10,"
        " VAE 30)"
        if st.epochs is None
        else f"capped at {st.epochs} for every neural method"
    )
    lines = [
        f"- Seeds {', '.join(map(str, st.seeds))}: every method sees the same splits. "
        f"One-class data sets (normal classes: {classes}): train on 80% of the normal class, "
        "test on its other 20% plus 20% of every other class. Generated data sets: made with "
        "the seed, stratified 70/30 split, training rows keep their (unlabeled) anomalies.",
        f"- Epochs: {epochs}.",
        "- Inputs: aedetect gets the raw rows (pixels; DataFrames with text and sequence "
        "strings) and encodes them itself. Peers get one-hot categories and one-hot sequence "
        "positions (a category not seen in training becomes an all-zero block, "
        "`OneHotEncoder(handle_unknown='ignore')`), then "
        + (
            "every column standardised by scikit-learn's `StandardScaler` fitted on the "
            "training rows only (as PyOD's deep models do themselves). On pixels this can "
            "cost the peers AUROC (quiet pixels get inflated): `--peer-scaling none` gives "
            "them the raw values."
            if st.peer_scaling == "standard"
            else "no scaling (`--peer-scaling none`): pixels as they are, one-hot 0/1."
        ),
        "- ± is the standard deviation over seeds of the per-seed mean (over normal classes "
        "for one-class sets). The mean over data sets "
        "weighs every row of the table equally. Bold: the best of its row, to 3 decimals.",
        "- Data sets:",
    ]
    lines += [f"  - `{s.name}` ({s.data_type}, {s.protocol}): {s.description}" for s in specs]
    lines.append("- Methods:")
    lines += [f"  - `{m}`: {METHODS[m].label}, {METHODS[m].notes}" for m in st.methods]
    return lines


def markdown_block(
    result: dict[str, Any],
    summary: pd.DataFrame,
    target_rows: list[dict[str, str]],
    figures: dict[str, Path],
) -> str:
    m, st = result["machine"], result["settings"]
    md_dir = st.markdown.resolve().parent

    def fig(key: str, alt: str) -> list[str]:
        if key not in figures:
            return []
        return ["", f"![{alt}]({os.path.relpath(figures[key].resolve(), md_dir)})"]

    results = os.path.relpath(Path(st.out_dir).resolve(), md_dir)
    lines = [START, "## Side by side with the alternatives (`python -m benchmarks`)", ""]
    if st.quick:
        lines += [
            "**Quick mode**: small data and few epochs. These numbers show that the benchmark "
            "runs, not how the methods compare.",
            "",
        ]
    busy = max(m["load_avg_1m_before"], m.get("load_avg_1m_after", 0.0))
    if busy > 0.5:
        lines += [
            f"**Warning**: the 1-minute load average was {m['load_avg_1m_before']:.2f} before "
            f"and {m.get('load_avg_1m_after', float('nan')):.2f} after the run on {m['cores']} "
            "cores: other processes ran meanwhile, so times are not reliable (AUROC is).",
            "",
        ]
    lines += [
        f"- Command: `{st.command}` ({m['date_utc']}, {result['wall_s'] / 60:.1f} min)",
        f"- Machine: {m['cpu']}, {m['cores']} cores, torch threads {m['torch_threads']}; "
        f"{m['platform']}",
        f"- Versions: Python {m['python']}, aedetect {m['aedetect']}, torch {m['torch']}, "
        f"numpy {m['numpy']}, scikit-learn {m['scikit-learn']}, pandas {m['pandas']}, "
        f"pyod {m['pyod']}, mlxtend {m['mlxtend']}",
        f"- Results: `{results}/*.csv` (one row per split and method in "
        "`accuracy_runs.csv`, with the error of any failed run).",
        "",
        "### Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['measured']} | **{t['result']}** |" for t in target_rows]
    lines += ["", "### Protocol", "", *_protocol(result)]
    if not summary.empty:
        runs = pd.DataFrame(result["accuracy"])
        lines += [
            "",
            "### AUROC (mean ± sd over seeds)",
            "",
            *_metric_table(summary, runs, "auroc"),
        ]
        lines += fig("accuracy", "AUROC and average precision per data set")
        lines += ["", "### Average precision", "", *_metric_table(summary, runs, "ap")]
        lines += [
            "",
            "### Fit and score time per split (seconds, mean: fit / score)",
            "",
            "Wall time of `fit` (aedetect and PyOD also score the training rows inside it) "
            "and of scoring the test rows; peers' encoding and standardisation excluded.",
            "",
            *_time_table(summary),
        ]
        lines += fig("times", "fit and score time per data set")
    if result.get("speed"):
        lines += [
            "",
            "### Training speed against PyOD AutoEncoder",
            "",
            *_speed_lines(result["speed"]),
            "",
            "Every ratio with the machine it was measured on (GEMM: best float32 2048^3 "
            "`torch.mm`; load: 1-minute load average at the end of the training runs):",
            "",
            *speed_table(result),
        ]
    tp = result.get("throughput")
    if tp:
        lines += [
            "",
            "### Scoring throughput",
            "",
            f"{tp['rows']:,} rows x {tp['cols']} columns, network {tp['network']} (aedetect "
            f"defaults, {tp['torch_threads']} torch threads), best of {tp['rounds']} "
            "interleaved rounds "
            f"after a warm-up: `decision_function` {tp['aedetect_rows_per_s']:,.0f} rows/s "
            f"(input checks, scaling, clipping, weighted error included) vs a bare forward of "
            f"the same `module_` on the pre-encoded tensor under `torch.inference_mode()`, the "
            f"fastest of one call on all rows ({tp['bare_whole_s']:.3f} s), 8,192-row chunks "
            f"({tp['bare_chunked_s']:.3f} s) and the scoring's own {tp['scoring_chunk']:,}-row "
            f"chunks ({tp['bare_scoring_chunk_s']:.3f} s): {tp['bare_rows_per_s']:,.0f} rows/s; "
            f"ratio {tp['ratio']:.2f}x (median of the rounds' own ratios "
            f"{tp['ratio_median']:.2f}x; CPU time {tp['ratio_cpu']:.2f}x; the general path, "
            f"which tables with categories take, {tp['ratio_general']:.2f}x). Against the "
            f"fast path's own forward alone (the dense layers in reused buffers, activations "
            f"in place; {tp['own_forward_s']:.3f} s): {tp['ratio_own_forward']:.2f}x "
            f"(CPU time {tp['ratio_own_forward_cpu']:.2f}x).",
        ]
    scaling = pd.DataFrame(result.get("scaling", []))
    if not scaling.empty:
        lines += [
            "",
            "### Fit time and memory against rows",
            "",
            f"A `make_synthetic('global', dim={st.scaling_cols})` table (float32); each "
            f"(method, size) in a fresh process killed past {st.budget_s:g} s of fit (larger "
            f"sizes are then skipped). Neural methods run {st.scaling_epochs} epochs at their "
            "default batch size; rows/s = rows x epochs / fit s (rows / fit s for the others). "
            "Peak memory: the process's peak resident set size (`resource.getrusage` "
            "`ru_maxrss`), interpreter, torch and the float32 table (made beforehand by the "
            "parent, loaded from a `.npy` file) included"
            + (
                f" (after the imports, before the data: {scaling['baseline_mb'].min() / 1024:.2f}"
                " GiB)."
                if "baseline_mb" in scaling and scaling["baseline_mb"].notna().any()
                else "."
            ),
            "",
            *_scaling_table(scaling),
        ]
        lines += fig("scaling", "fit time and peak memory against rows")
    if st.notes:
        lines += ["", "### Notes", ""] + [f"- {n}" for n in st.notes]
    failed = [r for r in result["accuracy"] if r.get("status", "ok") != "ok"]
    if failed:
        lines += ["", f"{len(failed)} run(s) failed; first errors:", ""]
        seen = set()
        for r in failed:
            key = (r["dataset"], r["method"])
            if key not in seen:
                seen.add(key)
                lines.append(f"- {r['dataset']} / {r['method']}: {r['status']}")
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_block(path: Path, block: str, markers: tuple[str, str] = (START, END)) -> None:
    """Put ``block`` between the ``markers`` in ``path`` (appended when they are missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    first, last = markers
    start, end = text.find(first), text.find(last)
    if start != -1 and end > start:
        text = text[:start] + block.rstrip("\n") + text[end + len(last) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# ------------------------------------------------------------------ everything
def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_all(result: dict[str, Any]) -> list[Path]:
    st = result["settings"]
    out = Path(st.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    runs = pd.DataFrame(result["accuracy"])
    summary = summarise(runs)
    if not runs.empty:
        runs.to_csv(out / "accuracy_runs.csv", index=False)
        summary.to_csv(out / "accuracy_summary.csv", index=False)
        written += [out / "accuracy_runs.csv", out / "accuracy_summary.csv"]
    scaling = pd.DataFrame(result.get("scaling", []))
    if not scaling.empty:
        scaling.to_csv(out / "scaling.csv", index=False)
        written.append(out / "scaling.csv")
    if result.get("speed"):
        pd.DataFrame(result["speed"]["timings"].values()).to_csv(out / "speed.csv", index=False)
        written.append(out / "speed.csv")
    if result.get("throughput"):
        pd.DataFrame([result["throughput"]]).to_csv(out / "throughput.csv", index=False)
        written.append(out / "throughput.csv")
    target_rows = targets(result, summary)
    pd.DataFrame(target_rows).to_csv(out / "targets.csv", index=False)
    written.append(out / "targets.csv")
    figures: dict[str, Path] = {}
    if not summary.empty:
        for key, fn, name in (
            ("accuracy", plot_accuracy, "accuracy.png"),
            ("times", plot_times, "times.png"),
        ):
            made = fn(summary, out / name)
            if made is not None:
                figures[key] = made
    if not scaling.empty:
        made = plot_scaling(scaling, out / "scaling.png")
        if made is not None:
            figures["scaling"] = made
    written += list(figures.values())
    info = {k: result[k] for k in ("machine", "settings", "wall_s")}
    (out / "run.json").write_text(json.dumps(_jsonable(info), indent=2) + "\n")
    written.append(out / "run.json")
    replace_block(Path(st.markdown), markdown_block(result, summary, target_rows, figures))
    written.append(Path(st.markdown))
    return written
