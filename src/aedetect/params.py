"""Declarative parameter constraints: every allowed value written once, checked in one place.

In the style of scikit-learn's ``_parameter_constraints``: a table maps each
parameter name to a list of constraints, and a value is valid when it meets one
of them. :func:`validate` raises :class:`~aedetect.exceptions.ConfigError` with a
message that names the parameter, the rule and the value received::

    contamination must be in (0, 0.5], got 0.7

The tables here are the single source for the estimator, the encoder, the
sequence columns, the models and the thresholds; a command line maps parameter
names to its flags from :data:`DETECTOR`. This module imports nothing from
aedetect but its exceptions (and no torch), so every layer may use it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aedetect.exceptions import ConfigError

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "BUILTIN_DATA_SETS",
    "DEFAULTS",
    "DETECTOR",
    "DEVICES",
    "DISTANCES",
    "ENCODER",
    "ENSEMBLE_METHODS",
    "LAYER_COMBINES",
    "LOSSES",
    "MAX_LAYERS",
    "MAX_UNITS",
    "MISSING",
    "MODELS",
    "OPTIMIZERS",
    "OUTPUT_ACTIVATIONS",
    "POOLINGS",
    "REDUCTIONS",
    "SCALINGS",
    "SCORES",
    "SEQUENCE_ENCODINGS",
    "UNUSED_BY_SERIES",
    "UPSAMPLINGS",
    "Check",
    "Interval",
    "Options",
    "check_tokens",
    "layer_activations",
    "refuse_unused_by_series",
    "validate",
]

# ------------------------------------------------------------------ vocabularies
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "identity")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu")
POOLINGS = ("max", "avg")
UPSAMPLINGS = ("nearest", "bilinear")
# One model choice: ae (dense), conv (convolutional), vae (dense variational),
# conv-vae (convolutional variational). ``architecture`` is the deprecated spelling.
# Over windows of a series also conv1d (1-D convolutional) and lstm (encoder-decoder).
MODELS = ("ae", "conv", "vae", "conv-vae", "conv1d", "lstm")
ARCHITECTURES = ("dense", "conv")
OPTIMIZERS = ("adam", "sgd", "adagrad")
LOSSES = ("mse", "bce")
DEVICES = ("auto", "cpu", "cuda")
SCALINGS = ("standard", "minmax", "pooled", "unit", "symmetric", "none")
MISSING = ("error", "impute")
SEQUENCE_ENCODINGS = ("onehot", "ordinal")
SCORES = (
    "reconstruction",
    "latent-kmeans",
    "latent-knn",
    "layerwise",
    "ensemble",
    "reconstruction-probability",
)
REDUCTIONS = ("mean", "sum")
DISTANCES = ("euclidean", "mahalanobis")
LAYER_COMBINES = ("min", "mean")
ENSEMBLE_METHODS = ("rank", "zscore", "logz")


# ------------------------------------------------------------------ constraints
def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Interval:
    """A number between ``low`` and ``high``; ``closed`` says which ends belong.

    ``kind`` is ``"int"`` (an integer, never a bool) or ``"real"`` (a finite
    number). ``None`` for a bound means unbounded on that side.
    """

    kind: str
    low: float | None
    high: float | None
    closed: str = "both"  # "left", "right", "both" or "neither"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` lies in the interval."""
        if not (_is_int(value) if self.kind == "int" else _is_real(value)):
            return False
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and not (value >= self.low if left else value > self.low):
            return False
        return self.high is None or (value <= self.high if right else value < self.high)

    def describe(self) -> str:
        """Say the rule in words: ``in (0, 0.5]`` or ``an integer >= 1``."""
        if self.kind == "int" and self.high is None:
            return f"an integer >= {self.low}"
        lo = "[" if self.closed in ("left", "both") else "("
        hi = "]" if self.closed in ("right", "both") else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        prefix = "an integer " if self.kind == "int" else ""
        return f"{prefix}in {lo}{low}, {high}{hi}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (compared with ``==``)."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is one of the options."""
        try:
            return any(not isinstance(value, bool) and bool(value == v) for v in self.values)
        except (TypeError, ValueError):  # e.g. an array compared element-wise
            return False

    def describe(self) -> str:
        """``one of a, b, c`` (or the value, quoted, when there is one)."""
        if len(self.values) == 1:
            return repr(self.values[0])
        return f"one of {', '.join(map(str, self.values))}"


@dataclass(frozen=True)
class Check:
    """Any rule given as a predicate and its description in words."""

    predicate: Callable[[Any], bool]
    description: str

    def accepts(self, value: Any) -> bool:
        """Whether ``predicate(value)`` holds.

        A predicate may raise :class:`ConfigError` itself for a more precise
        message; any other error counts as no.
        """
        try:
            return bool(self.predicate(value))
        except ConfigError:
            raise
        except (TypeError, ValueError, AttributeError):
            return False

    def describe(self) -> str:
        """Say the rule in words."""
        return self.description


Constraint = Interval | Options | Check | None


def _accepts(constraint: Constraint, value: Any) -> bool:
    return value is None if constraint is None else constraint.accepts(value)


def _describe(constraint: Constraint) -> str:
    return "None" if constraint is None else constraint.describe()


def validate(
    params: Mapping[str, Any],
    constraints: Mapping[str, Sequence[Constraint]],
    obj_name: str | None = None,
) -> None:
    """Check every parameter of ``params`` that ``constraints`` names.

    A value is valid when it meets at least one of its constraints. Raises
    :class:`ConfigError` naming the parameter, the rule and the value, e.g.
    ``contamination must be in (0, 0.5], got 0.7`` (prefixed with ``obj_name:``
    when given).
    """
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        # Checks last: one may raise its own, more precise, message.
        ordered = sorted(allowed, key=lambda c: isinstance(c, Check))
        if any(_accepts(c, value) for c in ordered):
            continue
        # None means "not set": a user who gave a bad value wants the valid range.
        rule = " or ".join(_describe(c) for c in allowed if c is not None) or "None"
        where = f"{obj_name}: " if obj_name else ""
        raise ConfigError(f"{where}{name} must be {rule}, got {value!r}")


# ------------------------------------------------------------------ shaped values
#: Most units (or channels) one layer may have, and most layers: a bound that keeps
#: a typo such as ``hidden=(100000000000,)`` from trying to allocate terabytes.
MAX_UNITS, MAX_LAYERS = 65_536, 64
#: Most networks one ensemble may hold (``members``).
MAX_MEMBERS = 10


def _int_sequence(value: Any) -> bool:
    return (
        not isinstance(value, str | bytes)
        and hasattr(value, "__len__")
        and 0 < len(value) <= MAX_LAYERS
        and all(_is_int(h) and 1 <= h <= MAX_UNITS for h in value)
    )


def _names(value: Any) -> bool:
    return not isinstance(value, str | bytes) and hasattr(value, "__iter__")


def _image_shape(value: Any) -> bool:
    return (
        not isinstance(value, str | bytes)
        and hasattr(value, "__len__")
        and len(value) == 3
        and all(_is_int(v) and v >= 1 for v in value)
    )


def _series_shape(value: Any) -> bool:
    return (
        not isinstance(value, str | bytes)
        and hasattr(value, "__len__")
        and len(value) == 2
        and all(_is_int(v) and v >= 1 for v in value)
    )


def _activation(value: Any) -> bool:
    if isinstance(value, str):
        return value in ACTIVATIONS
    return not isinstance(value, bytes) and all(a in ACTIVATIONS for a in value)


def _ensemble(value: Any) -> bool:
    parts = tuple(s for s in SCORES if s != "ensemble")
    return not isinstance(value, str) and len(value) > 0 and all(p in parts for p in value)


def _weights(value: Any) -> bool:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return False
    values = list(value)
    ok = all(isinstance(v, numbers.Real) and math.isfinite(v) and v >= 0 for v in values)
    return ok and len(values) > 0 and sum(values) > 0


def check_tokens(tokens: Any, name: str, allowed: str) -> None:
    """Raise :class:`ConfigError` unless ``tokens`` are positive ints or ``allowed``."""
    if isinstance(tokens, str | bytes) or not hasattr(tokens, "__iter__"):
        raise ConfigError(f"{name} must be a sequence like (32, 'pool', 16), got {tokens!r}")
    for t in tokens:
        ok = t == allowed if isinstance(t, str) else _is_int(t) and 1 <= t <= MAX_UNITS
        if not ok:
            raise ConfigError(
                f"{name} entries must be channel counts in [1, {MAX_UNITS}] or {allowed!r}, "
                f"got {t!r}"
            )


def layer_activations(activation: str | Sequence[str], n_hidden: int) -> list[str]:
    """One activation per hidden layer: encoder layers, then the decoder's hidden ones.

    A single name applies to all ``2 * n_hidden - 1`` of them; a sequence must
    name each (else :class:`ConfigError`).
    """
    n_layers = 2 * n_hidden - 1
    if isinstance(activation, str):
        return [activation] * n_layers
    names = list(activation)
    if len(names) != n_layers:
        raise ConfigError(
            f"activation needs one name or {n_layers} (encoder then decoder hidden layers), "
            f"got {len(names)}"
        )
    return names


POSITIVE = Interval("real", 0.0, None, "neither")
NON_NEGATIVE = Interval("real", 0.0, None, "left")
AT_LEAST_ONE = Interval("int", 1, None, "left")
NAMES = Check(_names, "a sequence of column names")

#: The encoder's parameters (:class:`~aedetect.data.encoding.TabularEncoder`).
ENCODER: dict[str, list[Constraint]] = {
    "scaling": [Options(SCALINGS)],
    "categorical": [NAMES, None],
    "category_weight": [POSITIVE],
    "missing": [Options(MISSING)],
    "clip": [POSITIVE, None],
    "sequences": [NAMES, None],
    "token_sep": [Check(lambda v: isinstance(v, str) and v != "", "a non-empty string"), None],
    "sequence_encoding": [Options(SEQUENCE_ENCODINGS)],
}

#: Shape parameters of the networks (see :mod:`aedetect.models.factory`).
MODEL: dict[str, list[Constraint]] = {
    "hidden": [
        Check(
            _int_sequence,
            "a non-empty sequence of positive integers "
            f"(at most {MAX_LAYERS} layers of at most {MAX_UNITS} units)",
        )
    ],
    "activation": [Check(_activation, f"one of {', '.join(ACTIVATIONS)} (or one per layer)")],
    "output_activation": [Options(OUTPUT_ACTIVATIONS)],
    "dropout": [Interval("real", 0.0, 1.0, "left")],
    "activity_l1": [NON_NEGATIVE],
    "kernel_size": [Interval("int", 1, 99, "both")],
    "pooling": [Options(POOLINGS)],
    "upsampling": [Options(UPSAMPLINGS)],
    "kl_weight": [NON_NEGATIVE],
    "members": [Interval("int", 1, MAX_MEMBERS, "both"), Options(("auto",))],
}

#: Training settings.
TRAINING: dict[str, list[Constraint]] = {
    "noise": [NON_NEGATIVE],
    "kl_anneal": [Interval("int", 0, None, "left")],
    "epochs": [AT_LEAST_ONE, Options(("auto",))],
    "trim": [Interval("real", 0.0, 0.5, "left")],
    "refit": [Interval("int", 0, 10, "both")],
    "batch_size": [AT_LEAST_ONE, Options(("auto",))],
    "lr": [POSITIVE],
    "optimizer": [Options(OPTIMIZERS)],
    "loss": [Options(LOSSES)],
    "weight_decay": [NON_NEGATIVE],
    "validation_fraction": [Interval("real", 0.0, 1.0, "left")],
    "patience": [AT_LEAST_ONE],
}

#: Score settings (see :mod:`aedetect.scoring`).
SCORING: dict[str, list[Constraint]] = {
    "scoring": [Options(SCORES)],
    "reduction": [Options(REDUCTIONS)],
    "n_clusters": [AT_LEAST_ONE],
    "distance": [Options(DISTANCES)],
    "layer_combine": [Options(LAYER_COMBINES)],
    "ensemble": [
        Check(_ensemble, "a non-empty tuple of " + ", ".join(s for s in SCORES if s != "ensemble"))
    ],
    "ensemble_method": [Options(ENSEMBLE_METHODS)],
    "ensemble_weights": [
        Check(_weights, "a non-empty tuple of non-negative numbers with a positive sum"),
        None,
    ],
    "n_neighbors": [Interval("int", 1, 10_000, "both")],
    "mc_samples": [Interval("int", 1, 10_000, "both")],
}

#: Threshold settings (see :mod:`aedetect.thresholds`).
THRESHOLD: dict[str, list[Constraint]] = {
    "contamination": [Interval("real", 0, 0.5, "right"), None],
    "threshold": [Check(lambda v: isinstance(v, str), "a rule such as 'mad:3'"), None],
}

#: Every parameter of :class:`~aedetect.AutoencoderDetector`, by name.
DETECTOR: dict[str, list[Constraint]] = {
    **MODEL,
    "model": [Options(MODELS)],
    "architecture": [Options(ARCHITECTURES), None],
    "image_shape": [Check(_image_shape, "(channels, height, width) positive integers"), None],
    "series_shape": [Check(_series_shape, "(window, channels) positive integers"), None],
    "conv_encoder": [
        Check(lambda v: check_tokens(v, "conv_encoder", "pool") is None, "tokens like (32, 'pool')")
    ],
    "conv_decoder": [
        Check(lambda v: check_tokens(v, "conv_decoder", "up") is None, "tokens like ('up', 32)"),
        None,
    ],
    **TRAINING,
    **THRESHOLD,
    **{("sequence_columns" if k == "sequences" else k): v for k, v in ENCODER.items()},
    **SCORING,
    "random_state": [
        Check(_is_int, "an integer"),
        None,
        Check(lambda v: hasattr(v, "randint"), "a numpy RandomState"),
    ],
    "device": [Options(DEVICES)],
    "verbose": [Check(lambda v: isinstance(v, numbers.Integral), "an integer")],
}

#: Every parameter's default, as plain data: the command line builds its
#: options and help from this without importing the detector (and torch).
#: A test checks it equals ``AutoencoderDetector().get_params()``.
DEFAULTS: dict[str, Any] = {
    "hidden": (64, 32, 8),
    "activation": "relu",
    "output_activation": "identity",
    "dropout": 0.0,
    "activity_l1": 0.0,
    "architecture": None,
    "image_shape": None,
    "series_shape": None,
    "conv_encoder": (32, "pool", 16, "pool", 8),
    "conv_decoder": None,
    "kernel_size": 3,
    "pooling": "max",
    "upsampling": "nearest",
    "model": "ae",
    "kl_weight": 1.0,
    "members": "auto",
    "kl_anneal": 0,
    "noise": 0.0,
    "epochs": "auto",
    "batch_size": "auto",
    "lr": 3e-3,
    "optimizer": "adam",
    "loss": "mse",
    "weight_decay": 0.0,
    "validation_fraction": 0.1,
    "patience": 20,
    "trim": 0.0,
    "refit": 0,
    "contamination": None,
    "threshold": None,
    "scaling": "standard",
    "categorical": None,
    "category_weight": 1.0,
    "clip": 5.0,
    "missing": "error",
    "sequence_columns": None,
    "token_sep": None,
    "sequence_encoding": "onehot",
    "scoring": "reconstruction",
    "reduction": "mean",
    "n_clusters": 5,
    "distance": "euclidean",
    "layer_combine": "min",
    "ensemble": ("reconstruction", "latent-kmeans"),
    "ensemble_method": "rank",
    "ensemble_weights": None,
    "n_neighbors": 5,
    "mc_samples": 16,
    "random_state": None,
    "device": "auto",
    "verbose": 0,
}

#: Names of the built-in data sets (:data:`aedetect.data.datasets.BUILTIN`'s
#: keys, in order), for help texts that must not import the data loaders.
BUILTIN_DATA_SETS = (
    "digits",
    "mixed",
    "sequences",
    "mnist5k",
    "mnist",
    "fashion-mnist",
    "cifar10",
    "photos",
    "synthetic",
)


#: Window model settings a series does not use: its score is the windows'
#: reconstruction error, its values are numbers, every one given.
UNUSED_BY_SERIES = ("scoring", "missing", "categorical", "sequence_columns", "image_shape")


def refuse_unused_by_series(params: Mapping[str, Any]) -> None:
    """Raise ConfigError naming a window model setting a series would ignore."""
    for name in UNUSED_BY_SERIES:
        value = params[name]
        if value not in (DEFAULTS[name], (), None):
            text = f"='{value}'" if isinstance(value, str) else f" '{','.join(map(str, value))}'"
            why = "errors" if name == "scoring" else "errors; its values are numbers, all given"
            raise ConfigError(
                f"a series model does not use {name}{text}: a series is scored by its windows' "
                f"reconstruction {why}"
            )
