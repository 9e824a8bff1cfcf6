"""The ``aedetect`` command line: thin commands over the library.

Library errors become one line on stderr and an exit code here, and only here
(:mod:`aedetect.cli_errors`): 2 for a usage or parameter error, 1 for a data or
model-file problem, 3 for an unexpected error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from aedetect import cli_serve, pipeline  # lazy: each use case imports its libraries on first use
from aedetect._version import __version__
from aedetect.cli_errors import OneLineGroup
from aedetect.cli_errors import guarded as _guarded
from aedetect.cli_logging import progress_bar, say, setup_logging
from aedetect.cli_options import (
    CHUNK_ROWS,
    DATA_HELP,
    DATA_OPTIONS,
    MODEL_OPTIONS,
    SERIES_OPTIONS,
    ChunkRows,
    DaskAddress,
    Quiet,
    Seed,
    StreamFit,
    Verbose,
    detector_from_options,
    reproduce,
    request_from_options,
    seed_device,
    with_options,
)
from aedetect.cli_stdin import reads_stdin
from aedetect.exceptions import ConfigError
from aedetect.outputs import exit_cleanly_on_sigterm, is_stdout

app = typer.Typer(
    cls=OneLineGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    help="Find anomalies with autoencoders: fit on mostly normal data, score new data.",
)


# ---------------------------------------------------------------- commands
@app.command()
@_guarded
@reads_stdin
@with_options(MODEL_OPTIONS, SERIES_OPTIONS, DATA_OPTIONS, seed_device(None))
def fit(
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Model file to write (-: stdout).")
    ],
    stream: StreamFit = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    **options: Any,
) -> None:
    """Fit a detector on DATA and save it to one model file.

    Example: `aedetect fit customers.csv --output model.aedetect --id-column customer --seed 0`
    """
    setup_logging(verbose, quiet)
    request = request_from_options(data, options)
    det = detector_from_options(options, verbose)
    with progress_bar(det.epochs, quiet) as on_epoch:
        result = pipeline.fit(
            det, request, output, on_epoch=on_epoch, progress=not quiet, stream=stream
        )
    say(result.message(), err=is_stdout(output), quiet=quiet)  # `-o -`: stdout holds the model


@app.command()
@_guarded
@reads_stdin
@with_options(DATA_OPTIONS)
def score(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="CSV or .parquet file to write (default or -: CSV on stdout)."
        ),
    ] = None,
    all_scores: Annotated[
        bool,
        typer.Option(
            "--all-scores",
            help="Also write every score the model can give as its own column "
            "(reconstruction, latent-kmeans, layerwise, ensemble, ...).",
        ),
    ] = False,
    chunk_rows: ChunkRows = CHUNK_ROWS,
    dask: DaskAddress = None,
    quiet: Quiet = False,
    **options: Any,
) -> None:
    """Score every row of DATA with a saved model.

    Writes one row per input row, in input order: the id column when known,
    `score` (the model's score; higher = more anomalous) and `is_anomaly` (0/1);
    with `--all-scores`, one more column per score. The id and label columns used
    at fit time are reused unless given here. CSV and Parquet input is read and
    scored `--chunk-rows` rows at a time, so memory does not grow with the file.
    With `--dask`, a Parquet file or folder is scored on Dask into a folder of Parquet files.

    Example: `aedetect score model.aedetect new.csv --output scores.csv`
    """
    from aedetect.cli_stream import score_command

    setup_logging(quiet=quiet)
    output = None if output == Path("-") else output
    request = request_from_options(data, options)
    score_command(model, request, output, all_scores, chunk_rows, dask, quiet)


def _rows(value: str | None) -> list[int] | None:
    """Parse row numbers like ``17,42`` (numbered from 1); a repeated row is explained once."""
    if value is None:
        return None
    try:
        rows = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        rows = []
    if not rows:
        raise ConfigError(f"--rows must be row numbers like 17,42, got {value!r}")
    return list(dict.fromkeys(rows))


@app.command()
@_guarded
@reads_stdin
@with_options(DATA_OPTIONS)
def explain(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    rows: Annotated[
        str | None,
        typer.Option(
            help="Rows to explain, numbered from 1 (the first data row), comma-separated. "
            "Default: the --top most anomalous flagged rows."
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, help="How many of the most anomalous flagged rows to explain.")
    ] = 10,
    reasons: Annotated[
        int, typer.Option(min=1, help="Columns (sequence positions, pixels) to give per row.")
    ] = 5,
    by: Annotated[
        str, typer.Option(help="Rank columns by 'cause' (score drop) or 'error' (per-column).")
    ] = "cause",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the explanation as CSV (-: stdout)."),
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
    quiet: Quiet = False,
    **options: Any,
) -> None:
    """Show which columns (or sequence positions) made rows anomalous.

    For each row: the columns whose value, set to what the model expects there,
    takes most of the score away (`--by error`: the largest reconstruction errors),
    the value seen, the value expected, and the share of the score.
    For images, `--images-dir` also draws a per-pixel error heat map beside each
    image and its reconstruction.

    Example: `aedetect explain model.aedetect data.csv --rows 17,42 --reasons 3`
    or `aedetect explain model.aedetect digits --rows 17,42 --images-dir maps --image-shape 1,8,8`
    """
    from aedetect.data.images import parse_image_shape
    from aedetect.outputs import table_format
    from aedetect.pipeline.data import check_writable, write_csv

    setup_logging(quiet=quiet)
    if output is not None:
        check_writable(output)
        table_format(output, allowed=("csv",))
    shape = parse_image_shape(image_shape, "--image-shape")
    result = pipeline.explain(
        model, request_from_options(data, options), _rows(rows), reasons, images_dir, shape, by,
        top=top,
    )  # fmt: skip
    if output is not None:
        write_csv(result.frame, output)
    if images_dir is not None:
        say(f"heat maps written to {images_dir}/: {', '.join(result.heatmaps)}", True, quiet)
    # The explanation is the output, unless written with -o (`-o -`: stdout holds the CSV).
    say(result.text(), err=is_stdout(output), quiet=quiet and output is not None)


@app.command()
@_guarded
def info(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Describe a saved model: version, parameters, columns, training.

    Example: `aedetect info model.aedetect`
    """
    from aedetect.modelfile import read_metadata

    if as_json:
        typer.echo(json.dumps(read_metadata(model), indent=2, default=str))
        return
    say(pipeline.info(model).text())  # the output asked for: printed with -q too


@app.command()
@_guarded
@reads_stdin
@with_options(MODEL_OPTIONS, SERIES_OPTIONS, DATA_OPTIONS, seed_device(0))
def run(
    data: Annotated[str, typer.Argument(help=DATA_HELP)] = "digits",
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", help="Folder for the model, scores and flagged rows."),
    ] = Path("aedetect-output"),
    top: Annotated[
        int, typer.Option(min=1, help="How many of the most anomalous rows to print.")
    ] = 5,
    quiet: Quiet = False,
    verbose: Verbose = False,
    **options: Any,
) -> None:
    """Fit on DATA, score it, and write model, scores and flagged rows to a folder.

    Writes `model.aedetect`, `scores.csv` (one row per input row) and
    `anomalies.csv` (the flagged rows, most anomalous first), then prints a summary.

    Example: `aedetect run digits --output-dir out` or `aedetect run data.csv -o out --id-column id`
    """
    command = reproduce(run, "run", {"data": data, "output_dir": output_dir, **options})
    setup_logging(verbose, quiet)
    request = request_from_options(data, options)
    det = detector_from_options(options, verbose)
    with progress_bar(det.epochs, quiet) as on_epoch:
        result = pipeline.run(
            det,
            request,
            output_dir,
            command=command,
            top=top,
            on_epoch=on_epoch,
            progress=not quiet,
        )
    say(f"{result.summary()}\nreport     {result.report_path}", quiet=quiet)


@app.command()
@_guarded
@reads_stdin
@with_options(DATA_OPTIONS)
def report(
    model: Annotated[
        Path, typer.Argument(help="Model file written by `aedetect fit`.", show_default=False)
    ],
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write (-: stdout).")
    ] = Path("report.html"),
    quiet: Quiet = False,
    **options: Any,
) -> None:
    """Write one self-contained HTML report of a model on DATA.

    Data and model summary, training curve, score distribution with the
    threshold, the flagged rows with explanations, and metrics when a 0/1 label
    column is known. Images are inlined: the file opens offline, on a phone too.

    Example: `aedetect report model.aedetect data.csv --output report.html`
    """
    setup_logging(quiet=quiet)
    command = reproduce(
        report, "report", {"model": model, "data": data, "output": output, **options}
    )
    pipeline.report(model, request_from_options(data, options), output, command)
    say(f"report written to {output}", err=is_stdout(output), quiet=quiet)


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
            "--labels",
            "--label-column",
            help="Known 0/1 labels (1 = anomaly): a column of SCORES, or a file "
            "(FILE or FILE:COLUMN) with one label per row of SCORES, in the same order "
            "(columns both files have, such as ids, must match row by row).",
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
    quiet: Quiet = False,
) -> None:
    """Evaluate scores against known labels: AUROC, AP, F1 at a threshold, a sweep.

    Prints AUROC, average precision, PR-AUC, precision, recall and F1 at the
    threshold, precision at k, the confusion matrix and reference A's separation
    statistic. With `--output-dir`, also the threshold sweep (outliers rejected,
    inliers rejected, F1 per threshold) as CSV, and plots.

    Example: `aedetect evaluate out/scores.csv --labels is_anomaly --threshold mad:3 -o eval`
    """
    setup_logging(quiet=quiet)
    result = pipeline.evaluate(scores, labels, score_column, threshold, top_k, step, output_dir)
    quiet = quiet and output_dir is not None  # without -o the metrics are the output
    if as_json:
        say(result.json(), quiet=quiet)
        return
    say(result.text(), quiet=quiet)


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
    """Entry point of the ``aedetect`` console script; SIGTERM exits cleanly (code 143)."""
    with exit_cleanly_on_sigterm():
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
    top: Annotated[
        int | None, typer.Option(min=1, help="worst-digits: items to list (10).")
    ] = None,
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
    setup_logging(quiet=quiet)
    accepted = pipeline.experiment_parameters(name)
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
    kwargs: dict[str, Any] = {}
    for key, value in given.items():
        if value is None:
            continue
        if key not in accepted:
            raise ConfigError(f"--{key.replace('_', '-')} does not apply to {name}")
        kwargs[key] = value
    if "progress" in accepted:
        kwargs["progress"] = not quiet
    say(pipeline.experiment(name, output_dir, **kwargs).text(), quiet=quiet)


cli_serve.register(app, _guarded)  # serve, export
