"""The methods compared: a small registry of ``fit(X_train, ctx) -> score(X_test)``.

aedetect methods get the raw table (numbers, text, sequence strings) and do their
own encoding, as a user would. Peers get the numeric matrix made by
``bench_data.numeric_matrices``: one-hot categories and sequence positions, then
every column standardised with scikit-learn's ``StandardScaler`` fitted on the
training rows only. Higher score = more anomalous for every method.

Peers are optional (the ``bench`` extra): a method whose package is missing is
skipped with a note, never a crash. Imports are inside the functions so that a
process timing one method loads only that method's libraries.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# What aedetect's "best" method uses per data type ("pixels", "sequences", "tables").
# A data set's own name ("mnist5k") may be a key too and then wins over its type, for
# settings that depend on the shape (e.g. an image preset needs its image size).
# Plain data to update as presets land (e.g. ``"pixels": {"preset": "deep-dense"}``).
# ``preset`` is expanded with ``preset_params``; the other keys are parameters.
BEST_PER_DATA_TYPE: dict[str, dict[str, Any]] = {
    "pixels": {"scaling": "pooled"},
    # The best image preset on mnist5k one-class (BENCHMARKS.md, "Images"): reference
    # E's 784-100-50-100-784 tanh network, with 60 epochs for the ~400-image classes.
    "mnist5k": {"preset": "mnist-100-50", "epochs": 60},
    "sequences": {"preset": "sequence-ae-onehot"},
    "tables": {},
}


def installed(package: str) -> bool:
    """Whether ``package`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class Context:
    """What a method may know about a run besides the training rows."""

    seed: int
    data_type: str = "tables"
    sequence_columns: tuple[str, ...] = ()
    epochs: int | None = None  # cap on epochs for neural methods; None = the tool's default
    dataset: str = ""


Scorer = Callable[[Any], np.ndarray]
FitFn = Callable[[Any, Context], Scorer]


@dataclass(frozen=True)
class Method:
    """One method: ``fit(X_train, ctx)`` returns ``score(X_test)``."""

    name: str
    label: str
    fit: FitFn
    inputs: str  # "raw" (the table as a DataFrame) or "numeric" (standardised matrix)
    requires: tuple[str, ...] = ()
    neural: bool = False
    notes: str = ""
    params: Callable[[Context], dict[str, Any]] | None = field(default=None, compare=False)

    def missing(self) -> list[str]:
        """Packages this method needs that are not installed."""
        return [p for p in self.requires if not installed(p)]


# ------------------------------------------------------------------ aedetect
def default_params(ctx: Context) -> dict[str, Any]:
    params: dict[str, Any] = {"random_state": ctx.seed}
    if ctx.sequence_columns:
        params["sequence_columns"] = tuple(ctx.sequence_columns)
    if ctx.epochs is not None:
        params["epochs"] = min(ctx.epochs, 200)
    return params


def best_params(ctx: Context) -> dict[str, Any]:
    """Default params overlaid with the best settings of the data set or its type."""
    best = dict(BEST_PER_DATA_TYPE.get(ctx.dataset, BEST_PER_DATA_TYPE.get(ctx.data_type, {})))
    preset = best.pop("preset", None)
    params: dict[str, Any] = {}
    if preset is not None:
        from aedetect.models.presets import preset_params

        params.update(preset_params(preset))
    params.update(best)
    params.update(default_params(ctx))
    if ctx.epochs is not None:
        params["epochs"] = min(ctx.epochs, int(params.get("epochs", 200)))
    return params


def _aedetect(params_of: Callable[[Context], dict[str, Any]]) -> FitFn:
    def fit(X: Any, ctx: Context) -> Scorer:
        from aedetect import AutoencoderDetector

        det = AutoencoderDetector(**params_of(ctx)).fit(X)
        return det.decision_function

    return fit


# ------------------------------------------------------------------ PyOD
def _pyod(path: str, cls_name: str, deep: bool) -> FitFn:
    def fit(X: np.ndarray, ctx: Context) -> Scorer:
        module = importlib.import_module(path)
        kwargs: dict[str, Any] = {}
        if deep:
            kwargs = {"random_state": ctx.seed, "verbose": 0}
            if ctx.epochs is not None:
                kwargs["epoch_num"] = ctx.epochs
        model = getattr(module, cls_name)(**kwargs)
        model.fit(X)
        return model.decision_function

    return fit


# ------------------------------------------------------------------ scikit-learn
def isolation_forest(X: np.ndarray, ctx: Context) -> Scorer:
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(random_state=ctx.seed).fit(X)
    return lambda T: -model.score_samples(T)


def one_class_svm(X: np.ndarray, ctx: Context) -> Scorer:
    from sklearn.svm import OneClassSVM

    model = OneClassSVM(kernel="rbf", nu=0.1).fit(X)
    return lambda T: -model.score_samples(T)


def pca_reconstruction(X: np.ndarray, ctx: Context) -> Scorer:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=0.9, random_state=ctx.seed).fit(X)

    def score(T: np.ndarray) -> np.ndarray:
        rebuilt = pca.inverse_transform(pca.transform(T))
        return ((T - rebuilt) ** 2).sum(axis=1)

    return score


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "aedetect-default",
            "aedetect (defaults)",
            _aedetect(default_params),
            "raw",
            neural=True,
            notes="AutoencoderDetector(random_state=seed), sequence columns declared",
            params=default_params,
        ),
        Method(
            "aedetect-best",
            "aedetect (best per data type)",
            _aedetect(best_params),
            "raw",
            neural=True,
            notes="defaults + BEST_PER_DATA_TYPE: "
            + "; ".join(f"{k}: {v or 'defaults'}" for k, v in BEST_PER_DATA_TYPE.items()),
            params=best_params,
        ),
        Method(
            "pyod-ae",
            "PyOD AutoEncoder",
            _pyod("pyod.models.auto_encoder", "AutoEncoder", deep=True),
            "numeric",
            requires=("pyod",),
            neural=True,
            notes="defaults (verbose=0, random_state=seed)",
        ),
        Method(
            "pyod-vae",
            "PyOD VAE",
            _pyod("pyod.models.vae", "VAE", deep=True),
            "numeric",
            requires=("pyod",),
            neural=True,
            notes="defaults (verbose=0, random_state=seed)",
        ),
        Method(
            "pyod-knn",
            "PyOD KNN",
            _pyod("pyod.models.knn", "KNN", deep=False),
            "numeric",
            requires=("pyod",),
            notes="defaults (k=5, largest)",
        ),
        Method(
            "pyod-ecod",
            "PyOD ECOD",
            _pyod("pyod.models.ecod", "ECOD", deep=False),
            "numeric",
            requires=("pyod",),
            notes="defaults",
        ),
        Method(
            "isolation-forest",
            "scikit-learn IsolationForest",
            isolation_forest,
            "numeric",
            notes="defaults (random_state=seed)",
        ),
        Method(
            "ocsvm",
            "scikit-learn OneClassSVM",
            one_class_svm,
            "numeric",
            notes="rbf, nu=0.1",
        ),
        Method(
            "pca",
            "PCA reconstruction",
            pca_reconstruction,
            "numeric",
            notes="PCA(n_components=0.9), squared reconstruction error",
        ),
    )
}

AEDETECT_METHODS = ("aedetect-default", "aedetect-best")
