"""The models a service scores with: loaded and checked once, at start.

Each model file is read with :func:`aedetect.persistence.load_model`, the same
checked load as ``aedetect score``: a truncated, modified or foreign file raises
:class:`~aedetect.exceptions.ModelFileError` naming the file, so a service with a
tampered model never starts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aedetect.exceptions import ConfigError
from aedetect.persistence import load_model

__all__ = ["ServedModel", "load_models", "model_name", "refuse_series"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Categories listed per column in a model's description; the rest are counted.
MAX_LISTED = 100


@dataclass
class ServedModel:
    """One loaded model: its name in the URL, its file, the detector and its columns.

    ``extra`` is what the model file keeps beside the detector (the id and label
    column names ``aedetect fit`` saw); those columns may be sent and are not
    scored (the id comes back with the scores).
    """

    name: str
    path: Path
    detector: Any
    extra: dict[str, Any] = field(default_factory=dict)
    aedetect_version: str = ""

    @property
    def columns(self) -> list[str]:
        """Input columns, in the order the model takes them."""
        return list(self.detector.encoder_.feature_names_in_)

    @property
    def id_column(self) -> str | None:
        """Column passed through with the scores, when the model was fitted with one."""
        return self.extra.get("id_column") or None

    @property
    def label_column(self) -> str | None:
        """Column a request may carry that is not scored (the known label)."""
        return self.extra.get("label_column") or None

    def column_facts(self) -> list[dict[str, Any]]:
        """Each input column: its name, type and what the model knows of its values."""
        enc = self.detector.encoder_
        by_name = {c.name: c for c in enc.columns_}
        facts = []
        for name in enc.feature_names_in_:
            seq = enc.sequences_.get(name)
            if seq is not None:
                facts.append(
                    {
                        "name": name,
                        "type": "sequence",
                        "length": int(seq["length"]),
                        "token_sep": enc.token_sep,
                        "tokens": list(seq["alphabet"])[:MAX_LISTED],
                    }
                )
                continue
            col = by_name[name]
            if col.kind == "numeric":
                facts.append({"name": name, "type": "number"})
            else:
                cats = list(col.categories)
                facts.append(
                    {
                        "name": name,
                        "type": "category",
                        "categories": cats[:MAX_LISTED],
                        "n_categories": len(cats),
                    }
                )
        return facts

    def summary(self) -> dict[str, Any]:
        """Return the short description ``GET /models`` lists."""
        det = self.detector
        return {
            "name": self.name,
            "file": self.path.name,
            "model": det.spec_.kind,
            "score": det.scoring,
            "n_columns": len(self.columns),
            "threshold": float(det.threshold_),
        }

    def description(self) -> dict[str, Any]:
        """Everything ``GET /models/{name}`` says: parameters, threshold rule, columns."""
        det = self.detector
        shape = det.image_shape_
        return {
            **self.summary(),
            "aedetect_version": self.aedetect_version,
            "threshold_rule": getattr(det, "threshold_rule_", "") or "",
            "missing": det.encoder_.missing,
            "id_column": self.id_column,
            "label_column": self.label_column,
            "image_shape": None if shape is None else list(shape),
            "columns": self.column_facts(),
            "params": _plain(det.get_params(deep=False)),
        }


def _plain(value: Any) -> Any:
    """Parameters as JSON-ready data (tuples as lists, unknown objects as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


def model_name(spec: str) -> tuple[str, Path]:
    """Split ``NAME=PATH`` (or a bare path, named after its file) into name and path."""
    name, sep, path = spec.partition("=")
    if not sep or os.path.exists(spec):
        path, name = spec, Path(spec).name.split(".")[0]
    if not _NAME.match(name):
        raise ConfigError(
            f"model name {name!r} must be letters, digits, '.', '_' or '-' (give it as NAME=PATH)"
        )
    return name, Path(path)


def load_models(specs: list[str | os.PathLike[str]]) -> dict[str, ServedModel]:
    """Load every model file (``PATH`` or ``NAME=PATH``); refuse duplicates and bad files.

    Raises
    ------
    ModelFileError
        A file is missing, truncated, modified or foreign (the message names it).
    ConfigError
        No model, a bad name, two models with one name, or a time-series model
        (its windows and state are scored by ``aedetect score``, not row by row).
    """
    if not specs:
        raise ConfigError("models must name at least one model file")
    served: dict[str, ServedModel] = {}
    for spec in specs:
        name, path = model_name(os.fspath(spec))
        if name in served:
            raise ConfigError(
                f"two models are named {name!r} ({served[name].path}, {path}): "
                "name one as NAME=PATH"
            )
        det, meta = load_model(path)
        extra = dict(meta.get("extra") or {})
        refuse_series(path, extra, "served")
        served[name] = ServedModel(name, path, det, extra, str(meta.get("aedetect_version", "")))
    return served


def refuse_series(path: str | os.PathLike[str], extra: dict[str, Any], what: str) -> None:
    """Refuse a time-series model file (its ``extra`` holds ``series``) for ``serve`` or ``export``.

    Its network reads windows of scaled values, not a table's rows: only
    ``aedetect score`` turns a series into windows and keeps the series' state.

    Raises
    ------
    ConfigError
        The file holds a time-series model; the message names the file.
    """
    if "series" in extra:
        raise ConfigError(
            f"{path}: a time-series model cannot be {what} (it scores windows of a series, "
            "not rows); score the series with `aedetect score MODEL DATA`"
        )
