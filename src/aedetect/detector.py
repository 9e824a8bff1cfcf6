"""AutoencoderDetector: the scikit-learn-style estimator that ties the pieces together."""

from __future__ import annotations

import contextlib
import logging
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch spelling
from sklearn.base import BaseEstimator, OutlierMixin

from aedetect.data.encoding import MISSING, SCALINGS, TabularEncoder, as_frame
from aedetect.data.images import image_rows
from aedetect.data.sequences import ENCODINGS as SEQUENCE_ENCODINGS
from aedetect.exceptions import ConfigError, DataError, NotFittedError
from aedetect.models import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    POOLINGS,
    UPSAMPLINGS,
    ConvAutoencoder,
    ConvVAE,
    DenseAutoencoder,
    DenseVAE,
    add_input_noise,
    layer_activations,
)
from aedetect.models.conv import check_tokens
from aedetect.scoring import (
    DISTANCES,
    ENSEMBLE_METHODS,
    LAYER_COMBINES,
    REDUCTIONS,
    SCORES,
    ScoreConfig,
    Scorer,
    feature_squared_errors,
    reconstructions,
)
from aedetect.thresholds import ContaminationThreshold, check_contamination, parse_threshold
from aedetect.training import (
    OPTIMIZERS,
    EpochCallback,
    History,
    TrainConfig,
    cpu_threads,
    flushed_denormals,
    train,
)

__all__ = ["AutoencoderDetector"]

log = logging.getLogger(__name__)

LOSSES = ("mse", "bce")
DEVICES = ("auto", "cpu", "cuda")
MODELS = ("ae", "vae", "conv-vae")
ARCHITECTURES = ("dense", "conv")


class AutoencoderDetector(OutlierMixin, BaseEstimator):
    """Anomaly detector that scores rows by how badly an autoencoder rebuilds them.

    Train on (mostly) normal rows; rows the autoencoder reconstructs badly are
    anomalous. **Higher score = more anomalous**; ``predict`` returns 1 for an
    anomaly and 0 for a normal row (PyOD's convention).

    Parameters
    ----------
    hidden : tuple of int, default=(64, 32, 8)
        Encoder widths; the last is the latent size, the decoder mirrors them.
    activation : str or tuple of str, default="relu"
        Hidden-layer activation: relu, tanh, sigmoid, leaky_relu, elu, gelu,
        identity; or one per hidden layer, encoder layers then the decoder's hidden
        layers (``2 * len(hidden) - 1`` names).
    output_activation : {"identity", "sigmoid", "tanh", "relu"}, default="identity"
        Activation of the reconstruction. ``identity`` suits standardised data.
    dropout : float, default=0.0
        Dropout after each hidden layer but the latent one, in [0, 1).
    activity_l1 : float, default=0.0
        L1 penalty on the first hidden layer's activations (Keras'
        ``activity_regularizer``), added to the training loss.
    architecture : {"dense", "conv"}, default="dense"
        Fully connected layers (``hidden``) or a convolutional autoencoder
        (``conv_encoder``, ``conv_decoder``); ``conv`` needs images.
    image_shape : tuple of int, optional
        ``(channels, height, width)`` of images given as flat pixel columns
        (channel-first order, as ``images.reshape(n, -1)`` of (n, c, h, w)). Not
        needed for arrays shaped (n, h, w) or (n, h, w, c): those are images and
        their shape is taken from the data.
    conv_encoder : tuple of int or "pool", default=(32, "pool", 16, "pool", 8)
        Convolutional encoder: an integer is a convolution with that many output
        channels (then ``activation``), ``"pool"`` halves height and width.
    conv_decoder : tuple of int or "up", optional
        Decoder layers before the last convolution back to the image's channels
        (which gets ``output_activation``); ``"up"`` doubles height and width. By
        default the mirror of ``conv_encoder``.
    kernel_size : int, default=3
        Odd square kernel of every convolution ('same' padding).
    pooling : {"max", "avg"}, default="max"
        What ``"pool"`` does.
    upsampling : {"nearest", "bilinear"}, default="nearest"
        What ``"up"`` does.
    model : {"ae", "vae", "conv-vae"}, default="ae"
        ``ae``: a dense autoencoder. ``vae``: a dense variational autoencoder
        (Gaussian latent, KL term). ``conv-vae``: a convolutional VAE on images;
        needs images (an array shaped (n, h, w) or (n, h, w, c), or ``image_shape``);
        ``hidden`` then gives the conv channels and, last, the latent size.
    kl_weight : float, default=1.0
        Weight of the VAE's KL term (per input feature, on the scale of the MSE).
    kl_anneal : int, default=0
        Raise the KL weight linearly from ``kl_weight / kl_anneal`` to ``kl_weight``
        over this many epochs; 0 uses the full weight from the start.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the (scaled) inputs during
        training only: a denoising autoencoder. 0 turns it off.
    epochs : int, default=200
        Maximum number of passes over the training rows.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step. ``auto`` is ``min(256, max(32, n_rows // 8))``:
        256 on large data (fast), smaller on small tables so that every epoch
        still takes several steps.
    lr : float, default=3e-3
        Learning rate.
    optimizer : {"adam", "sgd", "adagrad"}, default="adam"
        Optimiser.
    loss : {"mse", "bce"}, default="mse"
        Training loss. ``bce`` needs ``output_activation="sigmoid"`` and inputs in
        [0, 1] (``scaling="minmax"``). Scores are always squared errors.
    weight_decay : float, default=0.0
        L2 penalty on the weights.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping, in [0, 1). 0 turns it off.
    patience : int, default=20
        Epochs without a better validation loss before stopping; the best
        weights are restored.
    contamination : float, default=0.1
        Expected share of anomalies, in (0, 0.5]: the threshold is the
        ``1 - contamination`` quantile of the training scores (unless
        ``threshold`` names another rule).
    threshold : str, optional
        A threshold rule instead of ``contamination``: ``quantile:0.99``,
        ``ratio:0.0002`` (known anomaly ratio), ``fixed:0.05``, ``fpr:0.01``
        (false-positive rate on the held-out validation rows), ``mad:3`` (median +
        3 MAD), ``iqr:1.5``, ``gpd:0.001`` / ``gamma:0.001`` (fitted tail), ``f1``
        (F1-optimal; needs ``fit(X, y)`` with 0/1 labels). See
        :mod:`aedetect.thresholds`.
    scaling : {"standard", "minmax", "pooled", "unit", "symmetric", "none"}, default="standard"
        Scaling of numeric columns. ``standard`` suits tables of mixed units;
        ``pooled`` (centre each column, one shared divisor) suits columns in the
        same units such as pixels; ``unit`` and ``symmetric`` map the training
        data's overall minimum..maximum (e.g. pixels 0..255) onto [0, 1] or
        [-1, 1], one map for every column. A constant column never gets a ~0 divisor.
    categorical : tuple of str, optional
        Columns to one-hot encode; text columns are detected on their own.
    category_weight : float, default=1.0
        Cost of a wholly wrong category, in squared standard deviations.
    clip : float or None, default=5.0
        The network sees numbers clipped to their training mean +- ``clip``
        standard deviations, while errors use the real value: an out-of-range
        number cannot be copied through and always raises the score. ``None``
        turns it off.
    missing : {"error", "impute"}, default="error"
        Reject missing values (naming column and row) or impute them with the
        median / most frequent value plus a missing indicator.
    sequence_columns : tuple of str, optional
        Columns of fixed-length token sequences (strings such as ``"ABCD1QWO"``).
        Each becomes one categorical column per position, ``name[1]``, ...; a
        value of the wrong length is padded or cut, logged, and scores as unusual.
    token_sep : str, optional
        Separator of multi-character tokens; by default each character is a token.
    sequence_encoding : {"onehot", "ordinal"}, default="onehot"
        Positions one-hot encoded, or as the reference system's integer codes
        (use with ``scaling="minmax"`` for its per-position [0, 1]).
    scoring : str, default="reconstruction"
        The anomaly score :meth:`decision_function` returns (the threshold is
        fitted on it; named ``scoring`` because scikit-learn reserves ``score``):
        ``reconstruction`` (weighted squared error), ``latent-kmeans`` (distance of
        the latent code to the nearest of ``n_clusters`` k-means centroids of the
        training codes), ``layerwise`` (the same for every encoder layer, each
        standardised on the training rows, then combined by ``layer_combine``),
        ``ensemble`` (the scores in ``ensemble`` combined by ``ensemble_method``) or
        ``reconstruction-probability`` (VAE only: negative Monte-Carlo
        log-likelihood under the decoder's Gaussian, whose per-feature variance is
        that of the training residuals, floored at a tenth of their mean). Every
        score's state is fitted, so :meth:`all_scores` gives them all.
    reduction : {"mean", "sum"}, default="mean"
        Reconstruction error per item: weighted squared errors summed, divided by
        the number of columns (``mean``) or not (``sum``).
    n_clusters : int, default=5
        k of the k-means behind ``latent-kmeans`` and ``layerwise``.
    distance : {"euclidean", "mahalanobis"}, default="euclidean"
        Distance to the nearest centroid; ``mahalanobis`` uses the pooled
        within-cluster covariance of the training codes.
    layer_combine : {"min", "mean"}, default="min"
        How ``layerwise`` combines the standardised per-layer distances.
    ensemble : tuple of str, default=("reconstruction", "latent-kmeans")
        Scores the ``ensemble`` score averages.
    ensemble_method : {"rank", "zscore"}, default="rank"
        Put each part on one scale by its rank among the training scores, or by
        standardising with their mean and standard deviation.
    mc_samples : int, default=16
        Latent samples behind ``reconstruction-probability`` (fixed draws, so an
        item's score does not depend on the batch).
    random_state : int, optional
        Seed for weights, shuffling and the validation split. The same seed gives
        the same scores, bit for bit, on CPU.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train; ``auto`` picks CUDA when available.
    verbose : int, default=0
        1 logs a line per epoch at INFO level.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained autoencoder.
    encoder_ : TabularEncoder
        Scaling and one-hot state learned from the training data.
    history_ : History
        Loss per epoch (train and validation) and the epoch kept.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training rows.
    threshold_ : float
        Scores above it are anomalies.
    threshold_rule_ : str
        The rule that set ``threshold_``, in words.
    labels_ : ndarray of shape (n_samples,)
        0/1 labels of the training rows.
    scorer_ : Scorer
        Fitted state of every score (centroids, standardisation), as arrays.
    n_features_in_ : int
        Number of input columns (pixels times channels for images).
    image_shape_ : tuple of int or None
        ``(channels, height, width)`` of the training images; None for tables.
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from aedetect import AutoencoderDetector
    >>> X = load_digits().data
    >>> det = AutoencoderDetector(epochs=5, random_state=0).fit(X)
    >>> det.decision_function(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (64, 32, 8),
        activation: str | tuple[str, ...] = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
        activity_l1: float = 0.0,
        architecture: str = "dense",
        image_shape: tuple[int, int, int] | None = None,
        conv_encoder: tuple[int | str, ...] = (32, "pool", 16, "pool", 8),
        conv_decoder: tuple[int | str, ...] | None = None,
        kernel_size: int = 3,
        pooling: str = "max",
        upsampling: str = "nearest",
        model: str = "ae",
        kl_weight: float = 1.0,
        kl_anneal: int = 0,
        noise: float = 0.0,
        epochs: int = 200,
        batch_size: int | str = "auto",
        lr: float = 3e-3,
        optimizer: str = "adam",
        loss: str = "mse",
        weight_decay: float = 0.0,
        validation_fraction: float = 0.1,
        patience: int = 20,
        contamination: float = 0.1,
        threshold: str | None = None,
        scaling: str = "standard",
        categorical: tuple[str, ...] | None = None,
        category_weight: float = 1.0,
        clip: float | None = 5.0,
        missing: str = "error",
        sequence_columns: tuple[str, ...] | None = None,
        token_sep: str | None = None,
        sequence_encoding: str = "onehot",
        scoring: str = "reconstruction",
        reduction: str = "mean",
        n_clusters: int = 5,
        distance: str = "euclidean",
        layer_combine: str = "min",
        ensemble: tuple[str, ...] = ("reconstruction", "latent-kmeans"),
        ensemble_method: str = "rank",
        mc_samples: int = 16,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.activity_l1 = activity_l1
        self.architecture = architecture
        self.image_shape = image_shape
        self.conv_encoder = conv_encoder
        self.conv_decoder = conv_decoder
        self.kernel_size = kernel_size
        self.pooling = pooling
        self.upsampling = upsampling
        self.model = model
        self.kl_weight = kl_weight
        self.kl_anneal = kl_anneal
        self.noise = noise
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.loss = loss
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.contamination = contamination
        self.threshold = threshold
        self.scaling = scaling
        self.categorical = categorical
        self.category_weight = category_weight
        self.clip = clip
        self.missing = missing
        self.sequence_columns = sequence_columns
        self.token_sep = token_sep
        self.sequence_encoding = sequence_encoding
        self.scoring = scoring
        self.reduction = reduction
        self.n_clusters = n_clusters
        self.distance = distance
        self.layer_combine = layer_combine
        self.ensemble = ensemble
        self.ensemble_method = ensemble_method
        self.mc_samples = mc_samples
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> AutoencoderDetector:
        """Detector with the parameters of a named preset, then ``overrides``.

        See :data:`aedetect.models.presets.PRESETS`: ``sequence-ae`` (reference
        C's network), ``sequence-ae-onehot``, ``sequence-ae-2d``; for images
        ``conv-mnist``, ``conv-cifar`` (A), ``dense-64``, ``deep-dense``,
        ``conv-keras`` (B), ``digits-deep`` (D), ``mnist-100-50`` (E).
        """
        from aedetect.models.presets import preset_params

        try:
            params = preset_params(name)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
        return cls(**{**params, **overrides})

    # ------------------------------------------------------------ checks
    def _validate_params(self) -> None:
        def choice(name: str, allowed: tuple[str, ...]) -> None:
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")

        def integer(name: str, low: int) -> None:
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")

        def real(name: str, low: float, high: float, low_open: bool, high_open: bool) -> None:
            value = getattr(self, name)
            ok = (
                isinstance(value, numbers.Real)
                and not isinstance(value, bool)
                and np.isfinite(value)
            )
            if ok:
                ok = (value > low if low_open else value >= low) and (
                    value < high if high_open else value <= high
                )
            if not ok:
                lo, hi = "(" if low_open else "[", ")" if high_open else "]"
                raise ConfigError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}")

        hidden = self.hidden
        if (
            isinstance(hidden, (str, bytes))
            or not hasattr(hidden, "__len__")
            or len(hidden) == 0
            or not all(isinstance(h, numbers.Integral) and h >= 1 for h in hidden)
        ):
            raise ConfigError(
                f"hidden must be a non-empty sequence of positive integers, got {hidden!r}"
            )
        try:
            acts = layer_activations(self.activation, len(hidden))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        for act in acts:
            if act not in ACTIVATIONS:
                raise ConfigError(
                    f"activation must be one of {', '.join(ACTIVATIONS)}, got {act!r}"
                )
        choice("output_activation", OUTPUT_ACTIVATIONS)
        choice("architecture", ARCHITECTURES)
        choice("pooling", POOLINGS)
        choice("upsampling", UPSAMPLINGS)
        integer("kernel_size", 1)
        if self.architecture == "conv":
            self._validate_conv()
        choice("optimizer", OPTIMIZERS)
        choice("loss", LOSSES)
        choice("scaling", SCALINGS)
        choice("missing", MISSING)
        choice("sequence_encoding", SEQUENCE_ENCODINGS)
        choice("device", DEVICES)
        real("dropout", 0.0, 1.0, False, True)
        real("activity_l1", 0.0, np.inf, False, True)
        integer("epochs", 1)
        if self.batch_size != "auto":
            integer("batch_size", 1)
        integer("patience", 1)
        real("lr", 0.0, np.inf, True, True)
        real("weight_decay", 0.0, np.inf, False, True)
        real("validation_fraction", 0.0, 1.0, False, True)
        real("category_weight", 0.0, np.inf, True, True)
        if self.clip is not None:
            real("clip", 0.0, np.inf, True, True)
        check_contamination(self.contamination)
        self._threshold_rule()
        if self.loss == "bce" and self.output_activation != "sigmoid":
            raise ConfigError(
                f"loss='bce' needs output_activation='sigmoid', got {self.output_activation!r}"
            )
        self._validate_score_params(choice, integer, real)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device='cuda' but no CUDA device is available; use 'auto' or 'cpu'")

    def _validate_score_params(
        self, choice: Callable[..., None], integer: Callable[..., None], real: Callable[..., None]
    ) -> None:
        """Validate the model-kind and score parameters."""
        choice("model", MODELS)
        real("kl_weight", 0.0, np.inf, False, True)
        integer("kl_anneal", 0)
        real("noise", 0.0, np.inf, False, True)
        choice("scoring", SCORES)
        choice("reduction", REDUCTIONS)
        integer("n_clusters", 1)
        choice("distance", DISTANCES)
        choice("layer_combine", LAYER_COMBINES)
        choice("ensemble_method", ENSEMBLE_METHODS)
        integer("mc_samples", 1)
        parts = self.ensemble
        allowed = tuple(s for s in SCORES if s != "ensemble")
        if isinstance(parts, str) or not parts or any(p not in allowed for p in parts):
            raise ConfigError(
                f"ensemble must be a non-empty tuple of {', '.join(allowed)}, got {parts!r}"
            )
        vae_only = "reconstruction-probability"
        if self.model == "ae" and (self.scoring == vae_only or vae_only in parts):
            raise ConfigError(f"scoring {vae_only!r} needs model='vae' or 'conv-vae', got 'ae'")
        if self.model != "ae" and self.activity_l1 > 0:
            raise ConfigError(f"activity_l1 works with model='ae' only, got {self.model!r}")

    def _validate_conv(self) -> None:
        try:
            check_tokens(self.conv_encoder, "conv_encoder", "pool")
            if self.conv_decoder is not None:
                check_tokens(self.conv_decoder, "conv_decoder", "up")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not isinstance(self.activation, str):
            raise ConfigError(
                f"activation must be one name with architecture='conv', got {self.activation!r}"
            )
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be odd, got {self.kernel_size}")

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: call fit first"
            )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn hook
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        tags.input_tags.allow_nan = self.missing == "impute"
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------- helpers
    def _resolve_seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs) % (2**32)
        raise ConfigError(f"random_state must be an integer or None, got {rs!r}")

    def _torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    @contextlib.contextmanager
    def _compute(self) -> Iterator[None]:
        """Thread count and subnormal flushing for training and scoring."""
        with cpu_threads(), flushed_denormals():
            yield

    def _flat(self, X: Any) -> Any:
        """Images (n, h, w) / (n, h, w, c) as flat rows, checked against the training shape."""
        flat, shape = image_rows(X)
        if shape is not None and shape != self.image_shape_:
            raise DataError(
                f"images are {'x'.join(map(str, shape))} (channels x height x width), but "
                f"{type(self).__name__} was fitted on "
                + (
                    "a table"
                    if self.image_shape_ is None
                    else "x".join(map(str, self.image_shape_))
                )
            )
        return flat

    def _encode(self, X: Any) -> torch.Tensor:
        X = self._flat(X)
        frame = as_frame(X)
        if not isinstance(X, pd.DataFrame) and frame.shape[1] != self.n_features_in_:
            raise DataError(
                f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        encoded = self.encoder_.transform(frame)
        return torch.from_numpy(encoded).to(self._device_)

    def _loss_fn(self, weights: torch.Tensor, n_columns: int):
        if self.loss == "bce":
            return lambda out, x: F.binary_cross_entropy(out, x.clamp(0.0, 1.0))
        if bool((weights == 1).all()):
            return F.mse_loss
        return lambda out, x: ((out - x).square() @ weights).mean() / n_columns

    # ----------------------------------------------------------------- fit
    def fit(
        self, X: Any, y: Any = None, *, on_epoch: EpochCallback | None = None
    ) -> AutoencoderDetector:
        """Train the autoencoder on ``X`` and set the threshold.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows, mostly normal. DataFrames may mix numbers and text.
        y : ignored
            Present for scikit-learn compatibility.
        on_epoch : callable, optional
            ``on_epoch(epoch, train_loss, val_loss)`` after every epoch (progress).

        Returns
        -------
        self : AutoencoderDetector
        """
        self._validate_params()
        X, image_shape = image_rows(X)
        frame = as_frame(X)
        image_shape = self._image_shape(image_shape, frame.shape[1])
        n = len(frame)
        if n < 2:
            raise DataError(f"need at least 2 rows to fit, got {n} sample{'s' if n != 1 else ''}")
        encoder = TabularEncoder(
            self.scaling,
            self.categorical,
            self.category_weight,
            self.missing,
            self.clip,
            self.sequence_columns,
            self.token_sep,
            self.sequence_encoding,
        )
        encoded = encoder.fit_transform(frame)
        constant = encoder.constant_columns_
        if constant:
            shown = ", ".join(repr(c) for c in constant[:5]) + (
                ", ..." if len(constant) > 5 else ""
            )
            log.warning(
                "%d column(s) constant in training (%s): "
                "any other value there will count as unusual",
                len(constant),
                shown,
            )
        if self.loss == "bce" and (encoded.min() < 0 or encoded.max() > 1):
            raise ConfigError("loss='bce' needs inputs scaled to [0, 1]: use scaling='minmax'")
        seed = self._resolve_seed()
        device = self._torch_device()
        train_idx, val_idx = self._split(n, seed)
        X_all = torch.from_numpy(encoded).to(device)
        bounds = self._bounds(encoder, device)
        X_fit = X_all.clamp(*bounds)
        weights = torch.from_numpy(encoder.feature_weights_).to(device)
        n_columns = len(encoder.columns_)
        config = TrainConfig(
            epochs=int(self.epochs),
            batch_size=self._batch_size(len(train_idx)),
            lr=float(self.lr),
            optimizer=self.optimizer,
            weight_decay=float(self.weight_decay),
            patience=int(self.patience),
        )
        callback = on_epoch
        if self.verbose and callback is None:
            callback = _log_epoch
        with self._compute(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = self._build_module(encoded.shape[1], image_shape).to(device)
            callback, noise_hook = self._training_hooks(module, callback)
            generator = torch.Generator().manual_seed(seed)
            history = train(
                module,
                X_fit[train_idx] if val_idx is not None else X_fit,
                self._loss_fn(weights, n_columns),
                config,
                X_val=X_fit[val_idx] if val_idx is not None else None,
                generator=generator,
                on_epoch=callback,
                extra_loss=module.penalty if self.activity_l1 > 0 or self.model != "ae" else None,
            )
            if noise_hook is not None:
                noise_hook.remove()
            if self.model != "ae":
                module.kl_scale = 1.0
            scorer = self._scorer(weights, n_columns, bounds)
            scores = scorer.fit(module, X_all, seed)
        names = encoder.feature_names_in_ if isinstance(X, pd.DataFrame) else None
        val_scores = scores[val_idx.numpy()] if val_idx is not None else None
        threshold = self._fit_threshold(scores, val_scores, y)
        self._set_fitted(
            encoder,
            module,
            history,
            frame.shape[1],
            names,
            device,
            scores,
            scorer,
            threshold,
            image_shape,
        )
        return self

    def _threshold_rule(self) -> Any:
        if self.threshold is None:
            return ContaminationThreshold(self.contamination)
        if not isinstance(self.threshold, str):
            raise ConfigError(f"threshold must be a rule such as 'mad:3', got {self.threshold!r}")
        return parse_threshold(self.threshold)

    def _fit_threshold(self, scores: np.ndarray, val_scores: np.ndarray | None, y: Any) -> float:
        """Fit the threshold rule: on all scores, on held-out rows, or with labels."""
        rule = self._threshold_rule()
        if rule.needs_labels:
            if y is None:
                raise ConfigError(
                    f"threshold={self.threshold!r} needs 0/1 labels: fit(X, y), "
                    "or --label-column on the command line"
                )
            rule.fit(scores, np.asarray(y))
        elif rule.needs_normal_scores:
            if val_scores is None:
                log.warning(
                    "threshold=%r wants held-out normal rows but validation_fraction gives "
                    "none; using the training scores",
                    self.threshold,
                )
            rule.fit(scores if val_scores is None else val_scores)
        else:
            rule.fit(scores)
        self.threshold_rule_ = rule.describe()
        return float(rule.threshold_)

    def _scorer(self, weights: torch.Tensor, n_columns: int, bounds: Any) -> Scorer:
        """Build an unfitted scorer for this detector's score parameters."""
        config = ScoreConfig(
            score=self.scoring,
            reduction=self.reduction,
            n_clusters=int(self.n_clusters),
            distance=self.distance,
            layer_combine=self.layer_combine,
            ensemble=tuple(self.ensemble),
            ensemble_method=self.ensemble_method,
            mc_samples=int(self.mc_samples),
        )
        return Scorer(config, weights, n_columns, bounds)

    def _training_hooks(
        self, module: torch.nn.Module, callback: EpochCallback | None
    ) -> tuple[EpochCallback | None, Any]:
        """KL annealing (through the epoch callback) and input noise (a forward hook)."""
        handle = add_input_noise(module, float(self.noise)) if self.noise > 0 else None
        anneal = int(self.kl_anneal)
        if self.model == "ae" or anneal <= 0:
            return callback, handle
        module.kl_scale = 1.0 / anneal

        def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
            module.kl_scale = min(1.0, (epoch + 1) / anneal)
            if callback is not None:
                callback(epoch, train_loss, val_loss)

        return on_epoch, handle

    def _image_shape(
        self, from_data: tuple[int, int, int] | None, n_features: int
    ) -> tuple[int, int, int] | None:
        """Return the images' shape: from the data, else ``image_shape``; None for a table."""
        shape = from_data
        if shape is None and self.image_shape is not None:
            given = self.image_shape
            if (
                isinstance(given, (str, bytes))
                or not hasattr(given, "__len__")
                or len(given) != 3
                or not all(isinstance(v, numbers.Integral) and v >= 1 for v in given)
            ):
                raise ConfigError(
                    "image_shape must be (channels, height, width) positive integers, "
                    f"got {given!r}"
                )
            shape = (int(given[0]), int(given[1]), int(given[2]))
            if int(np.prod(shape)) != n_features:
                raise DataError(
                    f"image_shape {shape} needs {int(np.prod(shape))} pixel columns, "
                    f"got {n_features}"
                )
        if shape is None and (self.architecture == "conv" or self.model == "conv-vae"):
            what = "architecture='conv'" if self.architecture == "conv" else "model='conv-vae'"
            raise DataError(
                f"{what} needs images: an array shaped (n, h, w) or (n, h, w, c), "
                "or flat pixel columns with image_shape=(channels, height, width)"
            )
        return shape

    def _set_fitted(
        self,
        encoder: TabularEncoder,
        module: torch.nn.Module,
        history: History,
        n_features_in: int,
        feature_names: list[str] | None,
        device: torch.device,
        scores: np.ndarray,
        scorer: Scorer,
        threshold: float,
        image_shape: tuple[int, int, int] | None = None,
    ) -> None:
        """Set every fitted attribute; shared by ``fit`` and loading a model file."""
        self.image_shape_ = image_shape
        self.encoder_ = encoder
        self.scorer_ = scorer
        self.module_ = module
        self.history_ = history
        self.n_features_in_ = n_features_in
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._device_ = device
        self._weights_ = torch.from_numpy(encoder.feature_weights_).to(device)
        self._bounds_ = self._bounds(encoder, device)
        self.decision_scores_ = scores
        self.threshold_ = threshold
        self.labels_ = (scores > threshold).astype(int)

    def _batch_size(self, n_rows: int) -> int:
        if self.batch_size == "auto":
            return min(256, max(32, n_rows // 8))
        return int(self.batch_size)

    @staticmethod
    def _bounds(encoder: TabularEncoder, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        low, high = encoder.clip_bounds()
        return torch.from_numpy(low).to(device), torch.from_numpy(high).to(device)

    def _split(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        n_val = int(round(n * float(self.validation_fraction)))
        if n_val < 1 or n - n_val < 1:
            return torch.arange(n), None
        order = torch.from_numpy(np.random.default_rng(seed).permutation(n))
        return order[n_val:], order[:n_val]

    def _build_module(
        self, n_features: int, image_shape: tuple[int, int, int] | None = None
    ) -> torch.nn.Module:
        hidden = tuple(int(h) for h in self.hidden)
        if self.model == "vae":
            return DenseVAE(
                n_features,
                hidden,
                self.activation,
                self.output_activation,
                float(self.dropout),
                float(self.kl_weight),
            )
        if self.model == "conv-vae":
            act = self.activation if isinstance(self.activation, str) else self.activation[0]
            return ConvVAE(
                image_shape,
                hidden[:-1],
                hidden[-1],
                act,
                self.output_activation,
                float(self.kl_weight),
            )
        if self.architecture == "conv":
            try:
                return ConvAutoencoder(
                    image_shape,
                    tuple(self.conv_encoder),
                    None if self.conv_decoder is None else tuple(self.conv_decoder),
                    int(self.kernel_size),
                    self.activation,
                    self.output_activation,
                    self.pooling,
                    self.upsampling,
                    float(self.dropout),
                    float(self.activity_l1),
                )
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        return DenseAutoencoder(
            n_features,
            tuple(int(h) for h in self.hidden),
            self.activation,
            self.output_activation,
            float(self.dropout),
            float(self.activity_l1),
        )

    # ------------------------------------------------------------- outputs
    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score of each row (the ``scoring`` parameter; by default reconstruction).

        Higher = more anomalous. The default is the weighted mean squared
        reconstruction error: for a numeric table the per-row MSE of the scaled
        values; a categorical column adds the error of its one-hot block.
        """
        self._check_fitted()
        Xt = self._encode(X)
        with self._compute():
            return self.scorer_.score(self.module_, Xt)

    def all_scores(self, X: Any) -> pd.DataFrame:
        """Every score the fitted detector can give, one column each, higher = more anomalous.

        Columns: ``reconstruction``, ``latent-kmeans``, ``layerwise``, ``ensemble``
        and, for a VAE, ``reconstruction-probability``; each with this detector's
        options (``reduction``, ``distance``, ...).
        """
        self._check_fitted()
        Xt = self._encode(X)
        with self._compute():
            return pd.DataFrame(self.scorer_.scores(self.module_, Xt, self.scorer_.available()))

    def predict(self, X: Any) -> np.ndarray:
        """1 for rows scoring above ``threshold_``, 0 otherwise."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    def fit_predict(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``X`` and return its 0/1 labels."""
        return self.fit(X, y, **fit_params).labels_

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``X`` and return its latent codes."""
        return self.fit(X, y, **fit_params).transform(X)

    def transform(self, X: Any) -> np.ndarray:
        """Latent code of each row, shape (n_samples, hidden[-1]); flattened for conv."""
        self._check_fitted()
        Xt = self._encode(X)
        with self._compute(), torch.no_grad():
            self.module_.eval()
            return self.module_.encode(Xt.clamp(*self._bounds_)).cpu().numpy()

    def reconstruct(self, X: Any) -> np.ndarray | pd.DataFrame:
        """Reconstruction of each row in the original columns and units.

        Numbers are unscaled; a categorical column gets its most likely category.
        Returns a DataFrame when ``X`` is one, else a float array.
        """
        self._check_fitted()
        Xt = self._encode(X)
        with self._compute():
            encoded = reconstructions(self.module_, Xt, self._bounds_)
        decoded = self.encoder_.inverse_transform(encoded)
        if isinstance(X, pd.DataFrame):
            return decoded
        return decoded.to_numpy(dtype=np.float64)

    def explain(self, X: Any, top: int = 5) -> pd.DataFrame:
        """Say which columns (or sequence positions) made each row's score.

        Parameters
        ----------
        X : array-like or DataFrame
            Rows to explain.
        top : int, default=5
            How many columns to report per row, largest error first.

        Returns
        -------
        DataFrame
            One line per (row, column): ``row`` (0-based position in ``X``),
            ``column`` (a sequence column is reported per position, ``seq[3]``),
            ``seen``, ``expected`` (the reconstruction, decoded: a number in the
            column's units, or the most likely category or token), ``error`` (its
            weighted squared error) and ``share`` (of the row's total error).
        """
        self._check_fitted()
        frame = as_frame(self._flat(X))
        seen = self.encoder_.readable(frame)
        expected = self.reconstruct(frame)
        expected = (
            expected
            if isinstance(expected, pd.DataFrame)
            else pd.DataFrame(expected, columns=self.encoder_.column_names_)
        )
        errors = self.feature_errors(frame, positions=True)
        totals = errors.sum(axis=1, keepdims=True)
        share = np.divide(errors, totals, out=np.zeros_like(errors), where=totals > 0)
        names = self.encoder_.column_names_
        records = []
        for i in range(len(frame)):
            for j in np.argsort(-errors[i], kind="stable")[: max(1, int(top))]:
                records.append(
                    (i, names[j], seen.iloc[i, j], expected.iloc[i, j], errors[i, j], share[i, j])
                )
        return pd.DataFrame(
            records, columns=["row", "column", "seen", "expected", "error", "share"]
        )

    def feature_errors(self, X: Any, positions: bool = False) -> np.ndarray:
        """Weighted squared error per input column, shape (n_samples, n_features_in_).

        A one-hot block is summed back to its column. With ``positions=True`` a
        sequence column is reported per position instead (the columns of
        ``encoder_.column_names_``). The sum over columns, divided by the number
        of encoded columns, equals :meth:`decision_function`.
        """
        self._check_fitted()
        Xt = self._encode(X)
        with self._compute():
            squared = feature_squared_errors(self.module_, Xt, self._bounds_)
        return self.encoder_.column_errors(squared, positions=positions)


def _log_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
    val = f" val {val_loss:.6g}" if val_loss is not None else ""
    log.info("epoch %d train %.6g%s", epoch, train_loss, val)


# Keep the history type importable from here for users inspecting history_.
__all__ += ["History"]
