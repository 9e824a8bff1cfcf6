"""The ``aedetect`` command line: thin commands over the library.

Library errors become one line on stderr and an exit code here, and only here:
2 for a usage or parameter error, 1 for a data or model-file problem.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from aedetect import __version__
from aedetect.data.datasets import BUILTIN, load_data
from aedetect.data.readers import Table, read_table
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import AedetectError, ConfigError, DataError
from aedetect.models.presets import PRESETS
from aedetect.persistence import atomic_write_bytes, load_detector, read_metadata, save_detector

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    help="Find anomalies with autoencoders: fit on mostly normal data, score new data.",
)
log = logging.getLogger("aedetect")

EXIT_DATA, EXIT_USAGE = 1, 2
# One source of truth: the CLI's defaults are the estimator's.
_D = AutoencoderDetector().get_params()
_HIDDEN = ",".join(map(str, _D["hidden"]))
_BATCH, _CLIP = str(_D["batch_size"]), str(_D["clip"])
_ENSEMBLE = ",".join(_D["ensemble"])
DATA_HELP = (
    "A CSV, TSV, Parquet or .npy file (a .npy of shape (n, h, w) or (n, h, w, c) is images), "
    f"a folder of PNG/JPEG images, or a built-in data set ({', '.join(BUILTIN)})."
)
_CONV_ENCODER = ",".join(map(str, _D["conv_encoder"]))


# ------------------------------------------------------------------ options
def _int_tuple(value: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(
            f"expected comma-separated integers like 64,32,8, got {value!r}"
        ) from None
    if not widths or min(widths) < 1:
        raise typer.BadParameter(f"expected positive widths like 64,32,8, got {value!r}")
    return widths


def _tokens(value: str | None, option: str) -> tuple[int | str, ...] | None:
    """``32,pool,16`` -> (32, "pool", 16)."""
    if value is None:
        return None
    out: list[int | str] = []
    for v in (v.strip() for v in value.split(",")):
        if v:
            out.append(int(v) if v.isdigit() else v)
    if not out:
        raise ConfigError(f"{option} must be like 32,pool,16, got {value!r}")
    return tuple(out)


def _image_shape(value: str | None) -> tuple[int, int, int] | None:
    if value is None:
        return None
    try:
        shape = tuple(int(v) for v in value.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ConfigError(
            f"--image-shape must be channels,height,width like 1,28,28, got {value!r}"
        )
    return shape  # type: ignore[return-value]


def _names(value: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def _clip(value: str) -> float | None:
    if value.lower() == "none":
        return None
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"expected a number or 'none', got {value!r}") from None


MODEL = "Model"
DATA_OPTS = "Data"
Hidden = Annotated[
    str,
    typer.Option(
        help="Encoder widths, comma-separated; the decoder mirrors them.", rich_help_panel=MODEL
    ),
]
Activation = Annotated[
    str,
    typer.Option(
        help="Hidden activation: relu, tanh, sigmoid, leaky_relu, elu, gelu, identity.",
        rich_help_panel=MODEL,
    ),
]  # noqa: E501
OutputActivation = Annotated[
    str,
    typer.Option(help="Output activation: identity, sigmoid, tanh, relu.", rich_help_panel=MODEL),
]  # noqa: E501
Dropout = Annotated[
    float, typer.Option(help="Dropout after hidden layers, in [0, 1).", rich_help_panel=MODEL)
]  # noqa: E501
Epochs = Annotated[int, typer.Option(help="Maximum passes over the data.", rich_help_panel=MODEL)]
BatchSize = Annotated[
    str,
    typer.Option(
        help="Rows per optimisation step, or auto: min(256, max(32, rows // 8)).",
        rich_help_panel=MODEL,
    ),
]  # noqa: E501
Lr = Annotated[float, typer.Option(help="Learning rate.", rich_help_panel=MODEL)]
Optimizer = Annotated[str, typer.Option(help="adam, sgd or adagrad.", rich_help_panel=MODEL)]
Loss = Annotated[
    str,
    typer.Option(
        help="mse, or bce (needs --output-activation sigmoid --scaling minmax).",
        rich_help_panel=MODEL,
    ),
]  # noqa: E501
WeightDecay = Annotated[
    float, typer.Option(help="L2 penalty on the weights.", rich_help_panel=MODEL)
]
ValFraction = Annotated[
    float,
    typer.Option(
        help="Share of rows held out for early stopping; 0 turns it off.", rich_help_panel=MODEL
    ),
]  # noqa: E501
Patience = Annotated[
    int, typer.Option(help="Epochs without improvement before stopping.", rich_help_panel=MODEL)
]  # noqa: E501
Contamination = Annotated[
    float,
    typer.Option(
        help="Expected share of anomalies in (0, 0.5]; sets the threshold.", rich_help_panel=MODEL
    ),
]  # noqa: E501
Scaling = Annotated[
    str,
    typer.Option(
        help="Numeric scaling: standard (tables), pooled (same-unit columns, e.g. pixels), "
        "minmax or none.",
        rich_help_panel=DATA_OPTS,
    ),
]  # noqa: E501
CategoryWeight = Annotated[
    float,
    typer.Option(
        help="Cost of a wholly wrong category, in squared standard deviations.",
        rich_help_panel=DATA_OPTS,
    ),
]  # noqa: E501
Clip = Annotated[
    str,
    typer.Option(
        help="Clip numbers the network sees to mean +- CLIP std ('none' to turn off).",
        rich_help_panel=DATA_OPTS,
    ),
]  # noqa: E501
Missing = Annotated[
    str,
    typer.Option(
        help="Missing values: error (reject) or impute (median / most frequent + indicator).",
        rich_help_panel=DATA_OPTS,
    ),
]  # noqa: E501
Categorical = Annotated[
    str | None,
    typer.Option(
        help="Columns to treat as categorical, comma-separated (text columns are detected).",
        rich_help_panel=DATA_OPTS,
    ),
]  # noqa: E501
LabelColumn = Annotated[
    str | None,
    typer.Option(
        help="Column with known labels, kept out of the features.", rich_help_panel=DATA_OPTS
    ),
]  # noqa: E501
IdColumn = Annotated[
    str | None,
    typer.Option(
        help="Column passed through to the output, kept out of the features.",
        rich_help_panel=DATA_OPTS,
    ),
]  # noqa: E501
SequenceColumn = Annotated[
    str | None,
    typer.Option(
        help="Columns of fixed-length token sequences, comma-separated (one column per position).",
        rich_help_panel=DATA_OPTS,
    ),
]
TokenSep = Annotated[
    str | None,
    typer.Option(
        help="Token separator in sequences (default: every character is a token).",
        rich_help_panel=DATA_OPTS,
    ),
]
SequenceEncoding = Annotated[
    str,
    typer.Option(
        help="Sequence positions as onehot categories, or ordinal integer codes.",
        rich_help_panel=DATA_OPTS,
    ),
]
AnomalyRatio = Annotated[
    float | None,
    typer.Option(
        help="Known share of anomalies: threshold at the 1 - RATIO quantile "
        "(0.0002 = the 0.9998 quantile). Instead of --contamination.",
        rich_help_panel=MODEL,
    ),
]
ThresholdRule = Annotated[
    str | None,
    typer.Option(
        "--threshold",
        help="Threshold rule instead of --contamination: quantile:0.99, ratio:0.0002, "
        "fixed:0.05, fpr:0.01 (on held-out rows), mad:3, iqr:1.5, gpd:0.001, gamma:0.001, "
        "f1 (needs --label-column).",
        rich_help_panel=MODEL,
    ),
]
Preset = Annotated[
    str | None,
    typer.Option(
        help=f"Named network: {', '.join(PRESETS)}. Options you set to a non-default "
        "value override it.",
        rich_help_panel=MODEL,
    ),
]
Architecture = Annotated[
    str,
    typer.Option(
        help="dense (--hidden) or conv (--conv-encoder, --conv-decoder; needs images).",
        rich_help_panel=MODEL,
    ),
]
ConvEncoder = Annotated[
    str,
    typer.Option(
        help="Conv encoder: channel counts and 'pool' (halves height and width), comma-separated.",
        rich_help_panel=MODEL,
    ),
]
ConvDecoder = Annotated[
    str | None,
    typer.Option(
        help="Conv decoder before the last convolution: channel counts and 'up' (doubles "
        "height and width). Default: the encoder's mirror.",
        rich_help_panel=MODEL,
    ),
]
KernelSize = Annotated[
    int, typer.Option(help="Odd square kernel of every convolution.", rich_help_panel=MODEL)
]
Pooling = Annotated[str, typer.Option(help="What 'pool' does: max or avg.", rich_help_panel=MODEL)]
Upsampling = Annotated[
    str, typer.Option(help="What 'up' does: nearest or bilinear.", rich_help_panel=MODEL)
]
ImageShape = Annotated[
    str | None,
    typer.Option(
        help="channels,height,width of flat pixel columns, e.g. 1,28,28 (image data sets, "
        "folders and image .npy files give it themselves).",
        rich_help_panel=DATA_OPTS,
    ),
]
Normal = Annotated[
    str | None,
    typer.Option(
        help="Normal classes of DATA, e.g. 3 or 0,1: fit on 80% of them (a fixed split), "
        "test on the rest plus the abnormal items.",
        rich_help_panel=DATA_OPTS,
    ),
]
Abnormal = Annotated[
    str | None,
    typer.Option(
        help="Abnormal classes, e.g. 0,1,2, or rest (every class not --normal; the default).",
        rich_help_panel=DATA_OPTS,
    ),
]
AbnormalData = Annotated[
    str | None,
    typer.Option(
        help="A second DATA whose items are the anomalies, e.g. fashion-mnist or a folder.",
        rich_help_panel=DATA_OPTS,
    ),
]
ImageSize = Annotated[
    str | None,
    typer.Option(
        help="Resize folder images to this, e.g. 28 or 32x24 (height x width). Default: "
        "the most common size (score and explain: the model's).",
        rich_help_panel=DATA_OPTS,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(help="Random seed: the same seed gives the same scores.", rich_help_panel=MODEL),
]  # noqa: E501
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.", rich_help_panel=MODEL)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every epoch.")]
SCORING = "Scoring"
ModelKind = Annotated[
    str,
    typer.Option(
        help="ae (autoencoder), vae (variational) or conv-vae (variational, on images).",
        rich_help_panel=MODEL,
    ),
]
KlWeight = Annotated[
    float, typer.Option(help="Weight of the VAE's KL term (per feature).", rich_help_panel=MODEL)
]
KlAnneal = Annotated[
    int,
    typer.Option(
        help="Raise the KL weight linearly over this many epochs (0: full weight at once).",
        rich_help_panel=MODEL,
    ),
]
Noise = Annotated[
    float,
    typer.Option(
        help="Std of Gaussian noise on scaled inputs during training (denoising); 0 = off.",
        rich_help_panel=MODEL,
    ),
]
ScoreOpt = Annotated[
    str,
    typer.Option(
        "--score",
        help="Anomaly score: reconstruction, latent-kmeans, layerwise, ensemble, or "
        "reconstruction-probability (VAE). The threshold is set on it.",
        rich_help_panel=SCORING,
    ),
]
Reduction = Annotated[
    str,
    typer.Option(
        help="Reconstruction error per row: mean or sum of weighted squared errors.",
        rich_help_panel=SCORING,
    ),
]
NClusters = Annotated[
    int,
    typer.Option(help="k of the k-means of latent-kmeans and layerwise.", rich_help_panel=SCORING),
]
Distance = Annotated[
    str,
    typer.Option(
        help="Distance to the nearest centroid: euclidean or mahalanobis.",
        rich_help_panel=SCORING,
    ),
]
LayerCombine = Annotated[
    str,
    typer.Option(
        help="layerwise: min or mean of the standardised per-layer distances.",
        rich_help_panel=SCORING,
    ),
]
Ensemble = Annotated[
    str,
    typer.Option(help="Scores the ensemble averages, comma-separated.", rich_help_panel=SCORING),
]
EnsembleMethod = Annotated[
    str,
    typer.Option(
        help="Ensemble scale: rank (among training scores) or zscore.", rich_help_panel=SCORING
    ),
]
McSamples = Annotated[
    int,
    typer.Option(help="Latent samples of reconstruction-probability.", rich_help_panel=SCORING),
]


# ----------------------------------------------------------------- helpers
def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn library errors into one line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
        except AedetectError as exc:
            _fail(str(exc), EXIT_DATA)
        except BrokenPipeError:  # `aedetect score ... | head`: the reader left
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
            raise typer.Exit(0) from None
        except OSError as exc:  # unwritable output folder, disk full, ...
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), EXIT_DATA)

    return wrapper


@contextlib.contextmanager
def _about(source: str) -> Iterator[None]:
    """Prefix data errors raised inside the block with the data's source."""
    try:
        yield
    except DataError as exc:
        msg = str(exc)
        if source and not msg.startswith(source):
            raise DataError(f"{source}: {msg}") from None
        raise


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("aedetect").setLevel(logging.INFO if verbose else logging.WARNING)


def _detector(**params: Any) -> AutoencoderDetector:
    preset = params.pop("preset", None)
    params["hidden"] = _int_tuple(params["hidden"])
    params["clip"] = _clip(params["clip"])
    params["categorical"] = _names(params["categorical"])
    params["sequence_columns"] = _names(params.pop("sequence_column"))
    params["conv_encoder"] = _tokens(params["conv_encoder"], "--conv-encoder")
    params["conv_decoder"] = _tokens(params["conv_decoder"], "--conv-decoder")
    params["image_shape"] = _image_shape(params["image_shape"])
    ratio = params.pop("anomaly_ratio")
    if ratio is not None and params["threshold"] is not None:
        raise ConfigError("give --threshold or --anomaly-ratio, not both")
    if ratio is not None:
        if params["contamination"] != _D["contamination"]:
            raise ConfigError("give --contamination or --anomaly-ratio, not both")
        if not 0.0 < ratio <= 0.5:
            raise ConfigError(f"--anomaly-ratio must be in (0, 0.5], got {ratio}")
        params["contamination"] = ratio
    params["random_state"] = params.pop("seed")
    params["scoring"] = params.pop("score")
    params["ensemble"] = _names(params["ensemble"]) or ()
    if params["batch_size"] != "auto":
        try:
            params["batch_size"] = int(params["batch_size"])
        except ValueError:
            raise ConfigError(
                f"--batch-size must be an integer or auto, got {params['batch_size']!r}"
            ) from None
    if preset is None:
        return AutoencoderDetector(**params)
    # A preset sets its parameters; an option given with a non-default value wins.
    changed = {k: v for k, v in params.items() if k not in _D or v != _D[k]}
    return AutoencoderDetector.from_preset(preset, **changed)


def _adopt_sequences(det: AutoencoderDetector, table: Table) -> None:
    """Use the sequence columns a built-in data set declares, unless some were named."""
    if table.sequence_columns and not det.sequence_columns:
        det.set_params(sequence_columns=tuple(table.sequence_columns))


def _adopt_images(det: AutoencoderDetector, table: Table) -> None:
    """Use the image shape the data gives, unless --image-shape was set."""
    if table.image_shape is not None and det.image_shape is None:
        det.set_params(image_shape=tuple(table.image_shape))


def _selection(
    normal: str | None, abnormal: str | None, abnormal_data: str | None, image_size: str | None
) -> dict[str, Any]:
    return {
        "normal": normal,
        "abnormal": abnormal,
        "abnormal_data": abnormal_data,
        "image_size": image_size,
    }


def _fit(det: AutoencoderDetector, table: Table, quiet: bool) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
    )
    console = Console(stderr=True)
    with Progress(*columns, console=console, disable=quiet or not console.is_terminal) as bar:
        task = bar.add_task("fit", total=det.epochs, loss="-")

        def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
            shown = f"{train_loss:.4g}" + (f" val {val_loss:.4g}" if val_loss is not None else "")
            bar.update(task, completed=epoch, loss=shown)

        rows = table.features if table.fit_rows is None else table.features[table.fit_rows]
        with _about(table.source):
            labels = _binary_labels(table.labels)
            if labels is not None and table.fit_rows is not None:
                labels = labels[table.fit_rows]
            det.fit(rows, labels, on_epoch=on_epoch)


def _scores_frame(det: AutoencoderDetector, table: Table, every: bool = False) -> pd.DataFrame:
    with _about(table.source):
        if every:
            each = det.all_scores(table.features)
            scores = each[det.scoring].to_numpy()
        else:
            scores = det.decision_function(table.features)
    out = pd.DataFrame({"score": scores, "is_anomaly": (scores > det.threshold_).astype(int)})
    if every:
        for name in each.columns:
            out[name] = each[name].to_numpy()
    if table.ids is not None:
        out.insert(0, str(table.ids.name), table.ids.to_numpy())
    if table.labels is not None:
        name = str(table.labels.name)
        out[f"true_{name}" if name in out.columns else name] = table.labels.to_numpy()
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise DataError(f"{path}: folder {parent} does not exist")
    if path.is_dir():
        raise DataError(f"{path}: is a folder; give a file name")


def _binary_labels(labels: pd.Series | None) -> np.ndarray | None:
    if labels is None:
        return None
    values = pd.to_numeric(labels, errors="coerce").to_numpy()
    if np.isnan(values).any() or not set(np.unique(values)) <= {0, 1} or len(np.unique(values)) < 2:
        return None
    return values.astype(int)


# ---------------------------------------------------------------- commands
@app.command()
@_guarded
def fit(
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")],
    preset: Preset = None,
    hidden: Hidden = _HIDDEN,
    activation: Activation = _D["activation"],
    output_activation: OutputActivation = _D["output_activation"],
    dropout: Dropout = _D["dropout"],
    epochs: Epochs = _D["epochs"],
    batch_size: BatchSize = _BATCH,
    lr: Lr = _D["lr"],
    optimizer: Optimizer = _D["optimizer"],
    loss: Loss = _D["loss"],
    weight_decay: WeightDecay = _D["weight_decay"],
    validation_fraction: ValFraction = _D["validation_fraction"],
    patience: Patience = _D["patience"],
    contamination: Contamination = _D["contamination"],
    anomaly_ratio: AnomalyRatio = None,
    threshold: ThresholdRule = None,
    scaling: Scaling = _D["scaling"],
    category_weight: CategoryWeight = _D["category_weight"],
    clip: Clip = _CLIP,
    missing: Missing = _D["missing"],
    categorical: Categorical = None,
    sequence_column: SequenceColumn = None,
    token_sep: TokenSep = None,
    sequence_encoding: SequenceEncoding = _D["sequence_encoding"],
    model: ModelKind = _D["model"],
    kl_weight: KlWeight = _D["kl_weight"],
    kl_anneal: KlAnneal = _D["kl_anneal"],
    noise: Noise = _D["noise"],
    score: ScoreOpt = _D["scoring"],
    reduction: Reduction = _D["reduction"],
    n_clusters: NClusters = _D["n_clusters"],
    distance: Distance = _D["distance"],
    layer_combine: LayerCombine = _D["layer_combine"],
    ensemble: Ensemble = _ENSEMBLE,
    ensemble_method: EnsembleMethod = _D["ensemble_method"],
    mc_samples: McSamples = _D["mc_samples"],
    architecture: Architecture = _D["architecture"],
    conv_encoder: ConvEncoder = _CONV_ENCODER,
    conv_decoder: ConvDecoder = None,
    kernel_size: KernelSize = _D["kernel_size"],
    pooling: Pooling = _D["pooling"],
    upsampling: Upsampling = _D["upsampling"],
    image_shape: ImageShape = None,
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    normal: Normal = None,
    abnormal: Abnormal = None,
    abnormal_data: AbnormalData = None,
    image_size: ImageSize = None,
    seed: Seed = None,
    device: Device = _D["device"],
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Fit a detector on DATA and save it to one model file.

    Example: `aedetect fit customers.csv --output model.aedetect --id-column customer --seed 0`
    """
    _setup_logging(verbose)
    params = {k: v for k, v in locals().items() if k not in _NOT_PARAMS}
    det = _detector(**params, verbose=int(verbose))
    det._validate_params()
    _check_writable(output)
    table = load_data(
        data,
        label_column,
        id_column,
        **_selection(normal, abnormal, abnormal_data, image_size),
        progress=not quiet,
    )
    _adopt_sequences(det, table)
    _adopt_images(det, table)
    _fit(det, table, quiet)
    save_detector(det, output, extra=_extra(table))
    n_flagged = int(det.labels_.sum())
    n_rows = len(table.features) if table.fit_rows is None else int(table.fit_rows.sum())
    typer.echo(
        f"fitted on {n_rows} rows x {table.features.shape[1]} columns in "
        f"{len(det.history_.train_loss)} epochs ({det.history_.seconds:.1f}s); "
        f"threshold {det.threshold_:.4g} flags {n_flagged} training rows; model written to {output}"
    )


_NOT_PARAMS = {
    "data",
    "output",
    "output_dir",
    "label_column",
    "id_column",
    "quiet",
    "verbose",
    "top",
    "normal",
    "abnormal",
    "abnormal_data",
    "image_size",
    "arguments",
}


def _extra(table: Table) -> dict[str, Any]:
    return {
        "id_column": None if table.ids is None else str(table.ids.name),
        "label_column": None if table.labels is None else str(table.labels.name),
        "data": table.source,
    }


@app.command()
@_guarded
def score(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],  # noqa: E501
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV to write (default: standard output).")
    ] = None,  # noqa: E501
    all_scores: Annotated[
        bool,
        typer.Option(
            "--all-scores",
            help="Also write every score the model can give as its own column "
            "(reconstruction, latent-kmeans, layerwise, ensemble, ...).",
        ),
    ] = False,
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    normal: Normal = None,
    abnormal: Abnormal = None,
    abnormal_data: AbnormalData = None,
    image_size: ImageSize = None,
) -> None:
    """Score every row of DATA with a saved model.

    Writes one row per input row, in input order: the id column when known,
    `score` (the model's score; higher = more anomalous) and `is_anomaly` (0/1);
    with `--all-scores`, one more column per score. The id and label columns used
    at fit time are reused unless given here.

    Example: `aedetect score model.aedetect new.csv --output scores.csv`
    """
    _setup_logging(False)
    if output is not None:
        _check_writable(output)
    det = load_detector(model)
    extra = read_metadata(model)["extra"]
    select = _selection(normal, abnormal, abnormal_data, image_size)
    table = _load_for_model(data, extra, label_column, id_column, det, select)
    frame = _scores_frame(det, table, every=all_scores)
    if output is None:
        frame.to_csv(sys.stdout, index=False)
        return
    _write_csv(frame, output)
    typer.echo(
        f"scored {len(frame)} rows, {int(frame['is_anomaly'].sum())} anomalies; "
        f"written to {output}",
        err=True,
    )  # noqa: E501


def _load_for_model(
    data: str,
    extra: dict[str, Any],
    label: str | None,
    id_: str | None,
    det: AutoencoderDetector,
    select: dict[str, Any],
) -> Table:
    """Load DATA, reusing the model's id and label columns when they are present.

    Images in a folder are resized to the model's image size unless --image-size says.
    """
    from aedetect.data.readers import read_table, split_columns

    path = Path(data)
    if det.image_shape_ is not None:  # a folder's images become the model's kind
        channels = det.image_shape_[0]
        select = {**select, "color": "gray" if channels == 1 else "rgb" if channels == 3 else None}
        if select["image_size"] is None:
            select["image_size"] = tuple(det.image_shape_[1:])
    if (
        not path.exists()
        or path.is_dir()
        or path.suffix.lower() == ".npy"
        or any(select.get(k) is not None for k in ("normal", "abnormal", "abnormal_data"))
    ):
        return load_data(data, label, id_, **select)
    frame = read_table(path)
    label = label or (extra.get("label_column") if extra.get("label_column") in frame else None)
    id_ = id_ or (extra.get("id_column") if extra.get("id_column") in frame else None)
    return split_columns(frame, str(path), label, id_)


def _rows(value: str | None, n: int) -> list[int] | None:
    """Parse 1-based row numbers like ``17,42`` into 0-based positions."""
    if value is None:
        return None
    try:
        rows = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--rows must be row numbers like 17,42, got {value!r}") from None
    bad = [r for r in rows if not 1 <= r <= n]
    if bad or not rows:
        raise ConfigError(f"--rows must be between 1 and {n}, got {bad[0] if bad else value!r}")
    return [r - 1 for r in rows]


@app.command()
@_guarded
def explain(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],  # noqa: E501
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    rows: Annotated[
        str | None,
        typer.Option(
            help="Rows to explain, numbered from 1 (the first data row), comma-separated. "
            "Default: the most anomalous flagged rows."
        ),
    ] = None,  # noqa: E501
    top: Annotated[int, typer.Option(help="Columns (or sequence positions) to show per row.")] = 5,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the explanation as CSV.")
    ] = None,  # noqa: E501
    images_dir: Annotated[
        Path | None,
        typer.Option(
            help="For images: write row-N.png per row (image, reconstruction, per-pixel "
            "error heat map) into this folder."
        ),
    ] = None,
    image_shape: Annotated[
        str | None,
        typer.Option(
            help="Image shape as channels,height,width (e.g. 1,8,8), when the model "
            "does not know it."
        ),
    ] = None,
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    normal: Normal = None,
    abnormal: Abnormal = None,
    abnormal_data: AbnormalData = None,
    image_size: ImageSize = None,
) -> None:
    """Show which columns (or sequence positions) made rows anomalous.

    For each row: the columns with the largest reconstruction error, the value
    seen, the value the model expected there, and the share of the row's error.
    For images, `--images-dir` also draws a per-pixel error heat map beside each
    image and its reconstruction.

    Example: `aedetect explain model.aedetect data.csv --rows 17,42`
    or `aedetect explain model.aedetect digits --rows 17,42 --images-dir maps --image-shape 1,8,8`
    """
    _setup_logging(False)
    if output is not None:
        _check_writable(output)
    if images_dir is not None and images_dir.exists() and not images_dir.is_dir():
        raise DataError(f"{images_dir}: exists and is not a folder")
    det = load_detector(model)
    shape = _explain_shape(image_shape, det) if images_dir is not None else None
    select = _selection(normal, abnormal, abnormal_data, image_size)
    table = _load_for_model(
        data, read_metadata(model)["extra"], label_column, id_column, det, select
    )
    with _about(table.source):
        chosen = _rows(rows, len(table.features))
        if chosen is None:
            scores = det.decision_function(table.features)
            order = np.argsort(-scores, kind="stable")
            chosen = [int(i) for i in order[:10] if scores[i] > det.threshold_] or [int(order[0])]
        subset = table.features.iloc[chosen].reset_index(drop=True)
        scores = det.decision_function(subset)
        expl = det.explain(subset, top=top)
    expl["row"] = [chosen[i] + 1 for i in expl["row"]]
    if output is not None:
        _write_csv(expl, output)
    if shape is not None:
        with _about(table.source):
            written = _write_heatmaps(det, subset, chosen, scores, shape, images_dir)
        typer.echo(f"heat maps written to {images_dir}/: {', '.join(written)}", err=True)
    lines = []
    for k, (row, part) in enumerate(expl.groupby("row", sort=False)):
        head = f"row {row}  score {scores[k]:.4g}" + (
            "  (anomaly)" if scores[k] > det.threshold_ else ""
        )
        if table.ids is not None:
            head += f"  {table.ids.name}={table.ids.iloc[row - 1]}"
        if table.features.shape[1] <= 4:
            head += "  " + "  ".join(f"{k}={v}" for k, v in table.features.iloc[row - 1].items())
        lines.append(head)
        for r in part.itertuples():
            lines.append(
                f"  {r.column:<24} seen {_fmt(r.seen):>12}  expected {_fmt(r.expected):>12}"
                f"  error {r.error:.3g} ({r.share:.0%})"
            )
    typer.echo("\n".join(lines))


def _explain_shape(value: str | None, det: AutoencoderDetector) -> tuple[int, int, int]:
    """Return the image shape of --image-shape, else the model's, checked against its columns."""
    if value is not None:
        try:
            shape = tuple(int(v) for v in value.split(","))
        except ValueError:
            shape = ()
        if len(shape) != 3 or min(shape) < 1:
            raise ConfigError(
                f"--image-shape must be channels,height,width like 1,28,28, got {value!r}"
            )
    else:
        shape = getattr(det, "image_shape_", None)
        if shape is None:
            raise ConfigError("--images-dir needs the image shape: give --image-shape C,H,W")
    size = int(np.prod(shape))
    if size != det.n_features_in_:
        raise ConfigError(
            f"--image-shape {','.join(map(str, shape))} holds {size} values, "
            f"but the model has {det.n_features_in_} columns"
        )
    return shape  # type: ignore[return-value]


def _write_heatmaps(
    det: AutoencoderDetector,
    subset: pd.DataFrame,
    chosen: list[int],
    scores: np.ndarray,
    shape: tuple[int, int, int],
    folder: Path,
) -> list[str]:
    from aedetect.report.heatmap import error_heatmap
    from aedetect.report.plots import figure_png

    try:
        images = subset.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("--images-dir needs numeric pixel columns") from None
    recon = np.asarray(det.reconstruct(subset), dtype=np.float64)
    errors = det.feature_errors(subset)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for k, row in enumerate(chosen):
        title = f"row {row + 1}, score {scores[k]:.4g}"
        fig = error_heatmap(images[k], recon[k], errors[k], shape, [title])
        names.append(f"row-{row + 1}.png")
        atomic_write_bytes(folder / names[-1], figure_png(fig))
    return names


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else repr(str(value))


@app.command()
@_guarded
def info(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],  # noqa: E501
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
) -> None:
    """Describe a saved model: version, parameters, columns, training.

    Example: `aedetect info model.aedetect`
    """
    meta = read_metadata(model)
    if as_json:
        typer.echo(json.dumps(meta, indent=2, default=str))
        return
    params, state = meta["params"], meta["state"]
    cols = state["encoder"]["columns"]
    cats = [c["name"] for c in cols if c["kind"] == "categorical"]
    hist = state["history"]
    scores = load_detector(model).decision_scores_
    width = cols[-1]["stop"] if cols else 0
    lines = [
        f"model file      {model}",
        f"written by      aedetect {meta['aedetect_version']} (format {meta['format_version']})",
        f"network         {_info_network(params, state, width)}"
        f" ({params['activation']}, output {params['output_activation']})",
        f"columns         {len(cols)} ({len(cols) - len(cats)} numeric, {len(cats)} categorical"
        + (f": {', '.join(cats[:6])}" if cats else "")
        + ")",
        f"training        {len(hist['train_loss'])} epochs, best {hist['best_epoch']}, "
        f"{hist['seconds']:.1f}s, final loss {hist['train_loss'][-1]:.4g}"
        + (f", val {min(hist['val_loss']):.4g}" if hist["val_loss"] else ""),
        f"model, score    {params.get('model', 'ae')}, {params.get('scoring', 'reconstruction')}",
        f"threshold       {state['threshold']:.6g} ("
        + (state.get("threshold_rule") or f"contamination {params['contamination']}")
        + ")",
        f"training scores median {np.median(scores):.4g}, max {np.max(scores):.4g}, "
        f"{len(scores)} rows",
    ]
    extra = meta["extra"]
    if extra.get("id_column") or extra.get("label_column"):
        lines.append(f"id / label      {extra.get('id_column')} / {extra.get('label_column')}")
    typer.echo("\n".join(lines))


@app.command()
@_guarded
def run(
    data: Annotated[str, typer.Argument(help=DATA_HELP)] = "digits",
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", help="Folder for the model, scores and flagged rows."),
    ] = Path("aedetect-output"),  # noqa: E501
    preset: Preset = None,
    hidden: Hidden = _HIDDEN,
    activation: Activation = _D["activation"],
    output_activation: OutputActivation = _D["output_activation"],
    dropout: Dropout = _D["dropout"],
    epochs: Epochs = _D["epochs"],
    batch_size: BatchSize = _BATCH,
    lr: Lr = _D["lr"],
    optimizer: Optimizer = _D["optimizer"],
    loss: Loss = _D["loss"],
    weight_decay: WeightDecay = _D["weight_decay"],
    validation_fraction: ValFraction = _D["validation_fraction"],
    patience: Patience = _D["patience"],
    contamination: Contamination = _D["contamination"],
    anomaly_ratio: AnomalyRatio = None,
    threshold: ThresholdRule = None,
    scaling: Scaling = _D["scaling"],
    category_weight: CategoryWeight = _D["category_weight"],
    clip: Clip = _CLIP,
    missing: Missing = _D["missing"],
    categorical: Categorical = None,
    sequence_column: SequenceColumn = None,
    token_sep: TokenSep = None,
    sequence_encoding: SequenceEncoding = _D["sequence_encoding"],
    model: ModelKind = _D["model"],
    kl_weight: KlWeight = _D["kl_weight"],
    kl_anneal: KlAnneal = _D["kl_anneal"],
    noise: Noise = _D["noise"],
    score: ScoreOpt = _D["scoring"],
    reduction: Reduction = _D["reduction"],
    n_clusters: NClusters = _D["n_clusters"],
    distance: Distance = _D["distance"],
    layer_combine: LayerCombine = _D["layer_combine"],
    ensemble: Ensemble = _ENSEMBLE,
    ensemble_method: EnsembleMethod = _D["ensemble_method"],
    mc_samples: McSamples = _D["mc_samples"],
    architecture: Architecture = _D["architecture"],
    conv_encoder: ConvEncoder = _CONV_ENCODER,
    conv_decoder: ConvDecoder = None,
    kernel_size: KernelSize = _D["kernel_size"],
    pooling: Pooling = _D["pooling"],
    upsampling: Upsampling = _D["upsampling"],
    image_shape: ImageShape = None,
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    normal: Normal = None,
    abnormal: Abnormal = None,
    abnormal_data: AbnormalData = None,
    image_size: ImageSize = None,
    seed: Seed = 0,
    device: Device = _D["device"],
    top: Annotated[int, typer.Option(help="How many of the most anomalous rows to print.")] = 5,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Fit on DATA, score it, and write model, scores and flagged rows to a folder.

    Writes `model.aedetect`, `scores.csv` (one row per input row) and
    `anomalies.csv` (the flagged rows, most anomalous first), then prints a summary.

    Example: `aedetect run digits --output-dir out` or `aedetect run data.csv -o out --id-column id`
    """
    arguments = dict(locals())  # as typed, for the report's reproduce line
    _setup_logging(verbose)
    params = {k: v for k, v in locals().items() if k not in _NOT_PARAMS}
    det = _detector(**params, verbose=int(verbose))
    det._validate_params()
    if output_dir.exists() and not output_dir.is_dir():
        raise DataError(f"{output_dir}: exists and is not a folder")
    table = load_data(
        data,
        label_column,
        id_column,
        **_selection(normal, abnormal, abnormal_data, image_size),
        progress=not quiet,
    )
    _adopt_sequences(det, table)
    _adopt_images(det, table)
    _fit(det, table, quiet)
    scores = _scores_frame(det, table)
    if table.fit_rows is not None:
        scores["split"] = np.where(table.fit_rows, "fit", "test")
    order = np.argsort(-scores["score"].to_numpy(), kind="stable")
    flagged = order[scores["is_anomaly"].to_numpy()[order] == 1]
    shown = table.features.iloc[flagged] if table.image_shape is None else None
    anomalies = pd.concat([scores.iloc[flagged], shown], axis=1)
    anomalies.insert(0, "row", flagged + 1)  # numbered from 1, like error messages
    output_dir.mkdir(parents=True, exist_ok=True)
    save_detector(det, output_dir / "model.aedetect", extra=_extra(table))
    _write_csv(scores, output_dir / "scores.csv")
    _write_csv(anomalies, output_dir / "anomalies.csv")
    written = ["model.aedetect", "scores.csv", "anomalies.csv"]
    if table.image_shape is not None and len(order):
        from aedetect.report.plots import figure_png, image_grid

        top_rows = order[:25]
        pixels = table.features.iloc[top_rows].to_numpy().reshape(-1, *table.image_shape)
        titles = [f"row {i + 1}" for i in top_rows]
        fig = image_grid(pixels, titles=titles, title=f"Most anomalous: {table.source}")
        atomic_write_bytes(output_dir / "anomalies.png", figure_png(fig))
        written.append("anomalies.png")
    codes = det.transform(table.features)
    if codes.shape[1] == 2:  # the 2-unit-latent presets: draw the codes
        from aedetect.report.plots import figure_png, latent_scatter

        names = [" ".join(map(str, row)) for row in table.features.itertuples(index=False)]
        fig = latent_scatter(codes, det.labels_, names, title=f"Latent codes: {table.source}")
        atomic_write_bytes(output_dir / "latent.png", figure_png(fig))
        written.append("latent.png")
    command = _reproduce("run", arguments)
    _write_report(det, table, scores["score"].to_numpy(), command, output_dir / "report.html")
    written.append("report.html")
    typer.echo(_summary(det, table, scores, order[:top], output_dir, written))
    typer.echo(f"report     {output_dir / 'report.html'}")


def _summary(
    det: AutoencoderDetector,
    table: Table,
    scores: pd.DataFrame,
    top: np.ndarray,
    out: Path,
    written: list[str],
) -> str:
    hist = det.history_
    lines = [
        f"data       {table.source}: {len(table.features)} rows x "
        f"{table.features.shape[1]} columns",
        f"model      {_network(det)} "
        f"trained {len(hist.train_loss)} epochs (best {hist.best_epoch}) in {hist.seconds:.1f}s",
        f"threshold  {det.threshold_:.4g}: {int(scores['is_anomaly'].sum())} rows flagged "
        f"({det.threshold_rule_})",
    ]
    labels = _binary_labels(table.labels)
    s = scores["score"].to_numpy()
    where = ""
    if table.fit_rows is not None and labels is not None:  # judge on the held-out rows only
        test = ~table.fit_rows
        labels, s = _binary_labels(table.labels[test]), s[test]
        where = f" on the {int(test.sum())} test rows"
    if labels is not None:
        from sklearn.metrics import average_precision_score, roc_auc_score

        lines.append(
            f"labels     AUROC {roc_auc_score(labels, s):.3f}, "
            f"average precision {average_precision_score(labels, s):.3f}{where}"
        )
    lines.append("most anomalous rows (numbered from 1):")
    for i in top:
        desc = f"  row {i + 1:>6}  score {scores['score'].iloc[i]:.4g}"
        if table.ids is not None:
            desc += f"  {table.ids.name}={table.ids.iloc[i]}"
        if table.labels is not None:
            desc += f"  {table.labels.name}={table.labels.iloc[i]}"
        if "split" in scores.columns:
            desc += f"  ({scores['split'].iloc[i]})"
        if table.features.shape[1] <= 4:  # narrow tables: the values say it best
            desc += "  " + "  ".join(f"{k}={v}" for k, v in table.features.iloc[i].items())
        lines.append(desc)
    lines.append(f"written    {out}/{', '.join(written)}")
    return "\n".join(lines)


_POSITIONAL = {"run": ("data",), "report": ("model", "data")}


def _reproduce(command: str, values: dict[str, Any]) -> str:
    """Build the command line that repeats a run: every option that differs from its default."""
    fn = {"run": run, "report": report}[command]
    signature = inspect.signature(inspect.unwrap(fn))
    words = ["aedetect", command]
    for name, param in signature.parameters.items():
        value = values.get(name, param.default)
        if name in ("quiet", "verbose", "top") or value is None:
            continue
        if name in _POSITIONAL[command]:
            words.append(str(value))
        elif value != param.default:
            words += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(words)


def _write_report(
    det: AutoencoderDetector, table: Table, scores: np.ndarray, command: str, path: Path
) -> None:
    from aedetect.report.html import collect_report, render_report

    features, labels, ids, source = table.features, table.labels, table.ids, table.source
    if table.fit_rows is not None:  # a one-class split: judge on the held-out rows
        test = ~np.asarray(table.fit_rows, dtype=bool)
        features, scores = features[test], scores[test]
        labels = None if labels is None else labels[test]
        ids = None if ids is None else ids[test]
        source = f"{source} (the {int(test.sum()):,} held-out rows)"
    with _about(table.source):
        data = collect_report(
            det, features, scores, source=source, command=command, labels=labels, ids=ids
        )
    atomic_write_bytes(path, render_report(data).encode("utf-8"))


@app.command()
@_guarded
def report(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],  # noqa: E501
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),  # noqa: E501
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    normal: Normal = None,
    abnormal: Abnormal = None,
    abnormal_data: AbnormalData = None,
    image_size: ImageSize = None,
) -> None:
    """Write one self-contained HTML report of a model on DATA.

    Data and model summary, training curve, score distribution with the
    threshold, the flagged rows with explanations, and metrics when a 0/1 label
    column is known. Images are inlined: the file opens offline, on a phone too.

    Example: `aedetect report model.aedetect data.csv --output report.html`
    """
    _setup_logging(False)
    _check_writable(output)
    det = load_detector(model)
    select = _selection(normal, abnormal, abnormal_data, image_size)
    table = _load_for_model(
        data, read_metadata(model)["extra"], label_column, id_column, det, select
    )
    with _about(table.source):
        scores = det.decision_function(table.features)
    command = _reproduce(
        "report",
        {
            "model": model,
            "data": data,
            "output": output,
            "label_column": label_column,
            "id_column": id_column,
            "normal": normal,
            "abnormal": abnormal,
            "abnormal_data": abnormal_data,
            "image_size": image_size,
        },
    )
    _write_report(det, table, scores, command, output)
    typer.echo(f"report written to {output}")


@app.command()
@_guarded
def evaluate(
    scores: Annotated[
        Path,
        typer.Argument(
            help="Scores CSV (from `aedetect score` or any tool), one row per item.",
            show_default=False,
        ),
    ],
    labels: Annotated[
        str,
        typer.Option(
            help="Known 0/1 labels (1 = anomaly): a column of SCORES, or a file "
            "(FILE or FILE:COLUMN) with one label per row of SCORES.",
            show_default=False,
        ),
    ],
    score_column: Annotated[str, typer.Option(help="Column of SCORES holding the scores.")] = (
        "score"
    ),
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold",
            help="Threshold rule (quantile:0.99, ratio:0.0002, fixed:0.05, fpr:0.01 on the "
            "label-0 rows, mad:3, iqr:1.5, gpd:0.001, gamma:0.001, f1). Default: the "
            "model's own, read from an is_anomaly column, else contamination:0.1.",
        ),
    ] = None,
    top_k: Annotated[
        int | None,
        typer.Option(help="k for precision at k (default: the number of known anomalies)."),
    ] = None,
    step: Annotated[
        float | None,
        typer.Option(
            help="Spacing of the threshold sweep (reference A: 0.001); default 1000 points."
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            help="Also write metrics.json, sweep.csv and the ROC, PR, histogram and sweep plots.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Evaluate scores against known labels: AUROC, AP, F1 at a threshold, a sweep.

    Prints AUROC, average precision, PR-AUC, precision, recall and F1 at the
    threshold, precision at k, the confusion matrix and reference A's separation
    statistic. With `--output-dir`, also the threshold sweep (outliers rejected,
    inliers rejected, F1 per threshold) as CSV, and plots.

    Example: `aedetect evaluate out/scores.csv --labels is_anomaly --threshold mad:3 -o eval`
    """
    from aedetect.metrics import check_labels, threshold_sweep
    from aedetect.metrics import evaluate as evaluate_scores

    _setup_logging(False)
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        raise DataError(f"{output_dir}: exists and is not a folder")
    frame = read_table(scores)
    if score_column not in frame.columns:
        raise DataError(f"{scores}: no column {score_column!r} (columns: {_columns(frame)})")
    values = pd.to_numeric(frame[score_column], errors="coerce").to_numpy()
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise DataError(
            f"{scores}: column {score_column!r} row {row + 1}: "
            f"{frame[score_column].iloc[row]!r} is not a number"
        )
    truth = _labels_for(labels, frame, scores)
    try:
        y, s = check_labels(truth.to_numpy(), values)
    except DataError as exc:
        raise DataError(f"{truth.name}: {exc}") from None
    thr, rule = _evaluation_threshold(threshold, frame, y, s)
    metrics = evaluate_scores(y, s, thr, k=top_k)
    metrics["threshold_rule"] = rule
    if output_dir is not None:
        _write_evaluation(output_dir, metrics, y, s, threshold_sweep(y, s, step=step))
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
        return
    typer.echo(_metrics_text(metrics, scores, output_dir))


def _columns(frame: pd.DataFrame) -> str:
    names = list(map(str, frame.columns))
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _labels_for(spec: str, frame: pd.DataFrame, scores: Path) -> pd.Series:
    """Labels from a column of the scores file, or from FILE / FILE:COLUMN."""
    if spec in frame.columns and not Path(spec).is_file():
        # `aedetect score` renames a label column that clashes with its own
        # is_anomaly flags to true_<name>: the known labels are there.
        name = f"true_{spec}" if f"true_{spec}" in frame.columns else spec
        return frame[name].rename(f"{scores}: column {name!r}")
    path, column = Path(spec), None
    if not path.is_file() and ":" in spec:
        head, _, column = spec.rpartition(":")
        path = Path(head)
    if not path.is_file():
        raise DataError(
            f"--labels {spec!r} is neither a column of {scores} ({_columns(frame)}) nor a file"
        )
    table = read_table(path)
    if column is None:
        if table.shape[1] != 1:
            raise DataError(
                f"{path}: has {table.shape[1]} columns; name one: --labels {path}:COLUMN"
            )
        column = str(table.columns[0])
    if column not in table.columns:
        raise DataError(f"{path}: no column {column!r} (columns: {_columns(table)})")
    if len(table) != len(frame):
        raise DataError(f"{path}: has {len(table)} rows but {scores} has {len(frame)}")
    return table[column].rename(f"{path}: column {column!r}")


def _evaluation_threshold(
    text: str | None, frame: pd.DataFrame, y: np.ndarray, s: np.ndarray
) -> tuple[float, str]:
    """Fit the chosen rule; by default reuse the model's flags in an is_anomaly column."""
    from aedetect.thresholds import parse_threshold

    if text is None and "is_anomaly" in frame.columns:
        flags = pd.to_numeric(frame["is_anomaly"], errors="coerce").to_numpy()
        if set(np.unique(flags)) <= {0, 1} and flags.max() == 1 and flags.min() == 0:
            return float(s[flags == 0].max()), "the model's threshold (is_anomaly column)"
    rule = parse_threshold(text or "contamination:0.1")
    if rule.needs_labels:
        rule.fit(s, y)
    elif rule.needs_normal_scores:
        rule.fit(s[y == 0])
    else:
        rule.fit(s)
    return rule.threshold_, rule.describe()


def _write_evaluation(
    out: Path, metrics: dict[str, Any], y: np.ndarray, s: np.ndarray, sweep: pd.DataFrame
) -> None:
    from aedetect.report import plots

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "metrics.json", json.dumps(metrics, indent=2).encode())
    _write_csv(sweep, out / "sweep.csv")
    thr = metrics["threshold"]
    figures = {
        "histogram.png": plots.score_histogram(s, y, thr),
        "roc.png": plots.roc_plot(y, s),
        "pr.png": plots.pr_plot(y, s),
        "sweep.png": plots.sweep_plot(sweep),
    }
    for name, fig in figures.items():
        atomic_write_bytes(out / name, plots.figure_png(fig))


def _metrics_text(m: dict[str, Any], scores: Path, out: Path | None) -> str:
    lines = [
        f"evaluated {m['n']} rows of {scores}, {m['n_anomalies']} known anomalies",
        f"AUROC              {m['auroc']:.4f}",
        f"average precision  {m['average_precision']:.4f}",
        f"PR-AUC             {m['pr_auc']:.4f}",
        f"threshold          {m['threshold']:.6g} ({m['threshold_rule']})",
        f"precision          {m['precision']:.4f}",
        f"recall             {m['recall']:.4f}",
        f"F1                 {m['f1']:.4f}",
        f"precision at {m['k']:<5} {m['precision_at_k']:.4f}",
        f"confusion          TP {m['tp']}  FP {m['fp']}  FN {m['fn']}  TN {m['tn']}",
        f"separation         {m['separation']:.4g}  ((mu_in - mu_out)^2 / (var_in + var_out))",
    ]
    if out is not None:
        lines.append(f"written to {out}: metrics.json, sweep.csv, histogram/roc/pr/sweep.png")
    return "\n".join(lines)


def _info_network(params: dict[str, Any], state: dict[str, Any], width: int) -> str:
    if params.get("architecture") == "conv":
        shape = "x".join(map(str, state.get("image_shape") or ()))
        decoder = params.get("conv_decoder")
        dec = ",".join(map(str, decoder)) if decoder else "mirror"
        return f"conv {shape}: encoder {','.join(map(str, params['conv_encoder']))}, decoder {dec}"
    return f"{width} -> {' -> '.join(map(str, params['hidden']))} -> ... -> {width}"


def _network(det: AutoencoderDetector) -> str:
    if det.architecture == "conv":
        shape = "x".join(map(str, det.image_shape_))
        return f"conv {shape} -> {','.join(map(str, det.conv_encoder))} -> ..."
    return f"{det.encoder_.n_features_out_}-{'-'.join(map(str, det.hidden))}-..."


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"aedetect {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Find anomalies with autoencoders: fit on mostly normal data, score new data.

    Start with `aedetect run` (fits on the built-in digits) or `aedetect run data.csv`.
    """


def main() -> None:
    """Entry point of the ``aedetect`` console script."""
    app()


@app.command()
@_guarded
def experiment(
    name: Annotated[
        str,
        typer.Argument(
            help="three-models (B), worst-digits (D), output-activation (E) or "
            "mnist-thresholds (A, method 1).",
            show_default=False,
        ),
    ],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder for the figures (PNG) and CSVs.")
    ] = Path("aedetect-experiment"),
    epochs: Annotated[
        int | None, typer.Option(help="Training epochs (default: the experiment's).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Rows per optimisation step (default: the experiment's).")
    ] = None,
    test_samples: Annotated[
        int | None, typer.Option(help="Normal and abnormal test images, each (three-models: 50).")
    ] = None,
    train_samples: Annotated[
        int | None, typer.Option(help="Cap on the training images (default: all).")
    ] = None,
    optimizer: Annotated[
        str | None, typer.Option(help="three-models: adam, sgd or adagrad (Keras defaults).")
    ] = None,
    loss: Annotated[
        str | None,
        typer.Option(help="three-models: mean_squared_error or binary_crossentropy."),
    ] = None,
    top: Annotated[int | None, typer.Option(help="worst-digits: items to list (10).")] = None,
    data: Annotated[
        str,
        typer.Option(
            help="auto (MNIST + Fashion-MNIST when in the cache, else offline), offline "
            "(mnist5k + sample-photo patches) or real (downloads)."
        ),
    ] = "auto",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Repeat a reference experiment; write its figures (PNG) and numbers (CSV).

    Example: `aedetect experiment worst-digits --output-dir out-d`
    """
    import inspect

    from aedetect.experiments import EXPERIMENTS
    from aedetect.report.plots import figure_png

    _setup_logging(False)
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    fn = EXPERIMENTS[name]
    given = {
        "epochs": epochs,
        "batch_size": batch_size,
        "test_samples": test_samples,
        "train_samples": train_samples,
        "optimizer": optimizer,
        "loss": loss,
        "top": top,
        "data": None if data == "auto" else data,
        "seed": seed,
    }
    accepted = inspect.signature(fn).parameters
    kwargs: dict[str, Any] = {}
    for key, value in given.items():
        if value is None:
            continue
        if key not in accepted:
            raise ConfigError(f"--{key.replace('_', '-')} does not apply to {name}")
        kwargs[key] = value
    if "progress" in accepted:
        kwargs["progress"] = not quiet
    if output_dir.exists() and not output_dir.is_dir():
        raise DataError(f"{output_dir}: exists and is not a folder")
    result = fn(**kwargs)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fig_name, fig in result.figures.items():
        atomic_write_bytes(output_dir / f"{fig_name}.png", figure_png(fig))
        written.append(f"{fig_name}.png")
    for table_name, frame in result.tables.items():
        _write_csv(frame, output_dir / f"{table_name}.csv")
        written.append(f"{table_name}.csv")
    typer.echo("\n".join([f"experiment {name}", *result.summary]))
    typer.echo(f"written    {output_dir}/{', '.join(written)}")
