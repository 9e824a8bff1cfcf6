"""How many networks, and how to join them: the research behind ``members`` (issue 13).

    python -m benchmarks.adbench_members fit 5      # fit 5 single networks per split (slow)
    python -m benchmarks.adbench_members table      # mean AUROC and rank of each mix

``fit`` trains ``K`` one-network detectors (``members=1``, seeds ``seed * 1000 + k``)
on every ADBench split (20 sets, seeds 0-2, both settings; one torch thread) and
keeps each one's training and test scores, and the test score of the mean
reconstruction of the first three (``benchmarks/results/adbench_members.pkl``,
not in git). ``table`` prints, per setting, the mean AUROC and mean rank among
the peers of ``benchmarks/results/adbench_runs.csv`` of: one network; the mean of
K networks' scores (raw, each divided by its training median, or log-z-scored);
and the error of the mean reconstruction of three.
"""

from __future__ import annotations

import logging
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = RESULTS / "adbench_members.pkl"


def fit(k: int) -> None:
    """Fit ``k`` single networks per split; cache their scores."""
    import torch

    from aedetect import AutoencoderDetector
    from aedetect.data.encoding import as_frame
    from aedetect.models.ensemble import Ensemble
    from benchmarks import adbench
    from benchmarks.adbench_screen import HELD, TUNE

    torch.set_num_threads(1)
    adbench.fill_cache_from_local()
    out = {}
    for sp in adbench.splits(TUNE + HELD, (0, 1, 2), ("unsup", "oneclass")):
        dets = [
            AutoencoderDetector(members=1, random_state=sp.seed * 1000 + i).fit(sp.X_fit)
            for i in range(k)
        ]
        members = [(d.decision_scores_, d.decision_function(sp.X_test)) for d in dets]
        mean = Ensemble([d.module_ for d in dets[:3]]).eval()
        Xt = torch.from_numpy(dets[0].encoder_.transform(as_frame(sp.X_test)))
        with torch.inference_mode():  # the error of the mean reconstruction
            rebuilt = mean(Xt.clamp(*dets[0]._bounds_))
            of_mean = ((rebuilt - Xt).square() @ dets[0]._weights_).double().numpy()
        out[(sp.dataset, sp.seed, sp.setting)] = (sp.y_test, members, of_mean)
        print(sp.dataset, sp.seed, sp.setting, flush=True)
    CACHE.write_bytes(pickle.dumps(out))


def _joined(members: list, k: int, how: str) -> np.ndarray:
    train, test = [m[0] for m in members[:k]], [m[1] for m in members[:k]]
    if how == "raw":
        return np.mean(test, axis=0)
    if how == "median":
        return np.mean([t / np.median(r) for r, t in zip(train, test, strict=True)], axis=0)
    z = []
    for r, t in zip(train, test, strict=True):
        lr, lt = np.log(np.maximum(r, 1e-12)), np.log(np.maximum(t, 1e-12))
        z.append((lt - lr.mean()) / lr.std())
    return np.mean(z, axis=0)


def table() -> pd.DataFrame:
    """Mean AUROC and rank per setting of every mix in the cache."""
    from sklearn.metrics import roc_auc_score

    data = pickle.loads(CACHE.read_bytes())  # our own cache file, written by fit()
    rows = []
    for (name, seed, setting), (y, members, of_mean) in data.items():
        mixes = {"one network": members[0][1], "error of the mean reconstruction (3)": of_mean}
        for k in (3, 5):
            for how in ("raw", "median", "logz"):
                if k <= len(members):
                    mixes[f"mean of {k} scores, {how}"] = _joined(members, k, how)
        for mix, score in mixes.items():
            rows.append((name, seed, setting, mix, roc_auc_score(y, score)))
    ours = pd.DataFrame(rows, columns=["dataset", "seed", "setting", "method", "auroc"])
    runs = pd.read_csv(RESULTS / "adbench_runs.csv")
    peers = runs[runs.method != "aedetect"]
    lines = []
    for setting in ("unsup", "oneclass"):
        p = peers[peers.setting == setting].groupby(["dataset", "method"]).auroc.mean().unstack()
        mine = ours[ours.setting == setting].groupby(["dataset", "method"]).auroc.mean().unstack()
        for mix in mine.columns:
            tab = p.assign(ours=mine[mix])
            ranks = tab.rank(axis=1, ascending=False).mean()
            lines.append((setting, mix, mine[mix].mean(), ranks["ours"], p.mean().max()))
    out = pd.DataFrame(lines, columns=["setting", "mix", "auroc", "rank", "best peer auroc"])
    print(out.round(4).to_string(index=False))
    return out


def main(argv: list[str] | None = None) -> None:
    """``fit K`` or ``table``."""
    args = list(sys.argv[1:] if argv is None else argv)
    warnings.filterwarnings("ignore")
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    if args[:1] == ["fit"] and len(args) == 2:
        fit(int(args[1]))
    elif args == ["table"]:
        table()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
