"""Checks behind ``refit`` (issue 13, BENCHMARKS.md "a second pass on the rows called normal").

    python -m benchmarks.adbench_refit mixed      # the built-in mixed table, seeds 0-2
    python -m benchmarks.adbench_refit control ARGS...   # python -m benchmarks ARGS, with
        # refit passes that keep every row: only the longer training, nothing left out
    python -m benchmarks.adbench_refit half ARGS...      # python -m benchmarks ARGS with
        # epochs="auto" aiming at 300 steps a pass (refit=1: about 600 in all)

``mixed`` prints, per seed, AUROC, rows flagged and F1 at the default threshold for
``refit`` 0 and 1, the final fence fitted on every training row's score (what the
detector does) or on the kept rows' scores only, and the longer-training control.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any


def _keep_every_row(detector: Any, params: Any, train_idx: Any, val_idx: Any) -> Iterator[Any]:
    yield train_idx, val_idx, None
    for _ in range(int(params["refit"])):
        yield train_idx, val_idx, detector.module_


def mixed() -> None:
    """Rows flagged and F1 on the mixed table (10 anomalies in 2,000 rows)."""
    from sklearn.metrics import f1_score, roc_auc_score

    import aedetect.robust as robust
    from aedetect import AutoencoderDetector
    from aedetect.data.datasets import make_mixed_table
    from aedetect.thresholds import parse_threshold

    table = make_mixed_table(n_rows=2000, n_anomalies=10, seed=0)
    X, y = table.features, table.labels.to_numpy()
    for seed in (0, 1, 2):
        for refit in (0, 1):
            det = AutoencoderDetector(refit=refit, random_state=seed).fit(X)
            s = det.decision_scores_
            kept = robust.kept_rows(s, det.get_params())
            fence = parse_threshold("iqr:1.5").fit(s[kept]).threshold_
            on_kept = (s > fence).astype(int)
            print(
                f"seed {seed} refit {refit}: AUROC {roc_auc_score(y, s):.3f}, fence on every "
                f"row: {det.labels_.sum()} flagged, F1 {f1_score(y, det.labels_):.2f}; "
                f"fence on kept rows: {on_kept.sum()} flagged, F1 {f1_score(y, on_kept):.2f}",
                flush=True,
            )
        passes, robust.passes = robust.passes, _keep_every_row
        try:
            det = AutoencoderDetector(refit=1, random_state=seed).fit(X)
        finally:
            robust.passes = passes
        print(
            f"seed {seed} control (every row, trained longer): {det.labels_.sum()} flagged, "
            f"F1 {f1_score(y, det.labels_):.2f}",
            flush=True,
        )


def half(argv: list[str]) -> None:
    """Run the benchmark harness with half the ``epochs="auto"`` step budget per pass."""
    import aedetect.fitting as fitting
    from benchmarks.run import main

    fitting.STEP_BUDGET = fitting.STEP_BUDGET // 2
    sys.argv = ["benchmarks", *argv]
    main()


def control(argv: list[str]) -> None:
    """Run the benchmark harness with refit passes that leave nothing out."""
    import aedetect.robust as robust
    from benchmarks.run import main

    robust.passes = _keep_every_row
    sys.argv = ["benchmarks", *argv]
    main()


if __name__ == "__main__":
    if sys.argv[1:2] == ["mixed"]:
        mixed()
    elif sys.argv[1:2] == ["control"]:
        control(sys.argv[2:])
    elif sys.argv[1:2] == ["half"]:
        half(sys.argv[2:])
    else:
        sys.exit(__doc__)
