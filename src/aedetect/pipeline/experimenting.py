"""The experiment use case: repeat a reference experiment and write its figures and tables."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aedetect.exceptions import ConfigError
from aedetect.outputs import write_bytes
from aedetect.params import AT_LEAST_ONE, validate
from aedetect.pipeline.data import check_folder, write_csv
from aedetect.staged import staged_folder

__all__ = ["ExperimentRun", "experiment", "experiment_parameters"]

_COUNTS = {
    name: [AT_LEAST_ONE, None]
    for name in ("epochs", "batch_size", "test_samples", "train_samples", "top")
}


@dataclass
class ExperimentRun:
    """An experiment's summary lines and the files written."""

    name: str
    summary: list[str]
    output_dir: Path
    written: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Return what ``aedetect experiment`` prints."""
        lines = [f"experiment {self.name}", *self.summary]
        lines.append(f"written    {self.output_dir}/{', '.join(self.written)}")
        return "\n".join(lines)


def experiment_parameters(name: str) -> tuple[str, ...]:
    """Return the parameters experiment ``name`` accepts; refuse an unknown name."""
    from aedetect.experiments import EXPERIMENTS

    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return tuple(inspect.signature(EXPERIMENTS[name]).parameters)


def experiment(name: str, output_dir: Path, **kwargs: Any) -> ExperimentRun:
    """Run experiment ``name`` with ``kwargs``; write its figures (PNG) and tables (CSV)."""
    from aedetect.experiments import EXPERIMENTS
    from aedetect.report.plots import figure_png

    experiment_parameters(name)
    validate(kwargs, _COUNTS)
    check_folder(output_dir)
    result = EXPERIMENTS[name](**kwargs)
    figures = {f"{k}.png": figure_png(fig) for k, fig in result.figures.items()}
    tables = {f"{k}.csv": frame for k, frame in result.tables.items()}
    with staged_folder(output_dir) as out:  # every output checked before one lands
        for file, png in figures.items():
            write_bytes(out / file, png)
        for file, frame in tables.items():
            write_csv(frame, out / file)
    return ExperimentRun(name, list(result.summary), output_dir, [*figures, *tables])
