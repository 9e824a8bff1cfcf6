"""AutoencoderDetector: a thin scikit-learn-style estimator over the library's pieces.

Parameters are checked by :mod:`aedetect.params`, the network built by
:mod:`aedetect.models.factory`, trained by :mod:`aedetect.training` (through
:mod:`aedetect.fitting`), scored by :mod:`aedetect.scoring`, thresholded by
:mod:`aedetect.thresholds`, under :mod:`aedetect.runtime`'s scoped settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, OutlierMixin

from aedetect import fitting, robust, state
from aedetect.data.encoding import TabularEncoder
from aedetect.exceptions import ConfigError
from aedetect.inference import DetectorOutputs
from aedetect.models.factory import ModelSpec, build, spec_from_params
from aedetect.params import DETECTOR
from aedetect.runtime import compute, resolve_device, resolve_seed
from aedetect.scoring import Scorer
from aedetect.training import EpochCallback, History, RowView

__all__ = ["AutoencoderDetector", "History"]


class AutoencoderDetector(DetectorOutputs, OutlierMixin, BaseEstimator):
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
    architecture : {"dense", "conv"}, optional
        Deprecated: give ``model`` alone (``architecture="conv"`` is
        ``model="conv"``). Still accepted for one release, with a ``FutureWarning``;
        a contradictory pair such as ``model="vae", architecture="conv"`` is refused.
    image_shape : tuple of int, optional
        ``(channels, height, width)`` of images given as flat pixel columns
        (channel-first order, as ``images.reshape(n, -1)`` of (n, c, h, w)). Not
        needed for arrays shaped (n, h, w) or (n, h, w, c): those are images and
        their shape is taken from the data.
    series_shape : tuple of int, optional
        ``(window, channels)`` of series windows given as flat rows (time-major,
        as :func:`aedetect.data.series.sliding_windows` cuts them); needed by
        ``model="conv1d"`` and ``"lstm"``. :class:`aedetect.SeriesDetector` sets it.
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
    model : {"ae", "conv", "vae", "conv-vae", "conv1d", "lstm"}, default="ae"
        ``ae``: a dense autoencoder (``hidden``). ``conv``: a convolutional
        autoencoder (``conv_encoder``, ``conv_decoder``). ``vae``: a dense
        variational autoencoder (Gaussian latent, KL term). ``conv-vae``: a
        convolutional VAE, whose ``hidden`` gives the conv channels and, last, the
        latent size. ``conv`` and ``conv-vae`` need images (an array shaped
        (n, h, w) or (n, h, w, c), or ``image_shape``). ``conv1d`` (convolutions
        along time, ``hidden`` = channels then latent size) and ``lstm`` (an LSTM
        encoder-decoder, ``hidden`` = LSTM width then latent size) need
        ``series_shape``.
    kl_weight : float, default=1.0
        Weight of the VAE's KL term (per input feature, on the scale of the MSE).
    members : int or "auto", default="auto"
        Networks (``ae``, ``conv``) trained apart from their own seeds; a row's score is
        the mean of their errors. "auto": 3 on a table of numbers (<= 100,000 rows), else 1.
    kl_anneal : int, default=0
        Raise the KL weight linearly from ``kl_weight / kl_anneal`` to ``kl_weight``
        over this many epochs; 0 uses the full weight from the start.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the (scaled) inputs during
        training only: a denoising autoencoder. 0 turns it off.
    epochs : int or "auto", default="auto"
        Maximum number of passes over the training rows. ``auto`` aims at about
        600 optimisation steps (``ceil(600 / steps per epoch)``, within 10..200
        epochs): as many epochs as a small table needs, few on a large one.
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
    trim : float, default=0.0
        Robust training: in every batch the ``trim`` share of rows rebuilt worst
        is left out of the loss, in [0, 0.5). The training table usually holds
        its anomalies; trimming keeps the network from learning to rebuild them.
        Off by default (ADBench: unsupervised AUROC +0.004, one-class -0.007).
    refit : int, default=0
        Robust refitting: after the fit, leave out the training rows beyond the
        default rule's fence (``iqr:1.5``; or the worst ``contamination`` share)
        and train the network further on the rest, ``refit`` times (:mod:`aedetect.robust`).
        Scores and threshold are then fitted on every training row. Off by
        default (ADBench: unsupervised AUROC -0.009, and longer training over-flags).
    contamination : float, optional
        Expected share of anomalies, in (0, 0.5]: the threshold is the
        ``1 - contamination`` quantile of the training scores, and with ``refit``
        the share left out of training (see also ``trim``). By default
        (None, and no ``threshold``) the threshold is Tukey's fence ``iqr:1.5``
        on the training scores, which needs no guess of the anomaly share
        (for ``scoring="ensemble"`` by ``rank`` or ``zscore``, which a fence cannot
        split, the 0.9 quantile).
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
        training codes), ``latent-knn`` (mean distance of the latent code, taken
        before the bottleneck's activation, to its ``n_neighbors`` nearest training
        codes; a training row is not its own neighbour; at most 10,000 training
        codes, a seeded sample, are kept), ``layerwise`` (the same for every encoder layer, each
        standardised on the training rows, then combined by ``layer_combine``),
        ``ensemble`` (the scores in ``ensemble`` combined by ``ensemble_method``) or
        ``reconstruction-probability`` (VAE only: negative Monte-Carlo
        log-likelihood under the decoder's Gaussian, whose per-feature variance is
        that of the training residuals, floored at a tenth of their mean). Every
        score's state is fitted, so :meth:`all_scores` gives them all, except
        ``latent-knn``'s (it keeps training codes): only when it is used.
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
    ensemble_method : {"rank", "zscore", "logz"}, default="rank"
        Each part's scale: its rank among the training scores, its z-score, or
        (``logz``) the z-score of its log, whose weighted mean ``z`` is mapped back
        onto the first part's scale, ``exp(m + s z)`` (``m``, ``s``: mean and sd of
        the first part's log training scores), so the default threshold suits it.
    ensemble_weights : tuple of float, optional
        One non-negative weight per ``ensemble`` score (normalised to sum 1);
        None weighs them equally.
    n_neighbors : int, default=5
        k of ``latent-knn``.
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
    spec_ : ModelSpec
        The network's kind and shapes (:mod:`aedetect.models.factory`), as saved.
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
        architecture: str | None = None,
        image_shape: tuple[int, int, int] | None = None,
        series_shape: tuple[int, int] | None = None,
        conv_encoder: tuple[int | str, ...] = (32, "pool", 16, "pool", 8),
        conv_decoder: tuple[int | str, ...] | None = None,
        kernel_size: int = 3,
        pooling: str = "max",
        upsampling: str = "nearest",
        model: str = "ae",
        kl_weight: float = 1.0,
        members: int | str = "auto",
        kl_anneal: int = 0,
        noise: float = 0.0,
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        lr: float = 3e-3,
        optimizer: str = "adam",
        loss: str = "mse",
        weight_decay: float = 0.0,
        validation_fraction: float = 0.1,
        patience: int = 20,
        trim: float = 0.0,
        refit: int = 0,
        contamination: float | None = None,
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
        ensemble_weights: tuple[float, ...] | None = None,
        n_neighbors: int = 5,
        mc_samples: int = 16,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        # Store every argument unchanged (scikit-learn's contract): no checks here.
        for name, value in locals().items():
            if name != "self":
                setattr(self, name, value)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> AutoencoderDetector:
        """Detector with a named preset's parameters (:data:`aedetect.models.presets.PRESETS`)."""
        from aedetect.models.presets import preset_params

        try:
            params = preset_params(name)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
        return cls(**{**params, **overrides})

    #: Constraint of every parameter, by name (:data:`aedetect.params.DETECTOR`).
    #: Not ``_parameter_constraints``: scikit-learn would read its own types there.
    parameter_constraints = DETECTOR

    # ------------------------------------------------------------ checks
    def check_params(self) -> None:
        """Validate the parameters without fitting; raise ConfigError naming the first bad one."""
        fitting.check_params(self.get_params(deep=False))

    # ----------------------------------------------------------------- fit
    def fit(
        self, X: Any, y: Any = None, *, on_epoch: EpochCallback | None = None, copy: bool = True
    ) -> AutoencoderDetector:
        """Train the autoencoder on ``X`` and set the threshold.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows, mostly normal. DataFrames may mix numbers and text.
        y : array-like of 0/1, optional
            Labels; only the ``f1`` threshold rule uses them.
        on_epoch : callable, optional
            ``on_epoch(epoch, train_loss, val_loss)`` after every epoch (progress).
        copy : bool, default=True
            False: a writable C-ordered float32 array of numbers is encoded in place
            (``X`` overwritten: one table copy less).

        Returns
        -------
        self : AutoencoderDetector
        """
        params = self.get_params(deep=False)
        fitting.check_params(params)
        X, frame, shape, encoder, encoded = fitting.prepare_training(params, X, copy)
        params = fitting.for_rows(params, len(frame), shape is not None, encoder)
        seed, device = resolve_seed(self.random_state), resolve_device(self.device)
        spec = spec_from_params(params, encoder.n_features_out_, shape)
        train_idx, val_idx = fitting.validation_split(
            len(frame), params["validation_fraction"], seed
        )
        X_all = torch.from_numpy(encoded).to(device)
        self._set_fitted(encoder, spec, device, frame.shape[1], shape, X)
        # The one float32 copy of the table: training gathers clamped blocks of it.
        # One pass, then ``refit`` more on the rows called normal (aedetect.robust).
        for rows, val_rows, warm in robust.passes(self, params, train_idx, val_idx):
            X_train = RowView(X_all, rows.to(device), self._clamp)
            val = [self._clamp(X_all[val_rows.to(device)]) if val_rows is not None else None]
            fitted = (X_all, val_idx, seed, y, on_epoch, warm)
            self._train_and_threshold(params, spec, X_train, val, *fitted)
        return self

    def _clamp(self, block: torch.Tensor) -> torch.Tensor:
        """Clamp a freshly gathered block to the encoder's bounds, in place."""
        return block.clamp_(*self._bounds_)

    def _train_and_threshold(
        self,
        params: dict[str, Any],
        spec: ModelSpec,
        X_train: Any,
        X_val: list[torch.Tensor | None],
        X_scores: torch.Tensor,
        val_idx: torch.Tensor | None,
        seed: int,
        y: Any,
        on_epoch: EpochCallback | None,
        warm: torch.nn.Module | None = None,
    ) -> None:
        """Train on ``X_train``; fit the scorer and threshold on ``X_scores`` (unclamped).

        ``X_val``: the validation rows in a list, emptied after training (freed then).
        ``warm``: a trained network to train further (None: a fresh one).
        """
        loss_fn = fitting.make_loss(
            self.loss, self._weights_, len(self.encoder_.columns_), float(params["trim"])
        )
        with compute(), torch.random.fork_rng(devices=[]):
            self.module_, self.history_ = fitting.train_module(
                params, spec, X_train, loss_fn, seed, X_val.pop(), on_epoch, warm
            )
            self.scorer_ = self._new_scorer()
            scores = self.scorer_.fit(self.module_, X_scores, seed)
        rule = fitting.fit_threshold(params, scores, val_idx, y)
        self._set_scores(scores, float(rule.threshold_), rule.describe())

    def _set_fitted(
        self,
        encoder: TabularEncoder,
        spec: ModelSpec,
        device: torch.device,
        n_features_in: int,
        image_shape: tuple[int, int, int] | None,
        X: Any = None,
        names: list[str] | None = None,
    ) -> None:
        """Fitted attributes that come before training (the encoder, shapes, device)."""
        self.encoder_, self.spec_, self._device_ = encoder, spec, device
        self.n_features_in_, self.image_shape_ = n_features_in, image_shape
        names = encoder.feature_names_in_ if isinstance(X, pd.DataFrame) else names
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._weights_ = torch.from_numpy(encoder.feature_weights_).to(device)
        low, high = encoder.clip_bounds()
        self._bounds_ = (torch.from_numpy(low).to(device), torch.from_numpy(high).to(device))

    def _new_scorer(self) -> Scorer:
        config = fitting.score_config(self.get_params(deep=False))
        return Scorer(config, self._weights_, len(self.encoder_.columns_), self._bounds_)

    def _set_scores(self, scores: np.ndarray, threshold: float, rule: str) -> None:
        self.decision_scores_, self.threshold_, self.threshold_rule_ = scores, threshold, rule
        self.labels_ = (scores > threshold).astype(int)

    # ----------------------------------------------------------- saving
    def to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Give the fitted detector as ``(json_ready_dict, named_tensors)`` (:meth:`from_state`)."""
        self._check_fitted()
        names = getattr(self, "feature_names_in_", None)
        fitted = {
            "encoder": self.encoder_.get_state(),
            "threshold": self.threshold_,
            "threshold_rule": getattr(self, "threshold_rule_", ""),
            "n_features_in": self.n_features_in_,
            "feature_names_in": None if names is None else [str(n) for n in names],
            "history": self.history_.to_dict(),
            "image_shape": None if self.image_shape_ is None else list(self.image_shape_),
            "model_spec": self.spec_.to_dict(),
        }
        tensors = state.tensors_of("module", self.module_.state_dict())
        tensors["decision_scores"] = torch.from_numpy(np.ascontiguousarray(self.decision_scores_))
        tensors.update(state.tensors_of("scorer", self.scorer_.get_state()))
        params = state.params_to_json(self.get_params(deep=False))
        return {"params": params, "state": fitted}, tensors

    @classmethod
    def from_state(
        cls, data: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> AutoencoderDetector:
        """Rebuild a fitted detector from :meth:`to_state`'s output (scores are identical).

        Files written before the model spec was saved rebuild it from the parameters.
        """
        params = state.params_from_json(data["params"])
        if params.get("architecture") == "dense":  # 0.1.0's default, which model overrode
            params["architecture"] = None
        det = cls(**params)
        det.check_params()
        fitted = data["state"]
        shape = fitted.get("image_shape")
        shape = None if shape is None else tuple(int(v) for v in shape)
        encoder = TabularEncoder.from_state(fitted["encoder"])
        spec = (
            ModelSpec.from_dict(fitted["model_spec"])
            if "model_spec" in fitted
            else spec_from_params(det.get_params(deep=False), encoder.n_features_out_, shape, False)
        )
        module = build(spec)
        module.load_state_dict(state.prefixed("module", tensors), strict=True)
        device = resolve_device(det.device)
        n_features, names = int(fitted["n_features_in"]), fitted["feature_names_in"]
        det._set_fitted(encoder, spec, device, n_features, shape, names=names)
        det.module_, det.history_ = module.to(device).eval(), History(**fitted["history"])
        scorer_state = {k: v.numpy() for k, v in state.prefixed("scorer", tensors).items()}
        det.scorer_ = det._new_scorer().set_state(scorer_state)
        scores = tensors["decision_scores"].numpy().astype(np.float64)
        det._set_scores(scores, float(fitted["threshold"]), fitted.get("threshold_rule", ""))
        return det
