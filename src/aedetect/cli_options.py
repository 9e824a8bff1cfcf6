"""The command line's shared options: declared once, turned into detector parameters.

Part of the CLI layer (only :mod:`aedetect.cli` imports it). Holds the one
mapping from parameter names to flags, used to speak flags in library messages.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aedetect.exceptions import ConfigError
from aedetect.models.presets import PRESETS
from aedetect.params import BUILTIN_DATA_SETS, DEFAULTS, DETECTOR

if TYPE_CHECKING:
    from aedetect.detector import AutoencoderDetector
    from aedetect.pipeline.data import DataRequest

# One source of truth: the CLI's defaults are the estimator's (as plain data,
# so that --help and --version need no torch; a test checks they agree).
_D = DEFAULTS
_HIDDEN = ",".join(map(str, _D["hidden"]))
_BATCH, _CLIP = str(_D["batch_size"]), str(_D["clip"])
_ENSEMBLE = ",".join(_D["ensemble"])
_WEIGHTS = None if _D["ensemble_weights"] is None else ",".join(map(str, _D["ensemble_weights"]))
DATA_HELP = (
    "A CSV, TSV, Parquet or .npy file (a .npy of shape (n, h, w) or (n, h, w, c) is images), "
    "- for a CSV on standard input, "
    f"a folder of PNG/JPEG images, or a built-in data set ({', '.join(BUILTIN_DATA_SETS)})."
)
_CONV_ENCODER = ",".join(map(str, _D["conv_encoder"]))


# ------------------------------------------------------------------ options
def _int_tuple(value: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(v) for v in value.split(","))
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


def _floats(value: str | None, flag: str) -> tuple[float, ...] | None:
    try:
        return tuple(float(v) for v in _names(value) or ()) or None
    except ValueError:
        raise ConfigError(f"{flag} must be numbers separated by commas, got {value!r}") from None


def _names(value: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def _clip(value: str) -> float | None:
    if value.lower() == "none":
        return None
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"expected a number or 'none', got {value!r}") from None


MODEL, DATA_OPTS, SCORING, SERIES = "Model", "Data", "Scoring", "Series"
Seed = Annotated[
    int | None,
    typer.Option(help="Random seed: the same seed gives the same scores.", rich_help_panel=MODEL),
]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.", rich_help_panel=MODEL)]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Errors only: no progress, status line, summary or warning (output asked "
        "for on stdout is still printed).",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every epoch.")]
CHUNK_ROWS = 65536  # pipeline.streaming.CHUNK_ROWS, without importing pandas at start-up
ChunkRows = Annotated[
    int,
    typer.Option(
        min=1, help="Rows read and scored at a time (CSV, Parquet); memory grows with it."
    ),
]
StreamFit = Annotated[
    bool | None,
    typer.Option(
        "--stream/--no-stream",
        help="Train on a Parquet file or folder without loading it: encoder and threshold "
        "from a seeded sample, epochs over shuffled row groups (default: above 1 GiB).",
        show_default=False,
    ),
]
DaskAddress = Annotated[
    str | None,
    typer.Option(
        help="Score a Parquet file or folder on Dask: `local` (a LocalCluster) or a "
        "scheduler `tcp://HOST:PORT`; --output is then a folder of Parquet files "
        "(pip install 'aedetect[dask]').",
        show_default=False,
    ),
]
# (name, type, default, help panel, help[, flags]): declared once, shared by commands.
_Opt = tuple[Any, ...]
# fmt: off
MODEL_OPTIONS: list[_Opt] = [
    ("preset", str | None, None, MODEL,
        f"Named network: {', '.join(PRESETS)}. "
        "Options you set to a non-default value override it."),
    ("hidden", str, _HIDDEN, MODEL,
        "Encoder widths, comma-separated; the decoder mirrors them. At the default, a "
        "table of numbers only (at most 100,000 rows) gets 256,128,16."),
    ("activation", str, _D["activation"], MODEL,
        "Hidden activation: relu, tanh, sigmoid, leaky_relu, elu, gelu, identity."),
    ("output_activation", str, _D["output_activation"], MODEL,
        "Output activation: identity, sigmoid, tanh, relu."),
    ("dropout", float, _D["dropout"], MODEL,
        "Dropout after hidden layers, in [0, 1)."),
    ("epochs", str, str(_D["epochs"]), MODEL,
        "Maximum passes over the data, or auto: about 600 steps, 10 to 200 epochs."),
    ("members", str, str(_D["members"]), MODEL,
        "Networks trained apart and averaged (their errors), 1 to 10, or auto: 3 for a "
        "table of numbers of at most 100,000 rows, else 1."),
    ("batch_size", str, _BATCH, MODEL,
        "Rows per optimisation step, or auto: min(256, max(32, rows // 8))."),
    ("lr", float, _D["lr"], MODEL,
        "Learning rate."),
    ("optimizer", str, _D["optimizer"], MODEL,
        "adam, sgd or adagrad."),
    ("loss", str, _D["loss"], MODEL,
        "mse, or bce (needs --output-activation sigmoid --scaling minmax)."),
    ("weight_decay", float, _D["weight_decay"], MODEL,
        "L2 penalty on the weights."),
    ("validation_fraction", float, _D["validation_fraction"], MODEL,
        "Share of rows held out for early stopping; 0 turns it off."),
    ("patience", int, _D["patience"], MODEL,
        "Epochs without improvement before stopping."),
    ("trim", float, _D["trim"], MODEL,
        "Robust training: leave the worst-rebuilt share of each batch out of the loss "
        "(0 trains on every row)."),
    ("refit", int, _D["refit"], MODEL,
        "Robust refitting: train the network this many more times on the rows the previous "
        "pass calls normal (within the iqr:1.5 fence, or all but the worst --contamination "
        "share)."),
    ("contamination", float | None, _D["contamination"], MODEL,
        "Expected share of anomalies in (0, 0.5]: threshold at the 1 - share quantile. "
        "Default: the iqr:1.5 rule, no guess needed."),
    ("anomaly_ratio", float | None, None, MODEL,
        "Known share of anomalies: threshold at the 1 - RATIO quantile (0.0002 = the 0.9998 "
        "quantile). Instead of --contamination."),
    ("threshold", str | None, None, MODEL,
        "Threshold rule instead of --contamination (with --refit both may be given): "
        "quantile:0.99, ratio:0.0002, fixed:0.05, fpr:0.01 (on held-out rows), mad:3, "
        "iqr:1.5, gpd:0.001, gamma:0.001, f1 (needs --label-column)."),
    ("scaling", str, _D["scaling"], DATA_OPTS,
        "Numeric scaling: standard (tables), pooled (same-unit columns, e.g. pixels), minmax or"
        " none."),
    ("category_weight", float, _D["category_weight"], DATA_OPTS,
        "Cost of a wholly wrong category, in squared standard deviations."),
    ("clip", str, _CLIP, DATA_OPTS,
        "Clip numbers the network sees to mean +- CLIP std ('none' to turn off)."),
    ("missing", str, _D["missing"], DATA_OPTS,
        "Missing values: error (reject) or impute (median / most frequent + indicator)."),
    ("categorical", str | None, None, DATA_OPTS,
        "Columns to treat as categorical, comma-separated (text columns are detected)."),
    ("sequence_column", str | None, None, DATA_OPTS,
        "Columns of fixed-length token sequences, comma-separated (one column per position)."),
    ("token_sep", str | None, None, DATA_OPTS,
        "Token separator in sequences (default: every character is a token)."),
    ("sequence_encoding", str, _D["sequence_encoding"], DATA_OPTS,
        "Sequence positions as onehot categories, or ordinal integer codes."),
    ("model", str, _D["model"], MODEL,
        "ae (autoencoder), vae (variational) or conv-vae (variational, on images); on a series "
        "also conv1d (1-D convolutional) or lstm (LSTM encoder-decoder)."),
    ("kl_weight", float, _D["kl_weight"], MODEL,
        "Weight of the VAE's KL term (per feature)."),
    ("kl_anneal", int, _D["kl_anneal"], MODEL,
        "Raise the KL weight linearly over this many epochs (0: full weight at once)."),
    ("noise", float, _D["noise"], MODEL,
        "Std of Gaussian noise on scaled inputs during training (denoising); 0 = off."),
    ("score", str, _D["scoring"], SCORING,
        "Anomaly score: reconstruction, latent-kmeans, latent-knn, layerwise, ensemble, or "
        "reconstruction-"
        "probability (VAE). The threshold is set on it."),
    ("reduction", str, _D["reduction"], SCORING,
        "Reconstruction error per row: mean or sum of weighted squared errors."),
    ("n_clusters", int, _D["n_clusters"], SCORING,
        "k of the k-means of latent-kmeans and layerwise."),
    ("distance", str, _D["distance"], SCORING,
        "Distance to the nearest centroid: euclidean or mahalanobis."),
    ("layer_combine", str, _D["layer_combine"], SCORING,
        "layerwise: min or mean of the standardised per-layer distances."),
    ("ensemble", str, _ENSEMBLE, SCORING,
        "Scores the ensemble averages, comma-separated."),
    ("ensemble_method", str, _D["ensemble_method"], SCORING,
        "Ensemble scale: rank (among training scores), zscore, or logz (z-scores of logs, "
        "on the first score's scale)."),
    ("ensemble_weights", str | None, _WEIGHTS, SCORING,
        "One weight per ensemble score, comma-separated (default: equal)."),
    ("n_neighbors", int, _D["n_neighbors"], SCORING,
        "k of latent-knn (mean distance to the k nearest training codes)."),
    ("mc_samples", int, _D["mc_samples"], SCORING,
        "Latent samples of reconstruction-probability."),
    ("architecture", str, _D["architecture"], MODEL,
        "dense (--hidden) or conv (--conv-encoder, --conv-decoder; needs images)."),
    ("conv_encoder", str, _CONV_ENCODER, MODEL,
        "Conv encoder: channel counts and 'pool' (halves height and width), comma-separated."),
    ("conv_decoder", str | None, None, MODEL,
        "Conv decoder before the last convolution: channel counts and 'up' (doubles height and "
        "width). Default: the encoder's mirror."),
    ("kernel_size", int, _D["kernel_size"], MODEL,
        "Odd square kernel of every convolution."),
    ("pooling", str, _D["pooling"], MODEL,
        "What 'pool' does: max or avg."),
    ("upsampling", str, _D["upsampling"], MODEL,
        "What 'up' does: nearest or bilinear."),
    ("image_shape", str | None, None, DATA_OPTS,
        "channels,height,width of flat pixel columns, e.g. 1,28,28 (image data sets, folders "
        "and image .npy files give it themselves)."),
]
DATA_OPTIONS: list[_Opt] = [
    ("label_column", str | None, None, DATA_OPTS,
        "Column with known labels, kept out of the features."),
    ("id_column", str | None, None, DATA_OPTS,
        "Column passed through to the output, kept out of the features."),
    ("normal", str | None, None, DATA_OPTS,
        "Normal classes of DATA, e.g. 3 or 0,1: fit on 80% of them (a fixed split), test on the"
        " rest plus the abnormal items."),
    ("abnormal", str | None, None, DATA_OPTS,
        "Abnormal classes, e.g. 0,1,2, or rest (every class not --normal; the default)."),
    ("abnormal_data", str | None, None, DATA_OPTS,
        "A second DATA whose items are the anomalies, e.g. fashion-mnist or a folder."),
    ("image_size", str | None, None, DATA_OPTS,
        "Resize folder images to this, e.g. 28 or 32x24 (height x width). Default: the most "
        "common size (score and explain: the model's)."),
    # A series (score, explain and report reuse the model's unless given)
    ("time_column", str | None, None, SERIES,
        "Time column: DATA is a series; rows are sorted by it, gaps in it are reported."),
    ("value_column", str | None, None, SERIES,
        "Value columns of a series, comma-separated (several: multivariate windows). "
        "Default: every numeric column but the time column."),
]
#: Series model options: fit and run only (score, explain and report use the model's).
SERIES_OPTIONS: list[_Opt] = [
    ("window", int | None, None, SERIES,
        "Rows per window (a series). Default: from the data, the dominant period by "
        "autocorrelation, 8 to 256."),
    ("stride", int, 1, SERIES,
        "Rows between the starts of consecutive windows (a series)."),
]
# fmt: on


# ----------------------------------------------------- flags in messages
# The one place that maps parameter names to command-line flags. Library
# messages name parameters (`label_column 'x' is not a column`); the CLI
# speaks flags. A name is translated only where it stands for the parameter:
# before these words, or after the words in the second pattern.
_FLAG_BEFORE = r" must\b| needs\b| rest\b| from\b| and abnormal\b| '| -?\d|/| [^ ]*:COLUMN"
_FLAG_AFTER = r"needs |for |give |both normal and |pick normal/|use |name one: |or a "
_SPOKEN = (
    "categorical",
    "label_column",
    "id_column",
    "normal",
    "abnormal",
    "image_size",
    "image_shape",
    "images_dir",
    "rows",
    "labels",
    "stream",
    "chunk_rows",
    "dask",
    "time_column",
    "value_column",
    "window",
    "stride",
    "all_scores",
    "sequence_columns",
    "members",
    "scoring",
    "top_k",
)


# Parameters whose flag is not the parameter's name with dashes.
_FLAG_NAMES = {"sequence_columns": "sequence-column", "scoring": "score"}


def _flag(name: str) -> str:
    return "--" + _FLAG_NAMES.get(name, name.replace("_", "-"))


_FLAG_RE = re.compile(r"(?<![\w-])(" + "|".join(_SPOKEN) + r")(?![\w=-])")


def speak_flags(message: str) -> str:
    """``label_column 'x' is not a column`` -> ``--label-column 'x' is not a column``."""

    def swap(m: re.Match[str]) -> str:
        before, after = message[: m.start()], message[m.end() :]
        if re.match(_FLAG_BEFORE, after) or re.search(rf"(?:{_FLAG_AFTER})$", before):
            return _flag(m.group(1))
        return m.group(1)

    message = _FLAG_RE.sub(swap, message)
    # ``missing='impute'`` (a detector parameter set to a value) -> ``--missing impute``
    return _SETTING_RE.sub(
        lambda m: f"{_flag(m.group(1))} {m.group(2)}" if m.group(1) in _PARAMS else m.group(0),
        message,
    )


_SETTING_RE = re.compile(r"(?<![\w-])([a-z_]+)='([\w.:,-]+)'")
_PARAMS = frozenset(DETECTOR)


def _option(tp: Any, panel: str, text: str, *flags: str) -> Any:
    return Annotated[tp, typer.Option(*flags, help=text, rich_help_panel=panel)]


def with_options(*blocks: list[_Opt]) -> Callable[[Callable], Callable]:
    """Put the options of ``blocks`` where the command has ``**options``.

    Typer reads a command's options from its signature; this writes them into
    the signature once for every command that shares them, and the command
    receives them in ``options``.
    """

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn, eval_str=True)
        shared = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=_option(tp, *rest)
            )
            for block in blocks
            for name, tp, d, *rest in block
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


def seed_device(seed: int | None) -> list[_Opt]:
    """Return the seed and device options, with the command's own default seed."""
    return [
        ("seed", int | None, seed, MODEL, "Random seed: the same seed gives the same scores."),
        ("device", str, _D["device"], MODEL, "auto, cpu or cuda."),
    ]


def request_from_options(data: str, options: dict[str, Any]) -> DataRequest:
    """Take the data options out of ``options`` as a :class:`DataRequest`."""
    from aedetect.cli_stdin import data_name
    from aedetect.pipeline.data import DataRequest

    chosen = {opt[0]: options.pop(opt[0]) for opt in DATA_OPTIONS}
    return DataRequest(data, **chosen, name=data_name(data))


def detector_from_options(options: dict[str, Any], verbose: bool) -> AutoencoderDetector:
    """Build the detector from the model options: one translation for `fit` and `run`."""
    from aedetect.data.images import parse_image_shape
    from aedetect.detector import AutoencoderDetector

    params = dict(options)
    series = {k: params.pop(k) for k in ("window", "stride") if k in params}
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
    contamination = params["contamination"] != _D["contamination"]
    if params["threshold"] is not None and contamination and not params.get("refit"):
        raise ConfigError(
            "give --threshold or --contamination, not both (with --refit, --contamination "
            "also sets the share of rows left out, and both may be given)"
        )
    if ratio is not None:
        if contamination:
            raise ConfigError("give --contamination or --anomaly-ratio, not both")
        if not 0.0 < ratio <= 0.5:
            raise ConfigError(f"--anomaly-ratio must be in (0, 0.5], got {ratio}")
        params["contamination"] = ratio
    if params.get("architecture") is not None:  # deprecated: one line, in flags
        from aedetect.models.factory import resolve_kind

        kind = resolve_kind(params["model"], params.pop("architecture"), warn=False)
        logging.getLogger("aedetect").warning("--architecture is deprecated: use --model %s", kind)
        params["model"] = kind
    params["random_state"] = params.pop("seed")
    params["scoring"] = params.pop("score")
    params["ensemble"] = _names(params["ensemble"]) or ()
    params["ensemble_weights"] = _floats(params["ensemble_weights"], "--ensemble-weights")
    params["verbose"] = int(verbose)
    for name in ("batch_size", "epochs", "members"):
        if params[name] != "auto":
            try:
                params[name] = int(params[name])
            except ValueError:
                raise ConfigError(
                    f"{_flag(name)} must be an integer or auto, got {params[name]!r}"
                ) from None
    if preset is None:
        det = AutoencoderDetector(**params)
    else:  # A preset sets its parameters; an option given with a non-default value wins.
        changed = {k: v for k, v in params.items() if k not in _D or v != _D[k]}
        det = AutoencoderDetector.from_preset(preset, **changed)
    return _as_series(det, series)


def _as_series(det: AutoencoderDetector, series: dict[str, Any]) -> Any:
    """Return a :class:`SeriesDetector` when a window, stride or window model is asked for."""
    window, stride = series.get("window"), series.get("stride", 1)
    if window is None and stride == 1 and det.model not in ("conv1d", "lstm"):
        return det  # a table detector (the use case wraps it when DATA is a series)
    from aedetect.series_detector import SeriesDetector

    return SeriesDetector(det, window=window, stride=stride)


_POSITIONAL = {"run": ("data",), "report": ("model", "data")}


def reproduce(fn: Callable[..., Any], command: str, values: dict[str, Any]) -> str:
    """Build the command line that repeats a run: every option that differs from its default."""
    import shlex

    from aedetect.cli_stdin import STDIN, data_name

    signature = inspect.signature(inspect.unwrap(fn))
    words = ["aedetect", command]
    for name, param in signature.parameters.items():
        value = values.get(name, param.default)
        if name in ("quiet", "verbose", "top") or value is None:
            continue
        if name in _POSITIONAL[command]:
            words.append(STDIN if data_name(str(value)) else str(value))
        elif value != param.default:
            words += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(words)
