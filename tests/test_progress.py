"""Progress on long work when stderr is not a terminal: a plain line every few seconds."""

from typer.testing import CliRunner

from aedetect.cli import app

runner = CliRunner()


def test_piped_fit_prints_epoch_lines(tmp_path, monkeypatch):
    import aedetect.cli_logging as cli_logging

    monkeypatch.setattr(cli_logging, "LOG_EVERY", 0.0)
    out = tmp_path / "m.aedetect"
    res = runner.invoke(app, ["fit", "mixed", "-o", str(out), "--epochs", "3", "--seed", "0"])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stderr.splitlines() if x.startswith("training: epoch")]
    assert lines[0].startswith("training: epoch 1/3, loss ") and len(lines) == 3


def test_piped_lines_wait_for_the_interval(tmp_path, monkeypatch):
    import aedetect.cli_logging as cli_logging

    monkeypatch.setattr(cli_logging, "LOG_EVERY", 3600.0)
    out = tmp_path / "m.aedetect"
    res = runner.invoke(app, ["fit", "mixed", "-o", str(out), "--epochs", "3", "--seed", "0"])
    assert res.exit_code == 0, res.output
    assert "training: epoch" not in res.stderr
