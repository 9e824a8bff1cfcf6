"""Scores and training rows tried on top of the three networks (issue 13), not adopted.

    python -m benchmarks.adbench_variants errors        # per-column errors joined other ways
    python -m benchmarks.adbench_variants rows 0.25     # each network on a share of the rows
    python -m benchmarks.adbench_variants layers        # + k-NN distances of each layer
    python -m benchmarks.adbench_variants steps 1200    # another step budget per network
    python -m benchmarks.adbench_variants columns 3 0.7 # K networks, each on a share of the columns

Both fit on every ADBench split (20 sets, seeds 0-2, both settings; one torch
thread) and print, per setting, mean AUROC, mean rank among the peers of
``benchmarks/results/adbench_runs.csv``, the tuning and held-back sets' means
and F1 at Tukey's fence and at the 0.9 quantile of the training scores.

``errors`` fits the default detector once per split and joins its per-column
squared errors (the members' mean) in several ways: the mean (the default
score), each column's error over its mean training error (standardised), the
same with shrinkage, the mean absolute error, the largest standardised error,
and the Mahalanobis distance of the residuals.

``layers`` fits the default detector once per split and joins its score with
the mean distance to the 5 nearest training rows (a training row not its own
neighbour) in each encoder layer (the members' activations side by side; the
last is the code) and, for comparison, in the clamped input itself: the two
scores' logs are z-scored on the training rows and averaged with weights 1 : w.

``steps N`` fits the default detector with ``epochs="auto"`` aiming at ``N``
optimiser steps per network instead of 600 (``aedetect.fitting.STEP_BUDGET``).

``columns K SHARE`` fits ``K`` one-network detectors per split, each on its own
random ``SHARE`` of the columns (at least 2; RandNet-style feature bagging), and
joins their scores by the mean.

``rows SHARE`` fits three one-network detectors per split (seeds as the
members'), each on its own random ``SHARE`` of the training rows (at least
256), and joins their scores by the mean, as ``members`` does.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Joined = dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (training scores, test scores)


def _splits() -> Any:
    import torch

    from benchmarks import adbench
    from benchmarks.adbench_screen import HELD, TUNE

    torch.set_num_threads(1)
    adbench.fill_cache_from_local()
    return adbench.splits(TUNE + HELD, (0, 1, 2), ("unsup", "oneclass"))


def _by_column(tr: np.ndarray, te: np.ndarray, r_tr: np.ndarray, r_te: np.ndarray) -> Joined:
    """Scores from per-column squared errors ``tr``/``te`` and residuals ``r_tr``/``r_te``."""
    mean = tr.mean(0).astype(np.float64)
    floor = 1e-6 * mean.mean()

    def both(f: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return f(tr), f(te)

    cov = np.atleast_2d(np.cov(r_tr.astype(np.float64), rowvar=False))
    cov += 1e-3 * np.trace(cov) / len(cov) * np.eye(len(cov))
    prec, centre = np.linalg.inv(cov), r_tr.mean(0)

    def mahalanobis(r: np.ndarray) -> np.ndarray:
        d = r - centre
        return np.einsum("ij,jk,ik->i", d, prec, d)

    return {
        "mean (the default)": both(lambda e: e.mean(1)),
        "standardised": both(lambda e: (e / np.maximum(mean, floor)).mean(1)),
        "standardised, shrunk": both(lambda e: (e / (mean + mean.mean())).mean(1)),
        "mean absolute": both(lambda e: np.sqrt(e).mean(1)),
        "largest standardised": both(lambda e: (e / np.maximum(mean, floor)).max(1)),
        "Mahalanobis of residuals": (mahalanobis(r_tr), mahalanobis(r_te)),
    }


def errors() -> pd.DataFrame:
    """Per-column errors of the default detector, joined several ways."""
    import torch

    from aedetect import AutoencoderDetector
    from aedetect.data.encoding import as_frame
    from aedetect.scoring import feature_squared_errors, reconstructions

    rows = []
    for sp in _splits():
        det = AutoencoderDetector(random_state=sp.seed).fit(sp.X_fit)
        parts = []
        for X in (sp.X_fit, sp.X_test):
            Xt = torch.from_numpy(det.encoder_.transform(as_frame(X)))
            e = feature_squared_errors(det.module_, Xt, det._bounds_)
            parts += [e, reconstructions(det.module_, Xt, det._bounds_) - Xt.numpy()]
        for name, (tr, te) in _by_column(parts[0], parts[2], parts[1], parts[3]).items():
            rows.append(_row(sp, name, tr, te))
        print(sp.dataset, sp.seed, sp.setting, flush=True, file=sys.stderr)
    return _table(rows)


def _knn(ref: Any, query: Any, own: bool, k: int = 5) -> np.ndarray:
    import torch

    out = []
    for start in range(0, len(query), 1024):
        near = torch.cdist(query[start : start + 1024], ref).topk(k + own, largest=False)
        out.append(near.values[:, int(own) :].mean(1))
    return torch.cat(out).double().numpy()


def layers() -> pd.DataFrame:
    """The default score joined with k-NN distances in each encoder layer."""
    import torch

    from aedetect import AutoencoderDetector
    from aedetect.data.encoding import as_frame
    from aedetect.scales import logz
    from aedetect.scoring import layer_outputs

    rows = []
    for sp in _splits():
        det = AutoencoderDetector(random_state=sp.seed).fit(sp.X_fit)
        seen = []
        for X in (sp.X_fit, sp.X_test):
            clamped = torch.from_numpy(det.encoder_.transform(as_frame(X))).clamp(*det._bounds_)
            seen.append([h.float() for h in layer_outputs(det.module_, clamped)] + [clamped])
        recon = (det.decision_scores_, det.decision_function(sp.X_test))
        rows.append(_row(sp, "reconstruction (the default)", *recon))
        z_recon = [logz(np.sort(recon[0]), s) for s in recon]
        for j, (ref, query) in enumerate(zip(*seen, strict=True)):
            where = "the input" if j == len(seen[0]) - 1 else f"layer {j + 1}"
            knn = (_knn(ref, ref, True), _knn(ref, query, False))
            rows.append(_row(sp, f"k-NN in {where}", *knn))
            z_knn = [logz(np.sort(knn[0]), s) for s in knn]
            for w in (0.25, 0.5):
                joined = [(a + w * b) / (1 + w) for a, b in zip(z_recon, z_knn, strict=True)]
                rows.append(_row(sp, f"reconstruction + {w:g} k-NN in {where}", *joined))
        print(sp.dataset, sp.seed, sp.setting, flush=True, file=sys.stderr)
    return _table(rows)


def _networks(sp: Any, k: int, part: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training and test scores of ``k`` one-network detectors, each fitted on its ``part``.

    ``part(rng, X, T)`` gives (rows to fit on, training rows to score, test rows to
    score); network ``i`` draws from its own seed, as the members do.
    """
    from aedetect import AutoencoderDetector

    X, T, scores = np.asarray(sp.X_fit), np.asarray(sp.X_test), []
    for i in range(k):
        fit_on, train, test = part(np.random.default_rng(sp.seed * 1000 + i), X, T)
        det = AutoencoderDetector(members=1, random_state=sp.seed + 1000 * i).fit(fit_on)
        scores.append((det.decision_function(train), det.decision_function(test)))
    return scores


def _joined(scores: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    return [np.mean([s[j] for s in scores], axis=0) for j in (0, 1)]


def subsampled(share: float) -> pd.DataFrame:
    """Three one-network detectors per split, each fitted on a random ``share`` of the rows."""

    def part(rng: Any, X: np.ndarray, T: np.ndarray) -> tuple:
        n = len(X)
        return X[np.sort(rng.choice(n, max(min(n, 256), round(share * n)), replace=False))], X, T

    rows = []
    for sp in _splits():
        scores = _networks(sp, 3, part)
        rows.append(_row(sp, f"one network, {share:g} of the rows", *scores[0]))
        rows.append(_row(sp, f"three networks, {share:g} of the rows each", *_joined(scores)))
        print(sp.dataset, sp.seed, sp.setting, flush=True, file=sys.stderr)
    return _table(rows)


def steps(budget: int) -> pd.DataFrame:
    """The default detector with another step budget per network."""
    import aedetect.fitting as fitting
    from aedetect import AutoencoderDetector

    fitting.STEP_BUDGET = budget
    rows = []
    for sp in _splits():
        det = AutoencoderDetector(random_state=sp.seed).fit(sp.X_fit)
        name = f"{budget} steps per network"
        rows.append(_row(sp, name, det.decision_scores_, det.decision_function(sp.X_test)))
        print(sp.dataset, sp.seed, sp.setting, flush=True, file=sys.stderr)
    return _table(rows)


def columns(k: int, share: float) -> pd.DataFrame:
    """``k`` one-network detectors per split, each on a random ``share`` of the columns."""

    def part(rng: Any, X: np.ndarray, T: np.ndarray) -> tuple:
        d = X.shape[1]
        cols = np.sort(rng.choice(d, max(2, round(share * d)), replace=False))
        return X[:, cols], X[:, cols], T[:, cols]

    rows = []
    for sp in _splits():
        joined = _joined(_networks(sp, k, part))
        rows.append(_row(sp, f"{k} networks, {share:g} of the columns each", *joined))
        print(sp.dataset, sp.seed, sp.setting, flush=True, file=sys.stderr)
    return _table(rows)


def _row(sp: Any, name: str, tr: np.ndarray, te: np.ndarray) -> tuple:
    from sklearn.metrics import f1_score, roc_auc_score

    q1, q3 = np.percentile(tr, [25, 75])
    fence, quantile = q3 + 1.5 * (q3 - q1), np.quantile(tr, 0.9)
    y = sp.y_test
    return (
        sp.dataset,
        sp.seed,
        sp.setting,
        name,
        roc_auc_score(y, te),
        f1_score(y, te > fence),
        f1_score(y, te > quantile),
    )


def _table(rows: list[tuple]) -> pd.DataFrame:
    from benchmarks.adbench_members import RESULTS
    from benchmarks.adbench_screen import TUNE

    cols = ["dataset", "seed", "setting", "variant", "auroc", "f1_fence", "f1_quantile"]
    ours = pd.DataFrame(rows, columns=cols)
    runs = pd.read_csv(RESULTS / "adbench_runs.csv")
    peers = runs[runs.method != "aedetect"]
    lines = []
    for setting in ("unsup", "oneclass"):
        p = peers[peers.setting == setting].groupby(["dataset", "method"]).auroc.mean().unstack()
        sub = ours[ours.setting == setting]
        mine = sub.groupby(["dataset", "variant"]).auroc.mean().unstack()
        for variant in mine.columns:
            per_set = mine[variant]
            rank = p.assign(ours=per_set).rank(axis=1, ascending=False).mean()["ours"]
            f1 = sub[sub.variant == variant][["f1_fence", "f1_quantile"]].mean()
            tuned = per_set.index.isin(TUNE)
            lines.append(
                (setting, variant, per_set.mean(), rank, per_set[tuned].mean(),
                 per_set[~tuned].mean(), f1.f1_fence, f1.f1_quantile)
            )  # fmt: skip
    out = pd.DataFrame(
        lines,
        columns=["setting", "variant", "auroc", "rank", "tuning 12", "held back 8",
                 "F1 fence", "F1 0.9 quantile"],
    )  # fmt: skip
    print(out.round(4).to_string(index=False))
    return out


def main(argv: list[str] | None = None) -> None:
    """``errors``, ``layers``, ``steps N``, ``columns K SHARE`` or ``rows SHARE``."""
    args = list(sys.argv[1:] if argv is None else argv)
    warnings.filterwarnings("ignore")
    logging.getLogger("aedetect").setLevel(logging.ERROR)
    if args == ["errors"]:
        errors()
    elif args == ["layers"]:
        layers()
    elif args[:1] == ["steps"] and len(args) == 2:
        steps(int(args[1]))
    elif args[:1] == ["columns"] and len(args) == 3:
        columns(int(args[1]), float(args[2]))
    elif args[:1] == ["rows"] and len(args) == 2:
        subsampled(float(args[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
