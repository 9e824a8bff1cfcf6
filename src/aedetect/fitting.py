"""The pieces of ``AutoencoderDetector.fit`` that are not the estimator's business.

Parameter checks across parameters, image-shape inference, the training loss,
the validation split and the training run itself. Functions take the
estimator's parameters as a plain mapping (``get_params()``), so they can be
used and tested without an estimator.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional

from aedetect.data.encoding import TabularEncoder, as_frame
from aedetect.data.images import image_rows
from aedetect.exceptions import ConfigError, DataError
from aedetect.models.ensemble import Ensemble, members_of
from aedetect.models.factory import (
    ENSEMBLE_KINDS,
    IMAGE_KINDS,
    SERIES_KINDS,
    ModelSpec,
    build,
    resolve_kind,
)
from aedetect.params import DEFAULTS, DETECTOR, layer_activations, validate
from aedetect.runtime import resolve_device
from aedetect.scoring import ScoreConfig
from aedetect.thresholds import Threshold, fit_rule, threshold_rule
from aedetect.training import EpochCallback, History, PenaltyWarmup, TrainConfig, train

__all__ = [
    "SMALL_TABLE_ROWS",
    "check_params",
    "for_rows",
    "encode_training",
    "fit_threshold",
    "image_shape",
    "make_loss",
    "prepare_training",
    "score_config",
    "train_module",
    "validation_split",
]

log = logging.getLogger(__name__)
_VAE_ONLY = "reconstruction-probability"


#: Fewer training rows than this make a small table: a warning, and settings for it.
SMALL_TABLE_ROWS = 64
#: The share of each batch a small table's loss leaves out (default ``trim``).
SMALL_TABLE_TRIM = 0.1


#: The network of an all-numeric table when ``hidden`` is left at its default (see
#: :func:`for_rows`): wider layers ranked ADBench's tables better (BENCHMARKS.md).
NUMERIC_TABLE_HIDDEN = (256, 128, 16)
#: Networks a table of numbers gets with ``members="auto"``.
NUMERIC_TABLE_MEMBERS = 3
#: The largest table (rows) that gets the two settings above.
NUMERIC_TABLE_MAX_ROWS = 100_000
#: Member k of an ensemble is trained from ``seed + MEMBER_SEED_STEP * k``.
MEMBER_SEED_STEP = 1000


def for_rows(
    params: Mapping[str, Any],
    n_rows: int,
    images: bool = False,
    encoder: Any = None,
    table_rows: int | None = None,
) -> dict[str, Any]:
    """Return the parameters fit uses on ``n_rows`` rows (a warning when they are few).

    A table of numbers only (no category or sequence column, not images; known
    from the fitted ``encoder``) with ``hidden`` at its default and the dense
    autoencoder gets the wider :data:`NUMERIC_TABLE_HIDDEN`: on ADBench's tables
    it ranked anomalies better, held-back sets included; with one-hot columns it
    rebuilt common rows so closely that rows with rare categories were flagged.
    Such a table also gets :data:`NUMERIC_TABLE_MEMBERS` networks for
    ``members="auto"`` (one otherwise). Both only up to
    :data:`NUMERIC_TABLE_MAX_ROWS` rows (``table_rows``, the whole table's, when
    ``n_rows`` is a sample of it): beyond the tables they were measured on, where
    their cost (about 12 times the small network's) grows with every row.

    On a small table (fewer than :data:`SMALL_TABLE_ROWS` rows) the defaults
    change, so that the ranking does not invert: no rows are held out (early
    stopping judged on a handful of rows keeps an untrained network), and each
    batch's worst-rebuilt ``SMALL_TABLE_TRIM`` share of rows is left out of the loss
    (an outlier among ten rows is otherwise learnt, and scores lowest). A
    ``validation_fraction`` or ``trim`` set to another value is kept. Tables of
    ``SMALL_TABLE_ROWS`` rows or more are fitted with the parameters as given.
    """
    params = dict(params)
    # Numbers only: no one-hot column, and no sequence (tokens, even as integer codes).
    numeric = encoder is not None and not encoder.categorical_columns_ and not encoder.sequences_
    numeric = numeric and not images and params["model"] == "ae"
    numeric = numeric and (table_rows or n_rows) <= NUMERIC_TABLE_MAX_ROWS
    if numeric and params.get("architecture") is None:
        if tuple(params["hidden"]) == tuple(DEFAULTS["hidden"]):
            params["hidden"] = NUMERIC_TABLE_HIDDEN
    if params.get("members", 1) == "auto":
        params["members"] = NUMERIC_TABLE_MEMBERS if numeric else 1
    if n_rows >= SMALL_TABLE_ROWS:
        return params
    log.warning(
        "only %d %s to fit on (fewer than %d): too few to learn what is normal reliably; "
        "add rows if you can, and check the top-ranked rows by hand",
        n_rows,
        "images" if images else "rows",
        SMALL_TABLE_ROWS,
    )
    if params["validation_fraction"] == DEFAULTS["validation_fraction"]:
        params["validation_fraction"] = 0.0
    if params["trim"] == DEFAULTS["trim"]:
        params["trim"] = SMALL_TABLE_TRIM
    return params


def check_params(params: Mapping[str, Any]) -> None:
    """Validate an estimator's parameters: each against its constraint, then together."""
    validate(params, DETECTOR)
    kind = resolve_kind(params["model"], params.get("architecture"), warn=False)
    layer_activations(params["activation"], len(params["hidden"]))
    if kind == "conv":
        if not isinstance(params["activation"], str):
            raise ConfigError(
                f"activation must be one name with model='conv', got {params['activation']!r}"
            )
        if params["kernel_size"] % 2 == 0:
            raise ConfigError(f"kernel_size must be odd, got {params['kernel_size']}")
    threshold_rule(params["threshold"], params["contamination"])
    weights = params["ensemble_weights"]
    if weights is not None and len(weights) != len(params["ensemble"]):
        raise ConfigError(
            f"ensemble_weights needs one weight per ensemble score ({len(params['ensemble'])}), "
            f"got {len(weights)}"
        )
    if params["loss"] == "bce" and params["output_activation"] != "sigmoid":
        raise ConfigError(
            f"loss='bce' needs output_activation='sigmoid', got {params['output_activation']!r}"
        )
    is_vae = kind in ("vae", "conv-vae")
    if not is_vae and (params["scoring"] == _VAE_ONLY or _VAE_ONLY in params["ensemble"]):
        raise ConfigError(f"scoring {_VAE_ONLY!r} needs model='vae' or 'conv-vae', got {kind!r}")
    if is_vae and params["activity_l1"] > 0:
        raise ConfigError(f"activity_l1 works with model='ae' or 'conv' only, got {kind!r}")
    if kind in SERIES_KINDS and params.get("series_shape") is None:
        raise ConfigError(f"model={kind!r} needs series_shape (window, channels): fit a series")
    if kind in SERIES_KINDS and params["activity_l1"] > 0:
        raise ConfigError(f"activity_l1 works with model='ae' or 'conv' only, got {kind!r}")
    if params.get("members", 1) not in (1, "auto") and kind not in ENSEMBLE_KINDS:
        raise ConfigError(f"members must be 1 unless model is 'ae' or 'conv', got {kind!r}")
    resolve_device(params["device"])


def image_shape(
    params: Mapping[str, Any], from_data: tuple[int, int, int] | None, n_features: int
) -> tuple[int, int, int] | None:
    """Return the images' shape: from the data, else ``image_shape``; None for a table."""
    shape = from_data
    given = params.get("image_shape")
    if shape is None and given is not None:
        shape = (int(given[0]), int(given[1]), int(given[2]))
        if int(np.prod(shape)) != n_features:
            raise DataError(
                f"image_shape {shape} needs {int(np.prod(shape))} pixel columns, got {n_features}"
            )
    kind = resolve_kind(params["model"], params.get("architecture"), warn=False)
    if shape is None and kind in IMAGE_KINDS:
        what = "architecture='conv'" if params.get("architecture") == "conv" else f"model={kind!r}"
        raise DataError(
            f"{what} needs images: an array shaped (n, h, w) or (n, h, w, c), "
            "or flat pixel columns with image_shape=(channels, height, width)"
        )
    return shape


def prepare_training(
    params: Mapping[str, Any], X: Any, copy: bool = True
) -> tuple[Any, pd.DataFrame, tuple[int, int, int] | None, TabularEncoder, np.ndarray]:
    """Return the rows ``fit`` trains on: images flattened, checked, encoded.

    Returns the (flattened) input, it as a DataFrame, the images' shape (None
    for a table), the fitted encoder and the encoded float32 rows. With
    ``copy=False`` a writable C-ordered float32 array of numbers is encoded in
    place (the encoded rows are ``X``, overwritten); otherwise ``X`` is unchanged.
    """
    X, shape = image_rows(X)
    frame = as_frame(X)
    shape = image_shape(params, shape, frame.shape[1])
    if len(frame) < 2:
        n = len(frame)
        raise DataError(f"need at least 2 rows to fit, got {n} sample{'s' if n != 1 else ''}")
    encoder, encoded = encode_training(params, frame, None if copy else X, shape is not None)
    return X, frame, shape, encoder, encoded


def _encodes_in_place(encoder: TabularEncoder, X: Any) -> bool:
    """Whether ``X`` can hold its own encoding: float32 numbers, one column each, in order."""
    return (
        isinstance(X, np.ndarray)
        and X.dtype == np.float32
        and X.ndim == 2
        and X.flags.c_contiguous
        and X.flags.writeable
        and X.shape[1] == encoder.n_features_out_
        and encoder.missing != "impute"
        and not encoder.sequences_
        and all(c.kind == "numeric" for c in encoder.columns_)
    )


def encode_training(
    params: Mapping[str, Any], frame: Any, into: np.ndarray | None = None, images: bool = False
) -> tuple[TabularEncoder, np.ndarray]:
    """Fit the encoder the parameters describe on the training frame; encode it.

    ``into``: the array ``frame`` views, overwritten with the encoding when it
    can hold it (see :func:`prepare_training`). Constant columns are reported (a
    warning) for tables, not for images, whose borders are often blank in every
    image (MNIST's): expected, and no news; nor for windows of a series, whose
    detector names the constant value columns instead.
    """
    encoder = TabularEncoder(
        params["scaling"],
        params["categorical"],
        params["category_weight"],
        params["missing"],
        params["clip"],
        params["sequence_columns"],
        params["token_sep"],
        params["sequence_encoding"],
    )
    encoder.fit(frame)
    in_place = into is not None and _encodes_in_place(encoder, into)
    encoded = encoder.transform(frame, out=into if in_place else None)
    constant = encoder.constant_columns_
    if constant and not images and params.get("series_shape") is None:
        shown = ", ".join(repr(c) for c in constant[:5]) + (", ..." if len(constant) > 5 else "")
        log.warning(
            "%d column(s) constant in training (%s): any other value there will count as unusual",
            len(constant),
            shown,
        )
    if params["loss"] == "bce" and (encoded.min() < 0 or encoded.max() > 1):
        raise ConfigError("loss='bce' needs inputs scaled to [0, 1]: use scaling='minmax'")
    return encoder, encoded


def make_loss(loss: str, weights: torch.Tensor, n_columns: int, trim: float = 0.0) -> Any:
    """Make the training loss ``loss_fn(output, target)``: BCE, plain MSE, or weighted MSE.

    With ``trim`` > 0 the loss is a trimmed mean over rows: in each batch the
    ``trim`` share of rows rebuilt worst is left out, so rows that look like
    anomalies stop pulling the network towards rebuilding them.
    """
    if loss == "bce":
        return lambda out, x: functional.binary_cross_entropy(out, x.clamp(0.0, 1.0))
    if trim <= 0:
        if bool((weights == 1).all()):
            return functional.mse_loss
        return lambda out, x: ((out - x).square() @ weights).mean() / n_columns

    def trimmed(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        rows = ((out - x).square().flatten(1) @ weights) / n_columns
        keep = max(1, math.ceil((1.0 - trim) * len(rows)))
        if keep < len(rows):
            rows = torch.topk(rows, keep, largest=False, sorted=False).values
        return rows.mean()

    return trimmed


#: Optimisation steps that ``epochs="auto"`` aims at, and its bounds on the epochs.
STEP_BUDGET, MIN_EPOCHS, MAX_EPOCHS = 600, 10, 200


def n_epochs(epochs: int | str, n_rows: int, batch_size: int) -> int:
    """Resolve ``epochs``: ``auto`` is about :data:`STEP_BUDGET` steps, within 10..200 epochs."""
    if epochs != "auto":
        return int(epochs)
    steps = max(1, math.ceil(n_rows / batch_size))
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(STEP_BUDGET / steps))))


def validation_split(
    n: int, fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Training and held-out row indices (None when ``fraction`` leaves no rows)."""
    n_val = int(round(n * float(fraction)))
    if n_val < 1 or n - n_val < 1:
        return torch.arange(n), None
    order = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    return order[n_val:], order[:n_val]


def score_config(params: Mapping[str, Any]) -> ScoreConfig:
    """Return the scorer's settings from the estimator's parameters."""
    return ScoreConfig(
        score=params["scoring"],
        reduction=params["reduction"],
        n_clusters=int(params["n_clusters"]),
        distance=params["distance"],
        layer_combine=params["layer_combine"],
        ensemble=tuple(params["ensemble"]),
        ensemble_method=params["ensemble_method"],
        ensemble_weights=(
            None
            if params["ensemble_weights"] is None
            else tuple(float(w) for w in params["ensemble_weights"])
        ),
        n_neighbors=int(params["n_neighbors"]),
        mc_samples=int(params["mc_samples"]),
    )


def fit_threshold(
    params: Mapping[str, Any], scores: np.ndarray, val_idx: torch.Tensor | None, y: Any
) -> Threshold:
    """Fit the estimator's threshold rule on the training ``scores`` (held out: ``val_idx``)."""
    rule = threshold_rule(
        params["threshold"], params["contamination"], params["scoring"], params["ensemble_method"]
    )
    val_scores = scores[val_idx.numpy()] if val_idx is not None else None
    return fit_rule(rule, scores, val_scores, y, name=f"threshold={params['threshold']!r}")


def _batch_size(value: int | str, n_rows: int) -> int:
    if value == "auto":
        return min(256, max(32, n_rows // 8))
    return int(value)


def _log_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
    val = f" val {val_loss:.6g}" if val_loss is not None else ""
    log.info("epoch %d train %.6g%s", epoch, train_loss, val)


def _both(first: EpochCallback, then: EpochCallback) -> EpochCallback:
    def call(epoch: int, train_loss: float, val_loss: float | None) -> None:
        first(epoch, train_loss, val_loss)
        then(epoch, train_loss, val_loss)

    return call


def train_module(
    params: Mapping[str, Any],
    spec: ModelSpec,
    X: torch.Tensor,
    loss_fn: Any,
    seed: int,
    X_val: torch.Tensor | None = None,
    on_epoch: EpochCallback | None = None,
    module: torch.nn.Module | None = None,
) -> tuple[torch.nn.Module, History]:
    """Build the module ``spec`` describes (seeded), or take ``module``, and train it on ``X``.

    Call inside :func:`aedetect.runtime.compute` and a forked torch RNG: this
    seeds torch's global generator.
    """
    batch_size = _batch_size(params["batch_size"], len(X))
    config = TrainConfig(
        epochs=n_epochs(params["epochs"], len(X), batch_size),
        batch_size=batch_size,
        lr=float(params["lr"]),
        optimizer=params["optimizer"],
        weight_decay=float(params["weight_decay"]),
        patience=int(params["patience"]),
        noise=float(params["noise"]),
    )
    if params["verbose"]:  # every epoch logged, beside the caller's own callback
        on_epoch = _log_epoch if on_epoch is None else _both(_log_epoch, on_epoch)
    anneal = int(params["kl_anneal"])

    def one(spec: ModelSpec, seed: int, module: torch.nn.Module | None) -> tuple[Any, History]:
        torch.manual_seed(seed)
        module = (build(spec) if module is None else module).to(X.device)
        warmup = [PenaltyWarmup(anneal)] if spec.kind in ("vae", "conv-vae") and anneal > 0 else []
        history = train(
            module,
            X,
            loss_fn,
            config,
            X_val=X_val,
            generator=torch.Generator().manual_seed(seed),
            on_epoch=on_epoch,
            callbacks=warmup,
        )
        return module, history

    if spec.members == 1:
        return one(spec, seed, module)
    # An ensemble: each member trained on its own, from its own seed (the first's is
    # ``seed``, so a one-member fit trains the same network as the first member).
    # Epochs are reported as the whole fit's: the members' epochs so far over their
    # number, rounded up (one rising count that ends at ``epochs``, as for one network).
    warm = members_of(module) if module is not None else [None] * spec.members
    single, done, trained = replace(spec, members=1), [0], []
    if on_epoch is not None:
        report = on_epoch

        def counted(epoch: int, train_loss: float, val_loss: float | None) -> None:
            report(-(-(done[0] + epoch) // len(warm)), train_loss, val_loss)

        on_epoch = counted
    for k, m in enumerate(warm):
        trained.append(one(single, seed + MEMBER_SEED_STEP * k, m))
        done[0] += len(trained[-1][1].train_loss)
    return Ensemble([m for m, _ in trained]), _joined([h for _, h in trained])


def _joined(histories: list[History]) -> History:
    """Return one history of several members'.

    The mean loss per epoch (a member that stopped earlier counts with its last),
    the latest best epoch, the total time.
    """

    def mean(curves: list[list[float]]) -> list[float]:
        if not all(curves):
            return []
        n = max(len(c) for c in curves)
        return np.mean([c + [c[-1]] * (n - len(c)) for c in curves], axis=0).tolist()

    return History(
        train_loss=mean([h.train_loss for h in histories]),
        val_loss=mean([h.val_loss for h in histories]),
        best_epoch=max(h.best_epoch for h in histories),
        stopped_early=all(h.stopped_early for h in histories),
        seconds=sum(h.seconds for h in histories),
    )
