"""Ablation table of the issue-13 research: each recipe beside the peers on the same splits.

Reads ``benchmarks/results/adbench_ablation_runs.csv`` (``adbench_research mix``) and
the peers' rows of ``adbench_runs.csv``; prints, per group of sets (tuning, held
out, all 20) and setting, each recipe's mean AUROC, AP and rank among the six peers
plus itself (ranks over the sets the recipe was run on), as Markdown.

    .venv/bin/python -m benchmarks.adbench_ablation
"""

from __future__ import annotations

import pandas as pd

from benchmarks import adbench
from benchmarks.adbench_research import HELD_OUT, TUNE, compare

RESULTS = adbench.ROOT / "benchmarks" / "results"


def table(runs: pd.DataFrame, peers: pd.DataFrame, sets: tuple[str, ...]) -> pd.DataFrame:
    part = runs[runs["dataset"].isin(sets)]
    complete = part.groupby(["method", "setting"])["dataset"].nunique()
    keep = complete[complete == len(sets)].index
    part = part.set_index(["method", "setting"]).loc[lambda f: f.index.isin(keep)].reset_index()
    peers = peers[peers["seed"].isin(part["seed"].unique())]
    return compare(part, peers, sorted(part["method"].unique()))


def main() -> str:
    runs = pd.read_csv(RESULTS / "adbench_ablation_runs.csv")
    peers = pd.read_csv(RESULTS / "adbench_runs.csv")
    lines = []
    for label, sets in (
        ("tuning sets (12)", TUNE),
        ("held-out sets (8)", HELD_OUT),
        ("all 20 sets", TUNE + HELD_OUT),
    ):
        t = table(runs, peers, sets)
        if t.empty:
            continue
        lines += [
            f"#### {label}, seed 0",
            "",
            "| recipe | setting | mean AUROC | mean AP | mean rank | best peer AUROC "
            "| best peer rank | fit s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for _, r in t.sort_values(["setting", "auroc"], ascending=[False, False]).iterrows():
            lines.append(
                f"| {r['recipe']} | {r['setting']} | {r['auroc']:.3f} | {r['ap']:.3f} | "
                f"{r['rank']:.2f} | {r['best_peer_auroc']:.3f} | {r['best_peer_rank']:.2f} | "
                f"{r['fit_s']:.1f} |"
            )
        lines.append("")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
