"""The declarative parameter constraints and their messages."""

import ast
from pathlib import Path

import pytest

from aedetect import AutoencoderDetector, ConfigError
from aedetect.data.encoding import TabularEncoder
from aedetect.params import DETECTOR, Check, Interval, Options, validate


@pytest.mark.parametrize(
    ("constraint", "value", "message"),
    [
        (Interval("real", 0, 0.5, "right"), 0.7, r"x must be in (0, 0.5], got 0.7"),
        (Interval("real", 0.0, None, "neither"), -1.0, "x must be in (0.0, inf), got -1.0"),
        (Interval("int", 1, None, "left"), 0, "x must be an integer >= 1, got 0"),
        (Interval("int", 1, None, "left"), True, "x must be an integer >= 1, got True"),
        (Interval("int", 1, 3, "both"), 4, "x must be an integer in [1, 3], got 4"),
        (Options(("a", "b")), "c", "x must be one of a, b, got 'c'"),
        (Check(lambda v: v % 2 == 1, "odd"), 2, "x must be odd, got 2"),
    ],
)
def test_messages_name_parameter_rule_and_value(constraint, value, message):
    with pytest.raises(ConfigError) as info:
        validate({"x": value}, {"x": [constraint]})
    assert str(info.value) == message


def test_alternatives_and_none():
    rule = {"clip": [Interval("real", 0.0, None, "neither"), None]}
    validate({"clip": None}, rule)
    validate({"clip": 2.0}, rule)
    with pytest.raises(ConfigError, match=r"clip must be in \(0.0, inf\), got -1"):
        validate({"clip": -1}, rule)
    validate({"other": "anything"}, rule)  # parameters the table does not name are left alone


def test_object_name_prefixes_the_message():
    with pytest.raises(ConfigError, match="^TabularEncoder: scaling must be one of"):
        validate({"scaling": "log"}, {"scaling": [Options(("standard", "unit"))]}, "TabularEncoder")


def test_the_detector_table_names_every_parameter():
    assert set(AutoencoderDetector.parameter_constraints) == set(AutoencoderDetector().get_params())
    assert AutoencoderDetector.parameter_constraints is DETECTOR


def test_check_params_validates_without_fitting():
    AutoencoderDetector().check_params()
    with pytest.raises(ConfigError, match=r"contamination must be in \(0, 0.5\], got 0.7"):
        AutoencoderDetector(contamination=0.7).check_params()
    with pytest.raises(ConfigError, match="batch_size must be an integer >= 1 or 'auto'"):
        AutoencoderDetector(batch_size=0).check_params()


def test_encoder_and_estimator_share_one_message():
    with pytest.raises(ConfigError) as from_encoder:
        TabularEncoder(clip=-1.0).fit([[1.0], [2.0]])
    with pytest.raises(ConfigError) as from_detector:
        AutoencoderDetector(clip=-1.0).check_params()
    assert str(from_encoder.value) == str(from_detector.value)


# Modules of the estimator core; the CLI half checks its own (issue 12).
CORE = (
    "detector.py", "inference.py", "fitting.py", "params.py", "runtime.py", "state.py",
    "persistence.py", "training.py", "scoring.py", "thresholds.py", "exceptions.py",
    "data/encoding.py", "data/sequences.py", "models",
)  # fmt: skip


def _strings_in_raises(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    found.append(sub.value)
    return found


def test_library_messages_name_parameters_not_cli_flags():
    root = Path(__file__).parents[1] / "src" / "aedetect"
    files = [
        p
        for name in CORE
        for p in ([root / name] if name.endswith(".py") else sorted((root / name).glob("*.py")))
    ]
    offenders = [(f.name, s) for f in files for s in _strings_in_raises(f) if "--" in s]
    assert not offenders
