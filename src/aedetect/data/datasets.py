"""Built-in data sets and generators, and resolving a DATA argument to a table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect.data.readers import Table, read_table, split_columns
from aedetect.exceptions import DataError

__all__ = ["BUILTIN", "load_builtin", "load_data", "load_digits_table", "make_mixed_table"]


def load_digits_table() -> Table:
    """scikit-learn's 1,797 8x8 handwritten digits: 64 pixel columns (0..16), labels 0..9."""
    from sklearn.datasets import load_digits

    d = load_digits()
    cols = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    return Table(
        features=pd.DataFrame(d.data, columns=cols),
        labels=pd.Series(d.target, name="digit"),
        ids=None,
        source="digits",
    )


_REGIONS = ("north", "south", "east", "west")
_PLANS = ("basic", "plus", "premium")


def make_mixed_table(n_rows: int = 2000, n_anomalies: int = 10, seed: int = 0) -> Table:
    """Make a customer table with numbers, categories and injected anomalies.

    Each of 20 cities lies in one region; income follows age and region; spend
    follows income; the plan follows income. Half of the anomalies put a city in
    a region it does not belong to (an impossible combination of categories);
    the other half have an out-of-range number (an age of 150 to 200, or a spend
    ten times what the income allows). Labels are 1 for anomalies.
    """
    rng = np.random.default_rng(seed)
    n = n_rows
    city_idx = rng.integers(0, 20, n)
    region_idx = city_idx % 4
    age = np.clip(rng.normal(42, 12, n), 18, 90)
    income = 18_000 + 900 * age + 6_000 * region_idx + rng.normal(0, 3_000, n)
    spend = 0.25 * income / 12 + rng.normal(0, 80, n)
    plan_idx = np.digitize(income, np.quantile(income, [1 / 3, 2 / 3]))
    labels = np.zeros(n, dtype=int)
    bad = rng.choice(n, size=n_anomalies, replace=False)
    labels[bad] = 1
    half = n_anomalies // 2
    for i in bad[:half]:  # impossible city/region pair
        region_idx[i] = (city_idx[i] % 4 + rng.integers(1, 4)) % 4
    for j, i in enumerate(bad[half:]):  # out-of-range number
        if j % 2 == 0:
            age[i] = rng.uniform(150, 200)
        else:
            spend[i] = spend[i] * 10
    frame = pd.DataFrame(
        {
            "customer": [f"c{i:05d}" for i in range(n)],
            "age": age.round(1),
            "income": income.round(0),
            "spend": spend.round(2),
            "city": [f"city_{c:02d}" for c in city_idx],
            "region": [_REGIONS[r] for r in region_idx],
            "plan": [_PLANS[p] for p in plan_idx],
        }
    )
    return Table(
        features=frame.drop(columns=["customer"]),
        labels=pd.Series(labels, name="is_anomaly"),
        ids=frame["customer"],
        source="mixed",
    )


BUILTIN: dict[str, Callable[[], Table]] = {
    "digits": load_digits_table,
    "mixed": make_mixed_table,
}


def load_builtin(name: str) -> Table:
    """Load a built-in data set by name (see ``BUILTIN``)."""
    try:
        return BUILTIN[name]()
    except KeyError:
        raise DataError(f"unknown data set {name!r}; built-in: {', '.join(BUILTIN)}") from None


def load_data(spec: str, label_column: str | None = None, id_column: str | None = None) -> Table:
    """Resolve a DATA argument: a file path, else the name of a built-in data set.

    For a built-in data set the label and id columns are the data set's own,
    unless a label or id column named in the arguments is one of its features.
    """
    path = Path(spec)
    if path.exists() or spec not in BUILTIN:
        if not path.exists() and path.suffix.lower() == "" and spec.isidentifier():
            raise DataError(
                f"{spec}: no such file, and not a built-in data set ({', '.join(BUILTIN)})"
            )
        return split_columns(read_table(path), str(path), label_column, id_column)
    table = load_builtin(spec)
    if label_column or id_column:
        frame = table.features.copy()
        return split_columns(frame, spec, label_column, id_column)
    return table
