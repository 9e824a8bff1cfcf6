"""A reference for the explanation benchmark: what a linear-Gaussian model names first.

The same held-out rows and corruptions as ``benchmarks/explain.py`` (its split and
``corrupt`` with the same seed; no autoencoder is fitted), on its all-numeric tables.
Columns are standardised with the training rows' mean and sd; a Ledoit-Wolf
covariance of the training rows gives the precision matrix ``P``; column ``j``'s
cause score is the fall of the Mahalanobis distance when it alone is set to its
conditional mean given the others, ``(P z)_j^2 / P_jj``. For Gaussian data this is
the ranking by cause with the true model: where it too misses, the row does not say
which column was moved. "Clear" rows: Mahalanobis distance above the 95th
percentile of the same rows' before they were corrupted (the explanation
benchmark's "clear" column uses the same rule on the detector's scores).

    .venv/bin/python -m benchmarks.explain_ceiling            # a few seconds
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.explain import ADBENCH, _tables, corrupt


def gaussian_result(name: str, normal: pd.DataFrame, rows: int, seed: int) -> dict[str, Any]:
    """The corrupted column ranked first by the Gaussian's cause score: all rows, by kind."""
    from sklearn.covariance import LedoitWolf

    rng = np.random.default_rng(seed)  # the draws of explain.table_result, in its order
    order = rng.permutation(len(normal))
    cut = int(0.8 * len(normal))
    train = normal.iloc[order[:cut]].reset_index(drop=True)
    held = normal.iloc[order[cut:][:rows]].reset_index(drop=True)
    bad, columns, kinds = corrupt(held, train, rng)
    mean, sd = train.mean(), train.std().replace(0.0, 1.0)
    z_train = ((train - mean) / sd).to_numpy(dtype=np.float64)
    z_bad = ((bad - mean) / sd).to_numpy(dtype=np.float64)
    fitted = LedoitWolf().fit(z_train)
    precision = np.linalg.inv(fitted.covariance_)
    z_held = ((held - mean) / sd).to_numpy(dtype=np.float64)
    d_held, d_bad = z_held - fitted.location_, z_bad - fitted.location_
    cause = (d_bad @ precision) ** 2 / np.diag(precision)
    named = np.asarray(train.columns)[cause.argmax(axis=1)]
    hit = pd.Series(named == np.asarray(columns))
    d2_held = np.einsum("ij,jk,ik->i", d_held, precision, d_held)
    d2_bad = np.einsum("ij,jk,ik->i", d_bad, precision, d_bad)
    clear = pd.Series(d2_bad > np.quantile(d2_held, 0.95))
    out = {"table": name, "rows": len(bad), "cause": float(hit.mean()), "clear": int(clear.sum())}
    out["cause_clear"] = float(hit[clear].mean()) if clear.any() else float("nan")
    for kind in sorted(set(kinds)):
        mask = pd.Series(kinds) == kind
        out[f"cause_{kind}"] = float(hit[mask].mean())
        out[f"clear_{kind}"] = float(clear[mask].mean())
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Print the Gaussian reference for each all-numeric table of the explanation benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(ADBENCH), help="ADBench sets, comma-separated")
    p.add_argument("--rows", type=int, default=300, help="corrupted rows per table (at most)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    tables = _tables(tuple(s for s in args.sets.split(",") if s), args.seed)
    results = [
        gaussian_result(name, frame, args.rows, args.seed)
        for name, frame in tables.items()
        if all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes)
    ]

    def pct(v: float) -> str:
        return "-" if v != v else f"{v:.0%}"

    print(
        "| table | rows | by cause | shift | other value | clear: rows / by cause "
        "| other-value rows that are clear |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|")
    for r in results:
        print(
            f"| {r['table']} | {r['rows']} | {pct(r['cause'])} | {pct(r['cause_shift'])} | "
            f"{pct(r['cause_relation'])} | {r['clear']} / {pct(r['cause_clear'])} | "
            f"{pct(r['clear_relation'])} |"
        )
    return results


if __name__ == "__main__":
    main()
