"""Faults during a command: a signal at a random moment, a full disk.

Whatever the moment, a command ended by SIGTERM or SIGINT leaves no temporary
file, and every previous output is either intact or wholly replaced by a valid
new one; a full disk leaves the previous output intact and names the file.

Each signal run starts a fresh ``python -m aedetect`` (a few seconds): by default
one moment per command, ``AEDETECT_FAULT_MOMENTS=20`` for the full check.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aedetect import outputs
from aedetect.cli import app
from aedetect.modelfile import read_metadata

MOMENTS = int(os.environ.get("AEDETECT_FAULT_MOMENTS", "1"))
FAST = ["--epochs", "30", "--seed", "0", "-q", "--hidden", "8,4"]
runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    data = folder / "data.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(400, 5)), columns=list("abcde")).to_csv(data, index=False)
    model = folder / "previous.aedetect"
    res = runner.invoke(app, ["fit", str(data), "-o", str(model), "--epochs", "1", "-q"])
    assert res.exit_code == 0, res.output
    return folder, data, model


def _temps(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.tmp"))


def _valid(path: Path, old: bytes) -> bool:
    """``path`` holds its previous bytes, or a whole new output of its kind."""
    content = path.read_bytes()
    if content == old:
        return True
    if path.suffix == ".aedetect":
        read_metadata(path)  # raises on a partial or damaged file
        return True
    if path.suffix == ".csv":
        return len(pd.read_csv(path)) > 0
    return len(content) > 0


def _commands(work: Path, data: Path, model: Path) -> dict[str, list[str]]:
    return {
        "fit": ["fit", str(data), "-o", str(work / "model.aedetect"), *FAST],
        "score": ["score", str(model), str(data), "-o", str(work / "scores.csv")],
        "run": ["run", str(data), "-o", str(work / "run"), *FAST],
    }


def _previous(work: Path, model: Path) -> dict[Path, bytes]:
    """Put a previous output at every path the commands write; return their bytes."""
    (work / "run").mkdir(parents=True, exist_ok=True)
    olds = {
        work / "model.aedetect": model.read_bytes(),
        work / "scores.csv": b"score,is_anomaly\n1.0,0\n",
        work / "run" / "model.aedetect": model.read_bytes(),
        work / "run" / "scores.csv": b"score,is_anomaly\n1.0,0\n",
        work / "run" / "anomalies.csv": b"score,is_anomaly\n1.0,1\n",
        work / "run" / "report.html": b"<html>old</html>",
    }
    for path, content in olds.items():
        path.write_bytes(content)
    return olds


@pytest.mark.parametrize("command", ["fit", "score", "run"])
def test_a_signal_at_any_moment_leaves_no_temp_file_and_whole_outputs(setup, tmp_path, command):
    folder, data, model = setup
    rng = np.random.default_rng(sum(map(ord, command)))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for i in range(MOMENTS):
        work = tmp_path / f"moment{i}"
        olds = _previous(work, model)
        args = [sys.executable, "-m", "aedetect", *_commands(work, data, model)[command]]
        sig = signal.SIGTERM if i % 2 == 0 else signal.SIGINT
        proc = subprocess.Popen(
            args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            time.sleep(float(rng.uniform(0.5, 6.0)))  # start-up, reading, training, writing
            proc.send_signal(sig)
            _, stderr = proc.communicate(timeout=120)
        finally:
            proc.kill()
            proc.wait()
        assert proc.returncode in (0, 128 + sig, -sig, 130), (proc.returncode, stderr)
        assert _temps(work) == []
        for path, old in olds.items():
            assert _valid(path, old), path


@pytest.mark.parametrize("command", ["fit", "score", "run", "report", "explain"])
def test_a_full_disk_keeps_the_previous_output_and_names_it(setup, tmp_path, monkeypatch, command):
    folder, data, model = setup
    olds = _previous(tmp_path, model)
    targets = {
        "fit": ["fit", str(data), "-o", str(tmp_path / "model.aedetect"), "--epochs", "1", "-q"],
        "score": ["score", str(model), str(data), "-o", str(tmp_path / "scores.csv")],
        "run": ["run", str(data), "-o", str(tmp_path / "run"), "--epochs", "1", "-q"],
        "report": ["report", str(model), str(data), "-o", str(tmp_path / "run" / "report.html")],
        "explain": ["explain", str(model), str(data), "-o", str(tmp_path / "scores.csv")],
    }

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outputs.os, "fsync", full)
    res = runner.invoke(app, targets[command])
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], res.stderr
    assert str(tmp_path) in lines[0]
    assert _temps(tmp_path) == []
    for path, old in olds.items():
        assert path.read_bytes() == old, path
