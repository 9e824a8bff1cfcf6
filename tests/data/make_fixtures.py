"""Write the old-release model files and their expected scores (run once, from the repo root).

These files were written by aedetect 0.1.0 *before* the issue-12 refactor; the
test in tests/test_persistence.py checks that today's code loads them and gives
the same numbers. Do not regenerate them with newer code: that defeats the test.

    python tests/data/make_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from aedetect import AutoencoderDetector, save

HERE = Path(__file__).parent


def inputs() -> dict[str, object]:
    """The fixed inputs every fixture is fitted and scored on."""
    digits = load_digits().data[:120].astype(np.float64)
    rng = np.random.default_rng(0)
    pattern = ("ABCDEF",) * 4 + ("120",) + ("QWOPZXML",) * 3
    rows = ["".join(rng.choice(list(c)) for c in pattern) for _ in range(120)]
    rows += ["XYDC2DCA", "TXSX1ABC", "RNIU4XRE"]
    return {
        "digits": digits,
        "images": digits.reshape(-1, 8, 8),
        "sequences": pd.DataFrame({"sequence": rows}),
    }


def detectors() -> dict[str, tuple[AutoencoderDetector, str]]:
    """Name -> (unfitted detector, input name)."""
    return {
        "dense_ae": (
            AutoencoderDetector(hidden=(16, 4), epochs=3, random_state=0, device="cpu"),
            "digits",
        ),
        "vae_layerwise": (
            AutoencoderDetector(
                hidden=(16, 4),
                model="vae",
                scoring="layerwise",
                kl_anneal=2,
                epochs=3,
                n_clusters=3,
                random_state=0,
                device="cpu",
            ),
            "digits",
        ),
        "conv": (
            AutoencoderDetector(
                architecture="conv",
                conv_encoder=("pool", 2),
                epochs=2,
                scaling="unit",
                random_state=0,
                device="cpu",
                n_clusters=3,
            ),
            "images",
        ),
        "conv_vae": (
            AutoencoderDetector(
                model="conv-vae",
                hidden=(2, 3),
                epochs=2,
                scaling="unit",
                scoring="reconstruction-probability",
                mc_samples=4,
                random_state=0,
                device="cpu",
                n_clusters=3,
            ),
            "images",
        ),
        "sequences": (
            AutoencoderDetector.from_preset(
                "sequence-ae",
                epochs=3,
                sequence_columns=("sequence",),
                random_state=0,
                device="cpu",
                n_clusters=3,
            ),
            "sequences",
        ),
    }


def main() -> None:
    data = inputs()
    for name, (det, which) in detectors().items():
        X = data[which]
        det.fit(X)
        save(det, HERE / f"{name}.aedetect")
        table = det.all_scores(X)
        np.savez_compressed(
            HERE / f"{name}_expected.npz",
            scores=det.decision_function(X),
            all_scores=table.to_numpy(),
            columns=np.array(table.columns, dtype=str),
            predict=det.predict(X).astype(np.int8),
        )


if __name__ == "__main__":
    main()
