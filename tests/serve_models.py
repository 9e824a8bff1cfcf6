"""Small fitted model files shared by the serve and export tests (a few epochs each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aedetect import AutoencoderDetector
from aedetect.data.datasets import make_mixed_table, make_sequences
from aedetect.persistence import save_detector
from aedetect.pipeline.model import fit_table, model_extra


def mixed_model(folder: Path, n_rows: int = 300) -> tuple[Path, pd.DataFrame]:
    """The customer table (numbers + categories, id and label columns); its rows as a frame."""
    table = make_mixed_table(n_rows=n_rows, n_anomalies=5, seed=0)
    det = AutoencoderDetector(hidden=(16, 4), epochs=5, random_state=0)
    fit_table(det, table)
    path = folder / "mixed.aedetect"
    save_detector(det, path, extra=model_extra(table))
    frame = table.features.copy()
    frame.insert(0, table.ids.name, table.ids.to_numpy())
    frame[table.labels.name] = table.labels.to_numpy()
    return path, frame


def sequence_model(folder: Path, encoding: str = "onehot") -> tuple[Path, pd.DataFrame]:
    """The reference token sequences (one 8-token column)."""
    table = make_sequences(size=400, anomalies=5, seed=0)
    det = AutoencoderDetector(hidden=(16, 4), epochs=5, random_state=0, sequence_encoding=encoding)
    fit_table(det, table)
    path = folder / f"seq-{encoding}.aedetect"
    save_detector(det, path, extra=model_extra(table))
    return path, table.features


def impute_model(folder: Path) -> tuple[Path, pd.DataFrame]:
    """Numbers and a category with missing values, fitted with missing='impute'."""
    rng = np.random.default_rng(0)
    n = 200
    a = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "a": np.where(rng.uniform(size=n) < 0.1, np.nan, a),
            "b": 2 * a + rng.normal(scale=0.1, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n).astype(object),
        }
    )
    frame.loc[rng.uniform(size=n) < 0.1, "colour"] = None
    det = AutoencoderDetector(hidden=(8, 3), epochs=5, random_state=0, missing="impute")
    det.fit(frame)
    path = folder / "impute.aedetect"
    save_detector(det, path)
    return path, frame


def conv_model(folder: Path) -> tuple[Path, np.ndarray]:
    """A small conv autoencoder on 8x8 digits (flat pixel rows)."""
    from sklearn.datasets import load_digits

    X = load_digits().data[:200].reshape(-1, 8, 8).astype(np.float32)
    det = AutoencoderDetector(
        model="conv", conv_encoder=(4, "pool", 2), epochs=2, random_state=0, scaling="unit"
    )
    det.fit(X)
    path = folder / "conv.aedetect"
    save_detector(det, path)
    return path, X


def tamper(path: Path, folder: Path) -> Path:
    """A copy of ``path`` with one byte of its tensors changed."""
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    bad = folder / f"tampered-{path.name}"
    bad.write_bytes(bytes(data))
    return bad


def series_model(folder: Path) -> Path:
    """A time-series model file: a network on windows of 10 values, ``series`` in its extra.

    Written as ``aedetect fit --time-column`` writes one (the window's positions
    ``x0`` ... ``x9`` as columns, the series' state in ``extra``), without the series
    pipeline: serve and export refuse such a file by its ``extra`` alone.
    """
    wave = np.sin(np.arange(200) / 5)
    windows = np.lib.stride_tricks.sliding_window_view(wave, 10)
    det = AutoencoderDetector(hidden=(4,), epochs=1, random_state=0).fit(windows)
    path = folder / "wave.aedetect"
    series = {"window": 10, "stride": 1, "time_column": "timestamp", "channels": ["value"]}
    save_detector(det, path, extra={"id_column": None, "label_column": None, "series": series})
    return path
