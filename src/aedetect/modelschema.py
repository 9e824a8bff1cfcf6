"""The layout of a model file's metadata, checked before anything uses it.

A checksum says a file is whole, not that its content is sane: anyone can
recompute it. So the parsed ``params``, ``state`` and ``extra`` are checked
here, field by field, before ``aedetect info`` prints them or a detector is
rebuilt from them; a field that is missing or of the wrong type raises
:class:`~aedetect.exceptions.ModelFileError` naming it. Fields this version
does not know are left alone (a newer writer may add some). No torch.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping
from typing import Any

from aedetect.exceptions import ConfigError, ModelFileError
from aedetect.params import DETECTOR, validate

__all__ = ["check_metadata"]

Rule = tuple[Callable[[Any], bool], str, bool]  # (predicate, what it wants, required)


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _finite(v: Any) -> bool:
    return _number(v) and math.isfinite(v)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _list_of(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(test(x) for x in v)


def _optional(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or test(v)


def _object(v: Any) -> bool:
    return isinstance(v, dict)


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _flag(v: Any) -> bool:
    return isinstance(v, bool)


_STATE: dict[str, Rule] = {
    "encoder": (_object, "an object", True),
    "threshold": (_finite, "a finite number", True),
    "threshold_rule": (_text, "text", False),
    "n_features_in": (_count, "a count", True),
    "feature_names_in": (_optional(_list_of(_text)), "a list of names or null", True),
    "history": (_object, "an object", True),
    "image_shape": (
        _optional(lambda v: _list_of(_count)(v) and len(v) == 3 and min(v) > 0),
        "3 positive integers or null",
        False,
    ),
    "model_spec": (_object, "an object", False),
}
_ENCODER: dict[str, Rule] = {
    "params": (_object, "an object", True),
    "inputs": (_list_of(_text), "a list of names", True),
    "sequences": (_optional(_object), "an object", False),
    "columns": (_list_of(_object), "a list of objects", True),
}
_COLUMN: dict[str, Rule] = {
    "name": (_text, "text", True),
    "kind": (lambda v: v in ("numeric", "categorical"), "numeric or categorical", True),
    "start": (_count, "a count", True),
    "stop": (_count, "a count", True),
    "offset": (_number, "a number", False),
    "scale": (_number, "a number", False),
    "categories": (_list_of(_text), "a list of text", False),
    "constant": (_flag, "true or false", False),
    "counts": (_list_of(_count), "a list of counts", False),
    "low": (_number, "a number", False),
    "high": (_number, "a number", False),
}
_HISTORY: dict[str, Rule] = {
    "train_loss": (_list_of(_number), "a list of numbers", True),
    "val_loss": (_list_of(_number), "a list of numbers", False),
    "best_epoch": (_count, "a count", False),
    "stopped_early": (_flag, "true or false", False),
    "seconds": (_number, "a number", False),
}


def _check(where: str, value: Any, rules: Mapping[str, Rule]) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object")
    for key, (test, wanted, required) in rules.items():
        if key not in value:
            if required:
                raise ValueError(f"{where}.{key} is missing")
            continue
        if not test(value[key]):
            raise ValueError(f"{where}.{key} must be {wanted}, got {_short(value[key])}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_metadata(path: str | os.PathLike[str], parsed: Mapping[str, Any]) -> None:
    """Check a model file's parsed metadata; :class:`ModelFileError` names the bad field."""
    try:
        if not isinstance(parsed.get("aedetect_version"), str | None):
            raise ValueError("aedetect_version must be text")
        _check("params", parsed.get("params"), {})
        try:
            validate(parsed["params"], DETECTOR)
        except ConfigError as exc:
            raise ValueError(f"params: {exc}") from None
        _check("extra", parsed.get("extra"), {})
        state = parsed.get("state")
        _check("state", state, _STATE)
        _check("state.encoder", state["encoder"], _ENCODER)
        for i, column in enumerate(state["encoder"]["columns"]):
            _check(f"state.encoder.columns[{i}]", column, _COLUMN)
            if column["stop"] < column["start"]:
                raise ValueError(f"state.encoder.columns[{i}] ends before it starts")
            if len(column.get("counts") or ()) not in (0, len(column.get("categories") or ())):
                raise ValueError(f"state.encoder.columns[{i}].counts must match its categories")
        _check("state.history", state["history"], _HISTORY)
    except ValueError as exc:
        raise ModelFileError(f"{path}: damaged model file ({exc})") from None
