"""What the command line says besides results (issue 14, group 6): quiet, once, escaped.

Also ``-`` as DATA: a CSV on standard input, read with a file's checks.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from aedetect import AutoencoderDetector
from aedetect.cli import app
from aedetect.cli_errors import OneLineGroup, guarded
from aedetect.cli_logging import setup_logging

runner = CliRunner()
FAST = ["--epochs", "2", "--seed", "0", "--hidden", "8,2"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 30-row table (small: fitting on it warns) and a model fitted on it."""
    folder = tmp_path_factory.mktemp("stderr")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 3)).round(4), columns=["a", "b", "c"])
    frame["y"] = [0] * 27 + [1] * 3
    data = folder / "data.csv"
    frame.to_csv(data, index=False)
    model = folder / "model.aedetect"
    res = runner.invoke(app, ["fit", str(data), "-o", str(model), "--label-column", "y", *FAST])
    assert res.exit_code == 0, res.output
    assert "only 30 rows to fit on" in res.stderr  # what -q must silence below
    return folder, data, model


def test_quiet_prints_nothing_but_errors_on_every_command(files, tmp_path, monkeypatch):
    _, data, model = files
    monkeypatch.chdir(tmp_path)
    d, m = str(data), str(model)
    commands = {
        "fit": ["fit", d, "-o", "m.aedetect", *FAST],
        "run": ["run", d, "-o", "out", "--label-column", "y", *FAST],
        "score": ["score", m, d, "-o", "scores.csv"],
        "explain": ["explain", m, d, "--rows", "1", "-o", "why.csv"],
        "report": ["report", m, d, "-o", "report.html"],
        "evaluate": ["evaluate", "scores.csv", "--labels", "y", "-o", "eval"],
    }
    for name, args in commands.items():
        res = runner.invoke(app, [*args, "-q"])
        assert res.exit_code == 0, (name, res.output)
        assert (res.stdout, res.stderr) == ("", ""), name
    # Where printing is the point (info, explain or evaluate without -o), -q prints just that.
    for args in (["info", m], ["explain", m, d, "--rows", "2"], ["evaluate", "scores.csv"]):
        args += ["--labels", "y"] if args[0] == "evaluate" else []
        loud, quiet = runner.invoke(app, args), runner.invoke(app, [*args, "-q"])
        assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout != ""
    res = runner.invoke(app, ["score", m, d, "-q"])  # the CSV on stdout, nothing else
    assert res.stderr == "" and res.stdout.splitlines()[0] == "score,is_anomaly,y"


def test_dash_reads_data_from_standard_input(files, tmp_path, monkeypatch):
    _, data, model = files
    monkeypatch.chdir(tmp_path)
    text = data.read_text()
    from_file = runner.invoke(app, ["score", str(model), str(data)])
    piped = runner.invoke(app, ["score", str(model), "-"], input=text)
    assert piped.exit_code == 0 and piped.stdout == from_file.stdout
    res = runner.invoke(app, ["fit", "-", "-o", "m.aedetect", *FAST, "-q"], input=text)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["explain", "m.aedetect", "-", "--rows", "2", "-q"], input=text)
    assert res.exit_code == 0 and res.stdout.startswith("row 2")
    blank = text.replace("\n", "\n\n", 1)  # a blank line after the header
    res = runner.invoke(app, ["score", str(model), "-", "-o", "s.csv"], input=blank)
    assert res.exit_code == 1
    assert res.stderr == (
        "error: stdin: line 2 is blank; every line after the header must be a row, "
        "so that output rows match input lines: delete it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.aedetect"]


def test_standard_input_goes_by_stdin_in_outputs(files, tmp_path, monkeypatch):
    _, data, _ = files
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["run", "-", "-o", "out", *FAST], input=data.read_text())
    assert res.exit_code == 0, res.output
    assert "data       stdin: 30 rows" in res.output
    for path in (tmp_path / "out").iterdir():  # no temporary path in any output
        assert b"aedetect-stdin" not in path.read_bytes(), path.name
    assert "<pre>aedetect run - --output-dir out" in (tmp_path / "out/report.html").read_text()
    assert b"stdin" in (tmp_path / "out/model.aedetect").read_bytes()


@pytest.mark.parametrize("top", ["0", "-3"])
def test_top_below_one_is_refused(files, top):
    _, data, model = files
    res = runner.invoke(app, ["explain", str(model), str(data), "--top", top])
    assert res.exit_code == 2 and len(res.stderr.splitlines()) == 1
    assert "--top" in res.stderr and "greater than or equal to 1" in res.stderr


def test_repeated_rows_are_explained_once(files):
    _, data, model = files
    res = runner.invoke(app, ["explain", str(model), str(data), "--rows", "3,1,3,3", "-o", "-"])
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(pd.io.common.StringIO(res.stdout))["row"]
    assert list(dict.fromkeys(rows)) == [3, 1] and rows.value_counts()[3] <= 5
    assert res.stderr.count("row 3 ") == 1


def test_a_warning_the_library_repeats_is_said_once(tmp_path):
    data, model = tmp_path / "seq.csv", tmp_path / "seq.aedetect"
    data.write_text("s\n" + "ab\ncd\nef\n" * 10)
    res = runner.invoke(app, ["fit", str(data), "--sequence-column", "s", "-o", str(model), "-q"])
    assert res.exit_code == 0, res.output
    odd = tmp_path / "odd.csv"
    odd.write_text("s\nab\nzzz\nq\nab\n")
    res = runner.invoke(app, ["explain", str(model), str(odd), "--rows", "2,3"])
    assert res.exit_code == 0, res.output
    assert [line for line in res.stderr.splitlines() if "WARNING" in line] == [
        "WARNING: sequence column 's': 2 row(s) not of length 2 (first: row 2, length 3); "
        "they are padded or cut and score as unusual"
    ]


def _one_command_cli(command):
    """A command line of one command, guarded and one-line as aedetect's own."""
    toy = typer.Typer(cls=OneLineGroup, add_completion=False)
    toy.command()(guarded(command))
    return toy


def test_python_warnings_become_one_clean_line_once():
    def noisy(quiet: bool = False) -> None:
        setup_logging(quiet=quiet)
        for _ in range(3):
            np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        warnings.warn("a library's UserWarning\nover two lines", stacklevel=1)

    toy = _one_command_cli(noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        res = runner.invoke(toy, [])
        assert res.exit_code == 0
        assert res.stderr.splitlines() == [
            "WARNING: RuntimeWarning: divide by zero encountered in log",
            "WARNING: UserWarning: a library's UserWarning over two lines",
        ]
        assert runner.invoke(toy, ["--quiet"]).stderr == ""


def test_other_libraries_info_records_are_dropped_even_when_they_raise_their_level():
    other = logging.getLogger("distributed.scheduler")

    def chatty(verbose: bool = False) -> None:
        setup_logging(verbose=verbose)
        other.info("State start")
        other.warning("a worker was lost")
        logging.getLogger("aedetect.test").info("epoch 1")

    toy = _one_command_cli(chatty)
    other.setLevel(logging.INFO)  # as distributed does when it is imported
    try:
        res = runner.invoke(toy, [])
        assert res.exit_code == 0 and res.stderr == "WARNING: a worker was lost\n"
        res = runner.invoke(toy, ["--verbose"])
        assert res.stderr == "WARNING: a worker was lost\nINFO: epoch 1\n"
    finally:
        other.setLevel(logging.NOTSET)


def test_escape_sequences_in_column_names_are_shown_escaped(tmp_path):
    data = tmp_path / "data.csv"
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(30, 2)), columns=["\x1b]0;pwned\x07a", "b\x1b[2J"])
    frame.to_csv(data, index=False)
    res = runner.invoke(app, ["run", str(data), "-o", str(tmp_path / "out"), *FAST])
    assert res.exit_code == 0, res.output
    model = str(tmp_path / "out" / "model.aedetect")
    outputs = [res.output]
    for args in (["info", model], ["explain", model, str(data), "--rows", "1"]):
        outputs.append(runner.invoke(app, args).output)
    for text in outputs:
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in outputs[2]


def test_images_fit_without_the_constant_columns_warning(caplog):
    rng = np.random.default_rng(0)
    images = np.zeros((40, 8, 8), dtype=np.float32)
    images[:, 2:6, 2:6] = rng.random((40, 4, 4))  # blank borders, as in MNIST
    with caplog.at_level(logging.WARNING, logger="aedetect"):
        AutoencoderDetector(epochs=1, random_state=0).fit(images)
        AutoencoderDetector(epochs=1, random_state=0).fit(images.reshape(40, -1))
    constant = [r.getMessage() for r in caplog.records if "constant" in r.getMessage()]
    assert len(constant) == 1 and "48 column(s)" in constant[0]  # the flat table only
