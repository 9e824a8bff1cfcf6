"""Screen detector settings on ADBench's tables: mean AUROC per setting, one line each.

    python -m benchmarks.adbench_screen tune 0 '{}' '{"clip": 3.0}' '{"activation": "tanh"}'
    python -m benchmarks.adbench_screen held 0,1,2 '{}' '{"clip": 3.0}'

The first argument picks the sets: ``tune`` (the 12 that informed issue 13's
choices), ``held`` (the 8 held back) or ``all``; the second the seeds; then one
JSON object of ``AutoencoderDetector`` parameters per setting to try. Splits are
``benchmarks.adbench``'s (ADBench's protocol, both settings); one torch thread.
Rows are appended to ``benchmarks/results/adbench_screen_runs.csv``.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

TUNE = (
    "aloi,campaign,cardio,fault,glass,magic.gamma,pima,shuttle,spambase,thyroid,vowels,wilt"
).split(",")
HELD = "ionosphere,letter,mammography,optdigits,pendigits,satellite,wbc,yeast".split(",")
OUT = Path(__file__).resolve().parent / "results" / "adbench_screen_runs.csv"


def screen(which: str, seeds: tuple[int, ...], configs: list[str]) -> pd.DataFrame:
    """Fit every setting on every split; print each setting's mean AUROC per setting."""
    import torch
    from sklearn.metrics import roc_auc_score

    from aedetect import AutoencoderDetector
    from benchmarks import adbench

    torch.set_num_threads(1)
    adbench.fill_cache_from_local()
    sets = {"tune": TUNE, "held": HELD, "all": TUNE + HELD}[which]
    data = list(adbench.splits(sets, seeds, ("unsup", "oneclass")))
    frames = []
    for cfg in configs:
        params = json.loads(cfg)
        rows = []
        for sp in data:
            try:
                det = AutoencoderDetector(random_state=sp.seed, **params).fit(sp.X_fit)
                auroc = roc_auc_score(sp.y_test, det.decision_function(sp.X_test))
            except Exception as exc:  # a failed setting is recorded, not dropped
                auroc = float("nan")
                print(f"failed: {sp.dataset} {cfg}: {exc}", file=sys.stderr)
            rows.append((sp.dataset, sp.seed, sp.setting, auroc, cfg, which))
        frame = pd.DataFrame(rows, columns=["set", "seed", "setting", "auroc", "cfg", "sets"])
        mean = frame.groupby("setting")["auroc"].mean()
        print(
            f"{which} {cfg:45s} unsup {mean['unsup']:.4f} oneclass {mean['oneclass']:.4f}",
            flush=True,
        )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(OUT, mode="a", header=not OUT.exists(), index=False)
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse ``SETS SEEDS CONFIG...`` and run the screen."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[0] not in ("tune", "held", "all"):
        raise SystemExit(__doc__)
    warnings.filterwarnings("ignore")
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    np.seterr(all="ignore")
    screen(args[0], tuple(int(s) for s in args[1].split(",")), args[2:])


if __name__ == "__main__":
    main()
