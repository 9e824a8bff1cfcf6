"""Anomaly scores from a trained autoencoder: reconstruction errors, latent distances.

Scores are computed chunk by chunk so that memory stays flat on large inputs.
Higher = more anomalous.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from aedetect.centroids import kmeans, nearest_distance, whitening
from aedetect.exceptions import ConfigError
from aedetect.latent import knn_distance, latent_code, reference_rows
from aedetect.models.ensemble import Ensemble, mean_of, members_of
from aedetect.params import DISTANCES, ENSEMBLE_METHODS, LAYER_COMBINES, REDUCTIONS, SCORES
from aedetect.scales import log_stats, logz, rank, zscore

__all__ = [
    "DISTANCES",
    "ENSEMBLE_METHODS",
    "LAYER_COMBINES",
    "REDUCTIONS",
    "SCORES",
    "Bounds",
    "ScoreConfig",
    "Scorer",
    "feature_squared_errors",
    "layer_outputs",
    "reconstructions",
]

CHUNK = 8192
# (low, high) per encoded feature: the network sees inputs clamped to them, and
# errors are measured against the unclamped values.
Bounds = tuple[torch.Tensor, torch.Tensor] | None


def _forward(module: nn.Module, xb: torch.Tensor, bounds: Bounds) -> torch.Tensor:
    return module(xb if bounds is None else xb.clamp(bounds[0], bounds[1]))


def _chunks(X: torch.Tensor, chunk: int) -> Iterator[torch.Tensor]:
    for start in range(0, len(X), chunk):
        yield X[start : start + chunk]


@torch.no_grad()
def reconstructions(
    module: nn.Module, X: torch.Tensor, bounds: Bounds = None, chunk: int = CHUNK
) -> np.ndarray:
    """Reconstructed encoded rows, as a float32 array."""
    module.eval()
    parts = [_forward(module, xb, bounds).cpu().numpy() for xb in _chunks(X, chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, X.shape[1]), dtype=np.float32)


@torch.no_grad()
def feature_squared_errors(
    module: nn.Module, X: torch.Tensor, bounds: Bounds = None, chunk: int = CHUNK
) -> np.ndarray:
    """Unweighted squared error of every encoded feature, shape (n, n_encoded).

    An ensemble's: the mean of its members' squared errors.
    """
    module.eval()
    members = members_of(module)
    parts = [
        mean_of([(_forward(m, xb, bounds) - xb).square() for m in members]).cpu().numpy()
        for xb in _chunks(X, chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, X.shape[1]), dtype=np.float32)


# ---------------------------------------------------------------- other scores
# Largest per-item activation a layer is clustered on; bigger conv maps are average-pooled.
MAX_LAYER_WIDTH = 4096


@dataclass(frozen=True)
class ScoreConfig:
    """How items are scored; every choice is documented on the estimator.

    ``fit_rows`` caps the training rows k-means is fitted on (a seeded subsample);
    distances and standardisation still use every training row. ``knn_rows`` caps
    the training codes kept as the latent k-nearest-neighbour reference.
    """

    score: str = "reconstruction"
    reduction: str = "mean"
    n_clusters: int = 5
    distance: str = "euclidean"
    layer_combine: str = "min"
    ensemble: tuple[str, ...] = ("reconstruction", "latent-kmeans")
    ensemble_method: str = "rank"
    ensemble_weights: tuple[float, ...] | None = None
    n_neighbors: int = 5
    knn_rows: int = 10000
    mc_samples: int = 16
    fit_rows: int = 4096
    kmeans_iter: int = 30


def _flat(h: torch.Tensor) -> torch.Tensor:
    """One row per item; conv maps wider than MAX_LAYER_WIDTH are average-pooled first."""
    if h.dim() == 4 and h[0].numel() > MAX_LAYER_WIDTH:
        c, height, width = h.shape[1:]
        factor = int(np.ceil(np.sqrt(c * height * width / MAX_LAYER_WIDTH)))
        h = nn.functional.avg_pool2d(h, factor, ceil_mode=True)
    return h.reshape(len(h), -1)


@torch.no_grad()
def layer_outputs(module: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Activations of every encoder layer, one (n, width) tensor each; the last is the code.

    A module may define ``layer_outputs(x)``. Otherwise a ``Sequential`` ``encoder``
    is walked and the input of every weight layer after the first is taken (the
    activation after pooling or dropout), plus its output. Failing both, only
    ``module.encode(x)``.
    """
    if isinstance(module, Ensemble):  # each layer: the members' side by side
        per_member = [layer_outputs(m, x) for m in module.members]
        return [torch.cat(layers, dim=1) for layers in zip(*per_member, strict=True)]
    if hasattr(module, "layer_outputs"):
        return [_flat(h) for h in module.layer_outputs(x)]
    encoder = getattr(module, "encoder", None)
    if not isinstance(encoder, nn.Sequential):
        return [_flat(module.encode(x))]
    outs, h, seen_weights = [], x, False
    for layer in encoder:
        has_weights = any(True for _ in layer.parameters(recurse=False))
        if has_weights and seen_weights:
            outs.append(_flat(h))
        seen_weights = seen_weights or has_weights
        h = layer(h)
    outs.append(_flat(h))
    return outs


class Scorer:
    """Every score of one trained autoencoder; its fitted state is plain arrays.

    Parameters
    ----------
    config : ScoreConfig
        Which score and its options.
    weights : torch.Tensor
        Per-feature weight of the squared error (category blocks weigh less).
    n_columns : int
        Divisor of the weighted error sum for ``reduction="mean"``.
    bounds : tuple of torch.Tensor, optional
        Input clamp bounds (the network sees clamped inputs, errors use real ones).

    Attributes
    ----------
    state_ : dict of str to ndarray
        Centroids, whitening matrices (``distance="mahalanobis"`` only: one
        width x width matrix per layer), per-layer standardisation, sorted
        training scores of the ensemble's parts, and the VAE's noise draws.
    """

    def __init__(
        self,
        config: ScoreConfig,
        weights: torch.Tensor,
        n_columns: int,
        bounds: Bounds = None,
    ) -> None:
        self.config = config
        self.weights = weights
        self.n_columns = n_columns
        self.bounds = bounds
        self.state_: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------ helpers
    def _clamped(self, xb: torch.Tensor) -> torch.Tensor:
        return xb if self.bounds is None else xb.clamp(self.bounds[0], self.bounds[1])

    def _tensor(self, name: str, device: torch.device) -> torch.Tensor:
        return torch.from_numpy(self.state_[name]).to(device)

    def _reconstruction(self, module: nn.Module, xb: torch.Tensor) -> torch.Tensor:
        # In place on the fresh reconstruction: no temporaries per chunk. An
        # ensemble's: the mean of its members' errors.
        seen = self._clamped(xb)
        err = mean_of([m(seen).sub_(xb).square_() @ self.weights for m in members_of(module)])
        return err.div(self.n_columns) if self.config.reduction == "mean" else err

    def _layers(self, module: nn.Module, xb: torch.Tensor) -> list[torch.Tensor]:
        return [h.double() for h in layer_outputs(module, self._clamped(xb))]

    def _distance(self, key: str, h: torch.Tensor) -> torch.Tensor:
        whiten = (
            self._tensor(f"{key}.whiten", h.device)
            if self.config.distance == "mahalanobis"
            else None
        )
        return nearest_distance(h, self._tensor(f"{key}.centroids", h.device), whiten)

    def _layerwise(self, layers: list[torch.Tensor]) -> torch.Tensor:
        return self._combine_layers([self._distance(f"layer{i}", h) for i, h in enumerate(layers)])

    def _combine_layers(self, distances: list[torch.Tensor]) -> torch.Tensor:
        """Return the ``layerwise`` score from each layer's distances (float64, one per row)."""
        z = []
        for i, d in enumerate(distances):
            loc, scale = self.state_[f"layer{i}.{self.config.distance}"]
            z.append((d - loc) / scale)
        stacked = torch.stack(z, dim=1)
        return stacked.min(dim=1).values if self.config.layer_combine == "min" else stacked.mean(1)

    def _probability(self, module: nn.Module, xb: torch.Tensor) -> torch.Tensor:
        """Negative Monte-Carlo log-likelihood of ``xb`` under the decoder's Gaussian.

        ``-log mean_l N(x; decoder(mu + std * eps_l), diag(var))``, with ``eps_l``
        fixed draws and ``var`` the training residuals' per-feature variance.
        """
        eps = self._tensor("vae.eps", xb.device)
        log_var = self._tensor("vae.log_var", xb.device)
        mu, logvar = module.encode_distribution(self._clamped(xb))
        std = (0.5 * logvar).exp()
        x = xb.double()
        log_p = []
        for e in eps:  # the same draws for every item: its score ignores the batch
            recon = module.decode(mu + std * e.to(mu.dtype)).double()
            nll = 0.5 * ((x - recon).square() / log_var.exp() + log_var + np.log(2 * np.pi))
            log_p.append(-(nll @ self.weights.double()))
        stacked = torch.stack(log_p, dim=1)
        return -(torch.logsumexp(stacked, dim=1) - np.log(len(eps)))

    # ----------------------------------------------------------------- api
    @torch.no_grad()
    def scores(
        self,
        module: nn.Module,
        X: torch.Tensor,
        names: tuple[str, ...],
        chunk: int = CHUNK,
        itself: torch.Tensor | None = None,
    ) -> dict[str, np.ndarray]:
        """Each named score of every row, float64; computes only what they need.

        ``itself``: each row's index in the latent k-NN reference (-1: not in it),
        so that training rows are not their own neighbour.
        """
        module.eval()
        wanted = set(names)
        if "ensemble" in wanted:
            wanted |= set(self.config.ensemble)
        # Filled in place: no per-chunk arrays kept (small torch-made arrays held
        # across the loop pin the chunks' freed memory) and no concatenated copy.
        out = {name: np.empty(len(X), dtype=np.float64) for name in wanted - {"ensemble"}}
        for start, xb in zip(range(0, len(X), chunk), _chunks(X, chunk), strict=False):
            layers = self._layers(module, xb) if wanted & {"latent-kmeans", "layerwise"} else []
            for name in out:
                if name == "reconstruction":
                    s = self._reconstruction(module, xb)
                elif name == "latent-kmeans":
                    s = self._distance(f"layer{len(layers) - 1}", layers[-1])
                elif name == "latent-knn":
                    own = None if itself is None else itself[start : start + len(xb)]
                    code = latent_code(module, self._clamped(xb))
                    ref = self._tensor("latent.reference", code.device)
                    s = knn_distance(code, ref, self.config.n_neighbors, own)
                elif name == "layerwise":
                    s = self._layerwise(layers)
                else:
                    s = self._probability(module, xb)
                out[name][start : start + len(xb)] = s.double().cpu().numpy()
        if "ensemble" in wanted:
            out["ensemble"] = self.combine(out)
        return {name: out[name] for name in names}

    def combine(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        """Return the ``ensemble`` score from its parts' scores and their training scores.

        ``rank`` and ``zscore`` average ranks or z-scores. ``logz`` averages
        (weighted) z-scores of the logs and maps the mean back onto the first
        part's scale: ``exp(mean_0 + sd_0 * sum_i w_i z_i)`` of its logs, so that
        a row typical in every other part keeps its first-part score.
        """
        cfg = self.config
        names = cfg.ensemble
        w = np.asarray(cfg.ensemble_weights or [1.0] * len(names), dtype=np.float64)
        w = w / w.sum()
        train = [self.state_[f"train.{p}"] for p in names]
        if cfg.ensemble_method == "logz":
            z = sum(wi * logz(t, parts[p]) for wi, t, p in zip(w, train, names, strict=True))
            _, mean, sd = log_stats(train[0])
            return np.exp(np.clip(mean + sd * z, -700.0, 700.0))
        combine = rank if cfg.ensemble_method == "rank" else zscore
        return sum(wi * combine(t, parts[p]) for wi, t, p in zip(w, train, names, strict=True))

    def score(self, module: nn.Module, X: torch.Tensor) -> np.ndarray:
        """Return the configured score of every row."""
        return self.scores(module, X, (self.config.score,))[self.config.score]

    def available(self) -> tuple[str, ...]:
        """Name the scores this fitted state can give."""
        needs = {
            "latent-kmeans": "n_layers",
            "latent-knn": "latent.reference",
            "layerwise": "n_layers",
            "ensemble": f"train.{self.config.ensemble[0]}",
            "reconstruction-probability": "vae.eps",
        }
        return tuple(s for s in SCORES if s not in needs or needs[s] in self.state_)

    @torch.no_grad()
    def fit(self, module: nn.Module, X: torch.Tensor, seed: int) -> np.ndarray:
        """Fit every score's state on the training rows ``X``; return the configured score."""
        module.eval()
        cfg, state = self.config, {}
        generator = torch.Generator().manual_seed(seed)
        n = len(X)
        rows = torch.randperm(n, generator=generator)[: cfg.fit_rows] if n > cfg.fit_rows else None
        sample = X if rows is None else X[rows.to(X.device)]
        layers = [h.cpu() for h in self._layers(module, sample)]  # k-means on the CPU
        if not all(bool(torch.isfinite(h).all()) for h in layers):
            raise ConfigError(
                "the trained network gives NaN or infinite values (training diverged): "
                "lower lr or check the data's scale"
            )
        for i, h in enumerate(layers):
            centroids = kmeans(h, cfg.n_clusters, generator, cfg.kmeans_iter)
            state[f"layer{i}.centroids"] = centroids.cpu().numpy()
            if cfg.distance == "mahalanobis":  # a width x width matrix: only when used
                state[f"layer{i}.whiten"] = whitening(h, centroids).cpu().numpy()
        state["n_layers"] = np.array([len(layers)])
        cfg_parts = cfg.ensemble if cfg.score == "ensemble" else ()
        itself = None
        if "latent-knn" in (cfg.score, *cfg_parts):  # only when used: it keeps codes
            itself = self._fit_reference(module, X, generator, state)
        if hasattr(module, "encode_distribution"):
            n_latent = layers[-1].shape[1]
            eps = torch.randn(cfg.mc_samples, n_latent, generator=generator, dtype=torch.float64)
            state["vae.eps"] = eps.numpy()
            resid = torch.cat(
                [(module(self._clamped(xb)) - xb).double().square() for xb in _chunks(X, CHUNK)]
            )
            # Per-feature variance of the training residuals, floored at a tenth of
            # their mean: a pixel that is blank in training must not get ~0 variance
            # and drown every other feature's likelihood.
            var = resid.mean(dim=0)
            var = var.clamp_min(0.1 * float(var.mean()) + 1e-12)
            state["vae.log_var"] = var.log().cpu().numpy()
        self.state_ = state
        dists = self._fit_layer_scales(module, X, len(layers))
        # The layer distances of the training rows are those just measured: the
        # two scores built from them are not computed again.
        from_layers = {"latent-kmeans", "layerwise"}
        names = tuple(s for s in self.available() if s != "ensemble")
        rest = tuple(s for s in names if s not in from_layers)
        train = self.scores(module, X, rest, itself=itself)
        chosen = [torch.from_numpy(dists[f"layer{i}.{cfg.distance}"]) for i in range(len(layers))]
        if "latent-kmeans" in names:
            train["latent-kmeans"] = chosen[-1].numpy()
        if "layerwise" in names:
            train["layerwise"] = self._combine_layers(chosen).numpy()
        for name, values in train.items():
            state[f"train.{name}"] = np.sort(values)
        if cfg.score == "ensemble":
            return self.combine(train)
        return train[cfg.score]

    def _fit_layer_scales(
        self, module: nn.Module, X: torch.Tensor, n_layers: int
    ) -> dict[str, np.ndarray]:
        """Per-layer standardisation over every training row: Euclidean, and Mahalanobis if used.

        Returns the distances, ``layer{i}.{distance}`` to one array each.
        """
        kinds = DISTANCES if self.config.distance == "mahalanobis" else ("euclidean",)
        dists = {
            f"layer{i}.{dist}": np.empty(len(X), dtype=np.float64)
            for i in range(n_layers)
            for dist in kinds
        }
        for start, xb in zip(range(0, len(X), CHUNK), _chunks(X, CHUNK), strict=False):
            for i, h in enumerate(self._layers(module, xb)):
                for dist in kinds:
                    whiten = (
                        self._tensor(f"layer{i}.whiten", h.device) if dist != "euclidean" else None
                    )
                    d = nearest_distance(h, self._tensor(f"layer{i}.centroids", h.device), whiten)
                    dists[f"layer{i}.{dist}"][start : start + len(xb)] = d.cpu().numpy()
        for key, d in dists.items():
            self.state_[key] = np.array([d.mean(), d.std() or 1.0])
        return dists

    def _fit_reference(
        self,
        module: nn.Module,
        X: torch.Tensor,
        generator: torch.Generator,
        state: dict[str, np.ndarray],
    ) -> torch.Tensor:
        """Keep <= ``knn_rows`` training codes as the k-NN reference; see :func:`reference_rows`."""
        rows, itself = reference_rows(len(X), self.config.knn_rows, generator)
        sample = X if rows is None else X[rows.to(X.device)]
        codes = [latent_code(module, self._clamped(xb)).cpu() for xb in _chunks(sample, CHUNK)]
        state["latent.reference"] = torch.cat(codes).float().numpy()
        return itself

    def get_state(self) -> dict[str, np.ndarray]:
        """Return the fitted state, for saving."""
        return dict(self.state_)

    def set_state(self, state: dict[str, np.ndarray]) -> Scorer:
        """Load a state written by :meth:`get_state`."""
        self.state_ = dict(state)
        return self
