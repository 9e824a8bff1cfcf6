"""The README's Spark and Ray Data snippets, run as written on a small table.

Used by ``test_spark.py`` and ``test_ray.py``: the snippet under a README
heading runs in a fresh process in a folder holding ``big.parquet`` and
``big.aedetect`` (the names the README's ``fit`` example writes), and its scores
must be those ``aedetect score`` writes for the same rows, bit for bit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect import AutoencoderDetector
from aedetect.data.datasets import make_mixed_table
from aedetect.persistence import save_detector

README = Path(__file__).resolve().parents[1] / "README.md"
ROWS = 2 * 8192  # whole scoring blocks: batches of 8192 rows score as `aedetect score` does


def snippet(heading: str) -> str:
    """Return the first ```python block after the README line ``heading``."""
    text = README.read_text()
    start = text.index(f"\n{heading}\n")
    match = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    assert match is not None, f"no python block under {heading!r}"
    return match.group(1)


def make_files(folder: Path) -> None:
    """Write ``big.parquet``, ``big.aedetect`` and ``aedetect score``'s ``big-scores.parquet``."""
    t = make_mixed_table(ROWS, 10, seed=0)
    frame = t.features.assign(customer=t.ids)
    frame.to_parquet(folder / "big.parquet", row_group_size=8192)
    det = AutoencoderDetector(hidden=(8, 3), epochs=2, random_state=0)
    det.fit(t.features.iloc[:1000])
    save_detector(det, folder / "big.aedetect", extra={"id_column": "customer"})
    cmd = [sys.executable, "-m", "aedetect", "score", "big.aedetect", "big.parquet"]
    subprocess.run([*cmd, "-q", "--output", "big-scores.parquet"], cwd=folder, check=True)


def run_snippet(code: str, folder: Path, timeout: float) -> None:
    """Run ``code`` as a script in ``folder``; fail with its output if it fails."""
    (folder / "snippet.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def assert_same_scores(folder: Path, output: str) -> None:
    """The snippet's scores (folder ``output``) equal ``aedetect score``'s, row by row."""
    want = pd.read_parquet(folder / "big-scores.parquet").sort_values("customer")
    got = pd.read_parquet(folder / output).sort_values("customer")
    assert len(got) == ROWS
    assert list(got.columns) == ["customer", "score", "is_anomaly"]
    np.testing.assert_array_equal(got["customer"].to_numpy(), want["customer"].to_numpy())
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())
    np.testing.assert_array_equal(got["is_anomaly"].to_numpy(), want["is_anomaly"].to_numpy())
    assert want["is_anomaly"].sum() > 0  # the flags compared are not all zero
