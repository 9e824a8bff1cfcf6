"""The command line's last-resort handler and one-line messages (aedetect.cli_errors)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import typer
from typer.testing import CliRunner

from aedetect.cli import app
from aedetect.cli_errors import OneLineGroup, guarded, one_line
from aedetect.exceptions import DataError
from aedetect.modelfile import read_metadata

runner = CliRunner()


def _toy_app() -> typer.Typer:
    toy = typer.Typer(cls=OneLineGroup, add_completion=False)

    @toy.command()
    @guarded
    def boom(kind: str) -> None:
        if kind == "key":
            raise KeyError("missing")
        if kind == "data":
            raise DataError("data.csv: column 'a' row 3: bad\nsecond line")
        raise MemoryError

    @toy.command()
    def other() -> None:
        pass

    return toy


def test_an_unexpected_error_is_one_line_with_its_type_and_exit_code_3():
    res = runner.invoke(_toy_app(), ["boom", "key"])
    assert res.exit_code == 3
    assert res.stderr.strip().splitlines() == [
        "error: unexpected error: KeyError: 'missing' (run with AEDETECT_DEBUG=1 to see the "
        "traceback)"
    ]
    res = runner.invoke(_toy_app(), ["boom", "memory"])
    assert res.exit_code == 3 and "MemoryError" in res.stderr


def test_aedetect_debug_shows_the_traceback():
    res = runner.invoke(_toy_app(), ["boom", "key"], env={"AEDETECT_DEBUG": "1"})
    assert isinstance(res.exception, KeyError)


def test_a_library_message_is_flattened_to_one_line():
    res = runner.invoke(_toy_app(), ["boom", "data"])
    assert res.exit_code == 1
    assert res.stderr == "error: data.csv: column 'a' row 3: bad second line\n"


def test_usage_errors_are_one_line_with_exit_code_2():
    res = runner.invoke(_toy_app(), ["boom"])
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Missing argument" in res.stderr and "--help" in res.stderr
    res = runner.invoke(app, ["fit", "digits", "-o", "m.aedetect", "--hidden", "a,b"])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "a,b" in res.stderr and "╭" not in res.stderr


def test_control_characters_never_reach_the_terminal_raw(tmp_path):
    assert one_line("bad \x1b[31mred\x1b[0m\tname") == "bad \\x1b[31mred\\x1b[0m\tname"
    data = tmp_path / "data.csv"
    data.write_text("\x1b[2Jclear,b\n1,2\n3,4\n")
    res = runner.invoke(app, ["fit", str(data), "-o", str(tmp_path / "m"), "--id-column", "x"])
    assert res.exit_code == 1
    assert "\x1b" not in res.stderr and "\\x1b[2Jclear" in res.stderr


def test_help_and_version_still_exit_0():
    assert runner.invoke(app, ["--version"]).exit_code == 0
    res = runner.invoke(app, ["fit", "--help"])
    assert res.exit_code == 0 and "Usage" in res.stdout


def test_dash_writes_the_one_output_to_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(30, 3)), columns=list("abc")).to_csv(data, index=False)
    res = runner.invoke(app, ["fit", str(data), "-o", "-", "--epochs", "1"])
    assert res.exit_code == 0, res.output
    assert "model written to -" in res.stderr and "written" not in res.stdout
    quiet = runner.invoke(app, ["fit", str(data), "-o", "-", "--epochs", "1", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout_bytes[:8]
    model = tmp_path / "model.aedetect"
    model.write_bytes(res.stdout_bytes)
    assert read_metadata(model)["format_version"] == 1
    res = runner.invoke(app, ["report", str(model), str(data), "-o", "-"])
    assert res.exit_code == 0 and res.stdout.startswith("<!DOCTYPE html>")
    res = runner.invoke(app, ["explain", str(model), str(data), "--rows", "2", "-o", "-"])
    assert res.exit_code == 0
    header = "row,column,seen,expected,probability,unseen,frequency,share,drop,error,error_share"
    assert res.stdout.splitlines()[0] == header
    assert "row 2" in res.stderr  # the text explanation moves to stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "model.aedetect"]


def test_evaluate_names_a_missing_label_an_infinite_score_and_a_bad_step(tmp_path):
    cases = {
        "0.1,0\n0.2,1\n0.3,\n": "--labels must be 0/1 (1 = anomaly); row 3 has no value",
        "0.1,0\ninf,1\n0.3,0\n": "column 'score' row 2: 'inf' is not a finite number",
        "0.1,0\n,1\n0.3,0\n": "column 'score' row 2: has no value",
    }
    for k, (body, message) in enumerate(cases.items()):
        path = tmp_path / f"e{k}.csv"
        path.write_text("score,lab\n" + body)
        res = runner.invoke(app, ["evaluate", str(path), "--labels", "lab"])
        assert res.exit_code == 1 and message in res.stderr, res.stderr
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    (tmp_path / "ok.csv").write_text("score,lab\n0.1,0\n0.2,1\n")
    res = runner.invoke(
        app, ["evaluate", str(tmp_path / "ok.csv"), "--labels", "lab", "--step", "0"]
    )
    assert res.exit_code == 2 and "step must be > 0" in res.stderr


def test_a_label_or_id_column_named_for_images_is_refused(tmp_path):
    np.save(tmp_path / "images.npy", np.random.default_rng(0).random((5, 4, 3), dtype=np.float32))
    for option in ("--label-column", "--id-column"):
        out = tmp_path / "m.aedetect"
        args = [
            "fit",
            str(tmp_path / "images.npy"),
            "-o",
            str(out),
            option,
            "nope",
            "--epochs",
            "1",
        ]
        res = runner.invoke(app, args)
        assert (
            res.exit_code == 1 and f"{option} 'nope': a set of images has no columns" in res.stderr
        )
        assert not out.exists()


def test_threshold_and_contamination_together_need_refit(tmp_path):
    rows = np.random.default_rng(0).normal(size=(40, 2))
    pd.DataFrame(rows, columns=["a", "b"]).assign(lab=np.arange(40) % 3).to_csv(
        tmp_path / "t.csv", index=False
    )
    out = tmp_path / "m.aedetect"
    base = ["fit", str(tmp_path / "t.csv"), "-o", str(out), "--epochs", "1"]
    res = runner.invoke(app, [*base, "--threshold", "mad:3", "--contamination", "0.1"])
    assert res.exit_code == 2 and "give --threshold or --contamination, not both" in res.stderr
    res = runner.invoke(app, [*base, "--label-column", "lab", "--threshold", "f1"])
    assert res.exit_code == 2, res.stderr
    assert "threshold 'f1' needs 0/1 labels; label column 'lab' holds 0, 1, 2" in res.stderr
    assert not out.exists()
    args = [*base, "--threshold", "mad:3", "--contamination", "0.1", "--refit", "1"]
    assert runner.invoke(app, args).exit_code == 0 and out.exists()


def test_empty_widths_and_one_column_for_label_and_id_are_refused(tmp_path):
    pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) ** 2}).to_csv(
        tmp_path / "t.csv", index=False
    )
    base = ["fit", str(tmp_path / "t.csv"), "-o", str(tmp_path / "m.aedetect"), "--epochs", "1"]
    for widths in ("8,,4", "8,4,"):
        res = runner.invoke(app, [*base, "--hidden", widths])
        assert res.exit_code == 2 and f"got '{widths}'" in res.stderr
    res = runner.invoke(app, [*base, "--id-column", "a", "--label-column", "a"])
    assert res.exit_code == 1
    assert "--label-column 'a' is also --id-column 'a'; give two different columns" in res.stderr
    assert not (tmp_path / "m.aedetect").exists()


def test_a_structured_npy_is_a_table_of_its_fields(tmp_path):
    rows = np.zeros(40, dtype=[("x", "f4"), ("y", "f4")])
    rows["x"], rows["y"] = np.arange(40), np.arange(40) ** 2
    np.save(tmp_path / "s.npy", rows)
    out = tmp_path / "m.aedetect"
    res = runner.invoke(app, ["fit", str(tmp_path / "s.npy"), "-o", str(out), "--epochs", "1"])
    assert res.exit_code == 0, res.stderr
    assert read_metadata(out)["state"]["feature_names_in"] == ["x", "y"]


def test_quiet_and_verbose_together_are_refused(tmp_path):
    pd.DataFrame({"a": np.arange(40.0)}).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "m.aedetect"
    res = runner.invoke(app, ["fit", str(tmp_path / "t.csv"), "-o", str(out), "-q", "-v"])
    assert res.exit_code == 2
    assert "give -q (errors only) or -v (every epoch), not both" in res.stderr
    assert not out.exists()
