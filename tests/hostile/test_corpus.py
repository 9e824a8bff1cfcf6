"""The bad-input corpus: every command on hostile inputs ends in one line, never a traceback.

Each case runs one command in-process (Typer's runner, through the same
``OneLineGroup`` as the console script) from its own working folder, which
holds an ``out/`` folder with a previous output in it, and asserts:

- the exit code (1 data or model file, 2 usage or parameter);
- exactly one line on stderr, ``error: ...``, holding the expected words, and
  no traceback anywhere;
- ``out/`` unchanged (no new file, no changed file) and no file created
  anywhere else (the working folder and the shared inputs are unchanged).

The inputs are small (the largest is a 400 KB CSV header), so the whole
corpus runs in well under a minute.
"""

from __future__ import annotations

import functools
import hashlib
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from aedetect.cli import app
from hostile.inputs import BAD_DATA, BAD_MODELS, DATA_WORDS, good_frame

runner = CliRunner()
FAST = ["--epochs", "1", "--seed", "0", "-q", "--hidden", "4,2"]
PREVIOUS = b"previous output, must survive\n"
# Each input here is under 10 MB: it must be done with (or refused) within these.
LIMIT_S, LIMIT_BYTES = 10.0, 2**30
_PEAK_BEFORE = [0]


@dataclass(frozen=True)
class Case:
    """One command line (with ``{placeholders}``), its exit code and the words it must say."""

    args: tuple[str, ...]
    code: int
    words: tuple[str, ...]


def _case(args: list[str], code: int, words: list[str]) -> Case:
    return Case(tuple(args), code, tuple(words))


# --------------------------------------------------------------- the table
def _data_cases() -> dict[str, Case]:
    """Every bad DATA with every command that reads DATA."""
    cases = {}
    for name in BAD_DATA:
        words = DATA_WORDS[name]
        data = "{data:" + name + "}"
        commands = {
            "fit": ["fit", data, "-o", "out/model.aedetect", *FAST],
            "run": ["run", data, "-o", "out", *FAST],
            "score": ["score", "{model}", data, "-o", "out/scores.csv"],
            "explain": ["explain", "{model}", data, "-o", "out/explain.csv"],
            "report": ["report", "{model}", data, "-o", "out/report.html"],
        }
        for command, args in commands.items():
            cases[f"{command}-{name}"] = _case(args, 1, words)
    return cases


def _model_cases() -> dict[str, Case]:
    """Every bad model file with every command that reads one."""
    cases = {}
    for name, (_, words, info_refuses) in BAD_MODELS.items():
        model = "{model:" + name + "}"
        commands = {
            "score": ["score", model, "{good}", "-o", "out/scores.csv"],
            "explain": ["explain", model, "{good}", "-o", "out/explain.csv"],
            "report": ["report", model, "{good}", "-o", "out/report.html"],
        }
        if info_refuses:
            commands["info"] = ["info", model]
            commands["info-json"] = ["info", "--json", model]
        for command, args in commands.items():
            cases[f"{command}-{name}"] = _case(args, 1, words)
    return cases


# Bad parameters: (options, exit code, words); each tried with fit and run.
BAD_PARAMS: dict[str, tuple[list[str], int, list[str]]] = {
    "hidden-1e11": (["--hidden", "100000000000"], 2, ["hidden", "65536"]),
    "hidden-letters": (["--hidden", "a,b"], 2, ["Invalid value", "a,b", "--help"]),
    "hidden-zero": (["--hidden", "0"], 2, ["positive widths", "'0'"]),
    "hidden-100-layers": (["--hidden", ",".join(["2"] * 100)], 2, ["hidden", "64 layers"]),
    "lr-zero": (["--lr", "0"], 2, ["lr", "got 0"]),
    "lr-negative": (["--lr", "-1"], 2, ["lr"]),
    "lr-nan": (["--lr", "nan"], 2, ["lr"]),
    "lr-1000": (["--lr", "1000", "--epochs", "3", "--hidden", "64,32,8"], 2, ["diverged", "lr"]),
    "lr-text": (["--lr", "fast"], 2, ["--lr", "number"]),
    "epochs-zero": (["--epochs", "0"], 2, ["epochs"]),
    "epochs-text": (["--epochs", "many"], 2, ["epochs", "many"]),
    "batch-size-zero": (["--batch-size", "0"], 2, ["batch"]),
    "dropout-one": (["--dropout", "1"], 2, ["dropout"]),
    "dropout-negative": (["--dropout", "-0.1"], 2, ["dropout"]),
    "contamination-0.7": (["--contamination", "0.7"], 2, ["contamination", "0.7"]),
    "threshold-unknown-rule": (["--threshold", "nope:1"], 2, ["nope"]),
    "threshold-gamma-2": (["--threshold", "gamma:2"], 2, ["gamma"]),
    "threshold-mad-text": (["--threshold", "mad:abc"], 2, ["mad"]),
    "activation-unknown": (["--activation", "swish2"], 2, ["activation"]),
    "optimizer-unknown": (["--optimizer", "lbfgs2"], 2, ["optimizer"]),
    "loss-bce-identity": (["--loss", "bce"], 2, ["bce", "sigmoid"]),
    "scaling-unknown": (["--scaling", "log"], 2, ["scaling"]),
    "missing-unknown": (["--missing", "drop"], 2, ["missing"]),
    "clip-zero": (["--clip", "0"], 2, ["clip"]),
    "category-weight-zero": (["--category-weight", "0"], 2, ["category"]),
    "validation-fraction-1.5": (["--validation-fraction", "1.5"], 2, ["validation"]),
    "patience-zero": (["--patience", "0"], 2, ["patience"]),
    "trim-0.9": (["--trim", "0.9"], 2, ["trim"]),
    "weight-decay-negative": (["--weight-decay", "-1"], 2, ["weight"]),
    "device-tpu": (["--device", "tpu"], 2, ["device"]),
    "preset-unknown": (["--preset", "nope"], 2, ["nope"]),
    "model-unknown": (["--model", "gan"], 2, ["model"]),
    "model-conv-on-table": (["--model", "conv"], 1, ["images"]),
    "label-column-missing": (["--label-column", "nope"], 1, ["--label-column", "nope"]),
    "id-column-missing": (["--id-column", "nope"], 1, ["--id-column", "nope"]),
    "sequence-column-missing": (["--sequence-column", "nope"], 1, ["nope"]),
    "unknown-option": (["--bogus"], 2, ["No such option", "--bogus"]),
}


def _param_cases() -> dict[str, Case]:
    cases = {}
    for name, (options, code, words) in BAD_PARAMS.items():
        cases[f"fit-{name}"] = _case(
            ["fit", "{good}", "-o", "out/model.aedetect", *FAST, *options], code, words
        )
        cases[f"run-{name}"] = _case(["run", "{good}", "-o", "out", *FAST, *options], code, words)
    return cases


OTHER: dict[str, Case] = {
    "token-sep-empty": _case(
        [
            "fit",
            "{seq}",
            "--sequence-column",
            "s",
            "--token-sep",
            "",
            "-o",
            "out/m.aedetect",
            *FAST,
        ],
        2,
        ["token", "non-empty"],
    ),
    "no-command": _case(["nosuchcommand"], 2, ["No such command"]),
    "fit-no-data": _case(["fit"], 2, ["Missing argument"]),
    "fit-no-output": _case(["fit", "{good}"], 2, ["Missing option", "--output"]),
    "score-one-argument": _case(["score", "{model}"], 2, ["Missing argument"]),
    "info-no-argument": _case(["info"], 2, ["Missing argument"]),
    "explain-rows-text": _case(["explain", "{model}", "{good}", "--rows", "a"], 2, ["--rows"]),
    "explain-image-shape-bad": _case(
        ["explain", "{model}", "{good}", "--images-dir", "out/maps", "--image-shape", "x"],
        2,
        ["--image-shape"],
    ),
    "evaluate-gamma-constant": _case(
        ["evaluate", "{constant}", "--labels", "y", "--threshold", "gamma:0.01", "-o", "out"],
        2,
        ["gamma", "vary"],
    ),
    "evaluate-no-labels-option": _case(["evaluate", "{constant}"], 2, ["Missing option"]),
    "evaluate-labels-missing-column": _case(
        ["evaluate", "{constant}", "--labels", "nope", "-o", "out"], 1, ["nope"]
    ),
    "evaluate-scores-missing": _case(
        ["evaluate", "nope.csv", "--labels", "y", "-o", "out"], 1, ["nope.csv"]
    ),
    "evaluate-score-column-missing": _case(
        ["evaluate", "{constant}", "--labels", "y", "--score-column", "zz", "-o", "out"],
        1,
        ["zz"],
    ),
    "experiment-unknown": _case(["experiment", "nope", "-o", "out"], 2, ["nope"]),
    "experiment-train-samples-0": _case(
        ["experiment", "three-models", "--train-samples", "0", "-o", "out"],
        2,
        ["train", "samples"],
    ),
    "experiment-epochs-0": _case(
        ["experiment", "three-models", "--epochs", "0", "-o", "out"], 2, ["epochs"]
    ),
    "experiment-option-not-applicable": _case(
        ["experiment", "worst-digits", "--optimizer", "sgd", "-o", "out"], 2, ["optimizer"]
    ),
    "fit-output-folder": _case(["fit", "{good}", "-o", "out", *FAST], 1, ["out", "folder"]),
    "fit-output-fifo": _case(["fit", "{good}", "-o", "out/fifo", *FAST], 1, ["FIFO"]),
    "fit-output-missing-folder": _case(
        ["fit", "{good}", "-o", "out/nope/m.aedetect", *FAST], 1, ["does not exist"]
    ),
    "score-output-folder": _case(["score", "{model}", "{good}", "-o", "out"], 1, ["folder"]),
    "report-output-fifo": _case(["report", "{model}", "{good}", "-o", "out/fifo"], 1, ["FIFO"]),
    "explain-output-fifo": _case(["explain", "{model}", "{good}", "-o", "out/fifo"], 1, ["FIFO"]),
    "run-output-is-file": _case(
        ["run", "{good}", "-o", "out/previous.txt", *FAST], 1, ["not a folder"]
    ),
    "info-no-training-scores": _case(
        ["info", "{model:model-decision-scores-missing}"], 1, ["decision_scores"]
    ),
    "image-size-huge": _case(
        ["fit", "{good}", "--image-size", "100000x100000", "-o", "out/m.aedetect", *FAST],
        2,  # a parameter's value
        ["100000x100000", "pixels"],
    ),
    # A value within float32 that lies so far from the training values that its
    # squared error would be infinite: refused naming column and row, no `inf` score.
    **{
        f"{command}-value-too-far-to-score": _case(
            [command, "{model}", "{far}", "-o", f"out/{target}"],
            1,
            ["far.csv", "'b'", "row 4", "float32"],
        )
        for command, target in (
            ("score", "scores.csv"),
            ("explain", "explain.csv"),
            ("report", "report.html"),
        )
    },
    # --top below 1 (the rows or columns to show) is refused, not read as "none".
    **{
        f"{args[0]}-top-{top}": _case([*args, "--top", top], 2, ["--top", "greater than"])
        for args in (
            ["explain", "{model}", "{good}", "-o", "out/explain.csv"],
            ["run", "{good}", "-o", "out", *FAST],
            ["experiment", "worst-digits", "-o", "out"],
        )
        for top in ("0", "-3")
    },
    # `-` is standard input: here empty, refused naming stdin, no temporary file left.
    **{
        f"{args[0]}-stdin-empty": _case(args, 1, ["stdin", "empty"])
        for args in (
            ["fit", "-", "-o", "out/model.aedetect", *FAST],
            ["run", "-", "-o", "out", *FAST],
            ["score", "{model}", "-", "-o", "out/scores.csv"],
            ["explain", "{model}", "-", "-o", "out/explain.csv"],
            ["report", "{model}", "-", "-o", "out/report.html"],
        )
    },
    "score-columns-differ": _case(
        ["score", "{model}", "{seq}", "-o", "out/scores.csv"], 1, ["columns"]
    ),
}

CASES: dict[str, Case] = {**_data_cases(), **_model_cases(), **_param_cases(), **OTHER}


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def _command_built_once():
    """Build the Click command once: rebuilding it is most of a refused case's time."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(typer.testing, "_get_command", functools.lru_cache(typer.main.get_command))
        yield


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Every input of the corpus, made once; placeholder -> path."""
    _PEAK_BEFORE[0] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    from aedetect.cli import app as cli_app

    folder = tmp_path_factory.mktemp("hostile-inputs")
    good = folder / "good.csv"
    good_frame().to_csv(good, index=False)
    (folder / "seq.csv").write_text("s\n" + "ab\ncd\nef\n" * 10)
    (folder / "constant.csv").write_text("score,y\n" + "1.0,0\n" * 29 + "1.0,1\n")
    model = folder / "good.aedetect"
    res = runner.invoke(cli_app, ["fit", str(good), "-o", str(model), *FAST])
    assert res.exit_code == 0, res.output
    paths = {"good": str(good), "seq": str(folder / "seq.csv"), "model": str(model)}
    paths["constant"] = str(folder / "constant.csv")
    far = good_frame()
    far.loc[3, "b"] = 3e38
    far.to_csv(folder / "far.csv", index=False)
    paths["far"] = str(folder / "far.csv")
    made = folder / "made"
    made.mkdir()
    for name, maker in BAD_DATA.items():
        paths[f"data:{name}"] = maker(made)
    models = folder / "models"
    models.mkdir()
    for name, (maker, _, _) in BAD_MODELS.items():
        paths[f"model:{name}"] = maker(models, model)
    return folder, paths


def _snapshot(folder: Path, digests: bool = True) -> dict[str, str]:
    """Every entry under ``folder`` (not following links): kind, size, mtime, content digest."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            st = path.lstat()
            digest = ""
            if digests and path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            key = str(path.relative_to(folder))
            out[key] = f"{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}:{digest}"
    return out


def _fill(arg: str, paths: dict[str, str]) -> str:
    if arg.startswith("{") and arg.endswith("}"):
        return paths[arg[1:-1]]
    return arg


# --------------------------------------------------------------- the test
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_refused_in_one_line(name, inputs, tmp_path, monkeypatch):
    case = CASES[name]
    folder, paths = inputs
    work = tmp_path / "work"
    out = work / "out"
    out.mkdir(parents=True)
    (out / "previous.txt").write_bytes(PREVIOUS)
    for target in ("model.aedetect", "scores.csv", "explain.csv", "report.html"):
        (out / target).write_bytes(PREVIOUS)
    os.mkfifo(out / "fifo")
    monkeypatch.chdir(work)
    before, inputs_before = _snapshot(work), _snapshot(folder, digests=False)

    started = time.perf_counter()
    result = runner.invoke(app, [_fill(a, paths) for a in case.args])
    assert time.perf_counter() - started < LIMIT_S, "too slow for a small hostile input"

    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == case.code, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in case.words:
        assert word in lines[0], (word, lines[0])
    assert _snapshot(work) == before
    assert _snapshot(folder, digests=False) == inputs_before


def test_corpus_memory(inputs):
    """Every case ran in this process: its peak memory grew less than 1 GB over the corpus.

    (``ru_maxrss`` is the peak so far; an input that made aedetect allocate what a
    header claims, gigabytes, would show here.) Runs after the cases: named to sort last.
    """
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - _PEAK_BEFORE[0]
    assert grown < LIMIT_BYTES, f"peak memory grew {grown / 2**20:.0f} MB"


def test_corpus_size():
    """The corpus covers every command and reader: hundreds of cases, not a handful."""
    commands = {case.args[0] for case in CASES.values()}
    assert {
        "fit",
        "run",
        "score",
        "explain",
        "report",
        "info",
        "evaluate",
        "experiment",
    } <= commands
    assert len(CASES) >= 300
