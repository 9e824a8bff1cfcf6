"""The ``aedetect`` command line: thin commands over the library.

Library errors become one line on stderr and an exit code here, and only here:
2 for a usage or parameter error, 1 for a data or model-file problem.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from aedetect import __version__, pipeline
from aedetect.data.datasets import BUILTIN
from aedetect.data.images import parse_image_shape
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import AedetectError, ConfigError
from aedetect.models.presets import PRESETS
from aedetect.persistence import atomic_write_bytes, read_metadata
from aedetect.pipeline.data import DataRequest, check_folder, check_writable, write_csv

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


# ----------------------------------------------------- flags in messages
# The one place that maps parameter names to command-line flags. Library
# messages name parameters (`label_column 'x' is not a column`); the CLI
# speaks flags. A name is translated only where it stands for the parameter:
# before these words, or after the words in the second pattern.
_FLAG_BEFORE = r" must\b| needs\b| rest\b| from\b| and abnormal\b| '| -?\d|/| [^ ]*:COLUMN"
_FLAG_AFTER = r"needs |for |give |both normal and |pick normal/|use |name one: "
_SPOKEN = (
    "label_column",
    "id_column",
    "normal",
    "abnormal",
    "image_size",
    "image_shape",
    "images_dir",
    "rows",
    "labels",
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


_FLAG_RE = re.compile(r"(?<![\w-])(" + "|".join(_SPOKEN) + r")(?![\w-])")


def _speak_flags(message: str) -> str:
    """``label_column 'x' is not a column`` -> ``--label-column 'x' is not a column``."""

    def swap(m: re.Match[str]) -> str:
        before, after = message[: m.start()], message[m.end() :]
        if re.match(_FLAG_BEFORE, after) or re.search(rf"(?:{_FLAG_AFTER})$", before):
            return _flag(m.group(1))
        return m.group(1)

    return _FLAG_RE.sub(swap, message)


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
            _fail(_speak_flags(str(exc)), EXIT_USAGE)
        except AedetectError as exc:
            _fail(_speak_flags(str(exc)), EXIT_DATA)
        except BrokenPipeError:  # `aedetect score ... | head`: the reader left
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
            raise typer.Exit(0) from None
        except OSError as exc:  # unwritable output folder, disk full, ...
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), EXIT_DATA)

    return wrapper


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("aedetect").setLevel(logging.INFO if verbose else logging.WARNING)


# The options of `fit` and `run` that build the detector, declared once.
_MODEL_OPTIONS: list[tuple[str, Any, Any]] = [
    ("preset", Preset, None),
    ("hidden", Hidden, _HIDDEN),
    ("activation", Activation, _D["activation"]),
    ("output_activation", OutputActivation, _D["output_activation"]),
    ("dropout", Dropout, _D["dropout"]),
    ("epochs", Epochs, _D["epochs"]),
    ("batch_size", BatchSize, _BATCH),
    ("lr", Lr, _D["lr"]),
    ("optimizer", Optimizer, _D["optimizer"]),
    ("loss", Loss, _D["loss"]),
    ("weight_decay", WeightDecay, _D["weight_decay"]),
    ("validation_fraction", ValFraction, _D["validation_fraction"]),
    ("patience", Patience, _D["patience"]),
    ("contamination", Contamination, _D["contamination"]),
    ("anomaly_ratio", AnomalyRatio, None),
    ("threshold", ThresholdRule, None),
    ("scaling", Scaling, _D["scaling"]),
    ("category_weight", CategoryWeight, _D["category_weight"]),
    ("clip", Clip, _CLIP),
    ("missing", Missing, _D["missing"]),
    ("categorical", Categorical, None),
    ("sequence_column", SequenceColumn, None),
    ("token_sep", TokenSep, None),
    ("sequence_encoding", SequenceEncoding, _D["sequence_encoding"]),
    ("model", ModelKind, _D["model"]),
    ("kl_weight", KlWeight, _D["kl_weight"]),
    ("kl_anneal", KlAnneal, _D["kl_anneal"]),
    ("noise", Noise, _D["noise"]),
    ("score", ScoreOpt, _D["scoring"]),
    ("reduction", Reduction, _D["reduction"]),
    ("n_clusters", NClusters, _D["n_clusters"]),
    ("distance", Distance, _D["distance"]),
    ("layer_combine", LayerCombine, _D["layer_combine"]),
    ("ensemble", Ensemble, _ENSEMBLE),
    ("ensemble_method", EnsembleMethod, _D["ensemble_method"]),
    ("mc_samples", McSamples, _D["mc_samples"]),
    ("architecture", Architecture, _D["architecture"]),
    ("conv_encoder", ConvEncoder, _CONV_ENCODER),
    ("conv_decoder", ConvDecoder, None),
    ("kernel_size", KernelSize, _D["kernel_size"]),
    ("pooling", Pooling, _D["pooling"]),
    ("upsampling", Upsampling, _D["upsampling"]),
    ("image_shape", ImageShape, None),
]
# The options that read DATA, shared by every command that takes DATA.
_DATA_OPTIONS: list[tuple[str, Any, Any]] = [
    ("label_column", LabelColumn, None),
    ("id_column", IdColumn, None),
    ("normal", Normal, None),
    ("abnormal", Abnormal, None),
    ("abnormal_data", AbnormalData, None),
    ("image_size", ImageSize, None),
]


def _with_options(*blocks: list[tuple[str, Any, Any]]) -> Callable[[Callable], Callable]:
    """Put the options of ``blocks`` where the command has ``**options``.

    Typer reads a command's options from its signature; this writes them into
    the signature once for every command that shares them, and the command
    receives them in ``options``.
    """

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn, eval_str=True)
        shared = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
            for block in blocks
            for name, a, d in block
        ]
        params: list[inspect.Parameter] = []
        for p in sig.parameters.values():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                params += shared
            else:
                params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        return fn

    return decorate


def _seed_device(seed: Any) -> list[tuple[str, Any, Any]]:
    return [("seed", Seed, seed), ("device", Device, _D["device"])]


def _request(data: str, options: dict[str, Any]) -> DataRequest:
    """Take the data options out of ``options`` as a :class:`DataRequest`."""
    return DataRequest(data, **{name: options.pop(name) for name, _, _ in _DATA_OPTIONS})


def _detector(options: dict[str, Any], verbose: bool) -> AutoencoderDetector:
    """Build the detector from the model options: one translation for `fit` and `run`."""
    params = dict(options)
    preset = params.pop("preset", None)
    params["hidden"] = _int_tuple(params["hidden"])
    params["clip"] = _clip(params["clip"])
    params["categorical"] = _names(params["categorical"])
    params["sequence_columns"] = _names(params.pop("sequence_column"))
    params["conv_encoder"] = _tokens(params["conv_encoder"], "--conv-encoder")
    params["conv_decoder"] = _tokens(params["conv_decoder"], "--conv-decoder")
    params["image_shape"] = parse_image_shape(params["image_shape"], "--image-shape")
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
    params["verbose"] = int(verbose)
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


@contextlib.contextmanager
def _progress(epochs: int, quiet: bool) -> Iterator[Callable[[int, float, float | None], None]]:
    """Show a training progress bar on stderr (on a terminal); yield the epoch callback."""
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
        task = bar.add_task("fit", total=epochs, loss="-")

        def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
            shown = f"{train_loss:.4g}" + (f" val {val_loss:.4g}" if val_loss is not None else "")
            bar.update(task, completed=epoch, loss=shown)

        yield on_epoch


# ---------------------------------------------------------------- commands
@app.command()
@_guarded
@_with_options(_MODEL_OPTIONS, _DATA_OPTIONS, _seed_device(None))
def fit(
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")],
    quiet: Quiet = False,
    verbose: Verbose = False,
    **options: Any,
) -> None:
    """Fit a detector on DATA and save it to one model file.

    Example: `aedetect fit customers.csv --output model.aedetect --id-column customer --seed 0`
    """
    _setup_logging(verbose)
    request = _request(data, options)
    det = _detector(options, verbose)
    with _progress(det.epochs, quiet) as on_epoch:
        result = pipeline.fit(det, request, output, on_epoch=on_epoch, progress=not quiet)
    typer.echo(result.message())


@app.command()
@_guarded
@_with_options(_DATA_OPTIONS)
def score(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV to write (default: standard output).")
    ] = None,
    all_scores: Annotated[
        bool,
        typer.Option(
            "--all-scores",
            help="Also write every score the model can give as its own column "
            "(reconstruction, latent-kmeans, layerwise, ensemble, ...).",
        ),
    ] = False,
    **options: Any,
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
        check_writable(output)
    frame = pipeline.score(model, _request(data, options), all_scores=all_scores)
    if output is None:
        frame.to_csv(sys.stdout, index=False)
        return
    write_csv(frame, output)
    typer.echo(
        f"scored {len(frame)} rows, {int(frame['is_anomaly'].sum())} anomalies; "
        f"written to {output}",
        err=True,
    )


def _rows(value: str | None) -> list[int] | None:
    """Parse row numbers like ``17,42`` (numbered from 1)."""
    if value is None:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--rows must be row numbers like 17,42, got {value!r}") from None


@app.command()
@_guarded
@_with_options(_DATA_OPTIONS)
def explain(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    rows: Annotated[
        str | None,
        typer.Option(
            help="Rows to explain, numbered from 1 (the first data row), comma-separated. "
            "Default: the most anomalous flagged rows."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="Columns (or sequence positions) to show per row.")] = 5,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the explanation as CSV.")
    ] = None,
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
    **options: Any,
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
        check_writable(output)
    shape = parse_image_shape(image_shape, "--image-shape") if images_dir is not None else None
    result = pipeline.explain(model, _request(data, options), _rows(rows), top, images_dir, shape)
    if output is not None:
        write_csv(result.frame, output)
    if images_dir is not None:
        typer.echo(f"heat maps written to {images_dir}/: {', '.join(result.heatmaps)}", err=True)
    typer.echo(result.text())


@app.command()
@_guarded
def info(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
) -> None:
    """Describe a saved model: version, parameters, columns, training.

    Example: `aedetect info model.aedetect`
    """
    if as_json:
        typer.echo(json.dumps(read_metadata(model), indent=2, default=str))
        return
    typer.echo(pipeline.info(model).text())


@app.command()
@_guarded
@_with_options(_MODEL_OPTIONS, _DATA_OPTIONS, _seed_device(0))
def run(
    data: Annotated[str, typer.Argument(help=DATA_HELP)] = "digits",
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", help="Folder for the model, scores and flagged rows."),
    ] = Path("aedetect-output"),
    top: Annotated[int, typer.Option(help="How many of the most anomalous rows to print.")] = 5,
    quiet: Quiet = False,
    verbose: Verbose = False,
    **options: Any,
) -> None:
    """Fit on DATA, score it, and write model, scores and flagged rows to a folder.

    Writes `model.aedetect`, `scores.csv` (one row per input row) and
    `anomalies.csv` (the flagged rows, most anomalous first), then prints a summary.

    Example: `aedetect run digits --output-dir out` or `aedetect run data.csv -o out --id-column id`
    """
    command = _reproduce("run", {"data": data, "output_dir": output_dir, **options})
    _setup_logging(verbose)
    request = _request(data, options)
    det = _detector(options, verbose)
    with _progress(det.epochs, quiet) as on_epoch:
        result = pipeline.run(
            det,
            request,
            output_dir,
            command=command,
            top=top,
            on_epoch=on_epoch,
            progress=not quiet,
        )
    typer.echo(result.summary())
    typer.echo(f"report     {result.report_path}")


@app.command()
@_guarded
@_with_options(_DATA_OPTIONS)
def report(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    **options: Any,
) -> None:
    """Write one self-contained HTML report of a model on DATA.

    Data and model summary, training curve, score distribution with the
    threshold, the flagged rows with explanations, and metrics when a 0/1 label
    column is known. Images are inlined: the file opens offline, on a phone too.

    Example: `aedetect report model.aedetect data.csv --output report.html`
    """
    _setup_logging(False)
    command = _reproduce("report", {"model": model, "data": data, "output": output, **options})
    pipeline.report(model, _request(data, options), output, command)
    typer.echo(f"report written to {output}")


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
    _setup_logging(False)
    result = pipeline.evaluate(scores, labels, score_column, threshold, top_k, step, output_dir)
    if as_json:
        typer.echo(json.dumps(result.metrics, indent=2))
        return
    typer.echo(result.text())


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
    check_folder(output_dir)
    result = fn(**kwargs)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fig_name, fig in result.figures.items():
        atomic_write_bytes(output_dir / f"{fig_name}.png", figure_png(fig))
        written.append(f"{fig_name}.png")
    for table_name, frame in result.tables.items():
        write_csv(frame, output_dir / f"{table_name}.csv")
        written.append(f"{table_name}.csv")
    typer.echo("\n".join([f"experiment {name}", *result.summary]))
    typer.echo(f"written    {output_dir}/{', '.join(written)}")
