"""Built-in data sets and generators (resolving a DATA argument: :mod:`.resolve`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from aedetect.data.image_datasets import IMAGE_SETS
from aedetect.data.synthetic import make_synthetic
from aedetect.data.table import Table
from aedetect.exceptions import DataError

__all__ = [
    "BUILTIN",
    "REFERENCE_SEQUENCE_ANOMALIES",
    "load_digits_table",
    "make_mixed_table",
    "make_sequences",
    "make_synthetic",
]


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
        image_shape=(1, 8, 8),
    )


#: Most rows a generator makes.
MAX_ROWS = 10_000_000


def _int_option(source: str, name: str, value: object, low: int, high: int) -> int:
    """Check a generator's integer option (it may arrive as text from ``NAME:key=value``)."""
    try:
        number = int(value) if not isinstance(value, bool | float) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise DataError(f"{source}: {name} must be an integer in [{low}, {high}], got {value!r}")
    return number


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
    n = n_rows = _int_option("mixed", "n_rows", n_rows, 2, MAX_ROWS)
    n_anomalies = _int_option("mixed", "n_anomalies", n_anomalies, 0, n_rows)
    rng = np.random.default_rng(_int_option("mixed", "seed", seed, 0, 2**63 - 1))
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


REFERENCE_SEQUENCE_ANOMALIES = ("XYDC2DCA", "TXSX1ABC", "RNIU4XRE", "AABDXUEI", "SDRAC5RF")
_SEQUENCE_PATTERN = ("ABCDEF",) * 4 + ("120",) + ("QWOPZXML",) * 3


def make_sequences(size: int = 25_000, anomalies: str | int = "reference", seed: int = 0) -> Table:
    """Make the reference system's sequences: ``size`` normal rows plus anomalies.

    A normal row is 4 characters from ``ABCDEF``, 1 from ``120`` and 3 from
    ``QWOPZXML``. ``anomalies="reference"`` injects the five published anomalies
    (``XYDC2DCA``, ``TXSX1ABC``, ``RNIU4XRE``, ``AABDXUEI``, ``SDRAC5RF``); an integer
    injects that many random 8-character rows over ``A-Z0-9`` that break the
    pattern. Rows are shuffled; labels are 1 for the injected rows.
    """
    size = _int_option("sequences", "size", size, 1, MAX_ROWS)
    rng = np.random.default_rng(_int_option("sequences", "seed", seed, 0, 2**63 - 1))
    normal = np.column_stack([rng.choice(list(chars), size) for chars in _SEQUENCE_PATTERN])
    rows = ["".join(r) for r in normal]
    if anomalies == "reference":
        bad = list(REFERENCE_SEQUENCE_ANOMALIES)
    else:
        n_bad = _int_option("sequences", "anomalies", anomalies, 0, 1_000_000)
        bad = _random_sequence_anomalies(n_bad, rng)
    values = np.array(rows + bad, dtype=object)
    labels = np.r_[np.zeros(len(rows), dtype=int), np.ones(len(bad), dtype=int)]
    order = rng.permutation(len(values))
    return Table(
        features=pd.DataFrame({"sequence": values[order]}),
        labels=pd.Series(labels[order], name="is_anomaly"),
        source="sequences",
        sequence_columns=("sequence",),
    )


def _random_sequence_anomalies(n: int, rng: np.random.Generator) -> list[str]:
    chars = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    out: list[str] = []
    while len(out) < n:
        row = "".join(rng.choice(chars, 8))
        if not all(c in allowed for c, allowed in zip(row, _SEQUENCE_PATTERN, strict=True)):
            out.append(row)
    return out


BUILTIN: dict[str, Callable[..., Table]] = {
    "digits": load_digits_table,
    "mixed": make_mixed_table,
    "sequences": make_sequences,
    **IMAGE_SETS,
    "synthetic": make_synthetic,
}


def __getattr__(name: str) -> object:
    """Keep ``from aedetect.data.datasets import load_data`` (it moved to :mod:`.resolve`)."""
    if name in _MOVED:
        from aedetect.data import resolve

        return getattr(resolve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MOVED = ("is_builtin", "load_builtin", "load_data")
