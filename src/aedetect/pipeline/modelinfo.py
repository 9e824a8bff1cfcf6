"""The info use case: describe a model file from its metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aedetect.describe import ModelFacts, series_lines
from aedetect.modelfile import read_metadata

__all__ = ["ModelInfo", "info"]


@dataclass
class ModelInfo:
    """A model file's metadata and its training scores."""

    path: Path
    meta: dict[str, Any]
    training_scores: np.ndarray

    def text(self) -> str:
        """Return what ``aedetect info`` prints."""
        meta = self.meta
        facts = ModelFacts.from_metadata(meta)
        cols = meta["state"]["encoder"]["columns"]
        cats = [c["name"] for c in cols if c["kind"] == "categorical"]
        described = dict(facts.info_lines())
        scores = self.training_scores
        lines = [
            f"model file      {self.path}",
            f"written by      aedetect {meta['aedetect_version']} "
            f"(format {meta['format_version']})",
            f"network         {described['network']}",
            f"columns         {len(cols)} ({len(cols) - len(cats)} numeric, {len(cats)} categorical"
            + (f": {', '.join(cats[:6])}" if cats else "")
            + ")",
            f"training        {described['training']}",
            f"model, score    {described['model, score']}",
            f"threshold       {described['threshold']}",
            f"training scores median {np.median(scores):.4g}, max {np.max(scores):.4g}, "
            f"{len(scores)} rows",
        ]
        extra = meta["extra"]
        if "series" in extra:  # the per-row threshold is the series'; the window model's is not
            lines = [ln for ln in lines if not ln.startswith(("threshold", "training scores"))]
            lines += [f"{k:<15} {v}" for k, v in series_lines(extra)]
        if extra.get("id_column") or extra.get("label_column"):
            lines.append(f"id / label      {extra.get('id_column')} / {extra.get('label_column')}")
        return "\n".join(lines)


def info(path: Path) -> ModelInfo:
    """Read a model file's metadata and training scores (one read, checksum verified).

    No detector is built and no network is run.
    """
    meta = read_metadata(path, tensor="decision_scores")
    return ModelInfo(Path(path), meta, np.asarray(meta["decision_scores"], dtype=np.float64))
