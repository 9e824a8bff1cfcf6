"""The layering of ARCHITECTURE.md, and library messages that speak parameters, not flags."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "aedetect"


FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _message_strings(node: ast.Raise) -> list[str]:
    """The literal text of the exception's arguments (f-string parts included)."""
    texts = []
    if isinstance(node.exc, ast.Call):
        for arg in node.exc.args:
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    texts.append(sub.value)
    return texts


def _flag_messages(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{_name(path)}:{node.lineno}: {text!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        for text in _message_strings(node)
        if FLAG.search(text)
    ]


def test_library_messages_name_parameters_not_cli_flags():
    library = [p for p in _modules() if not _name(p).startswith("cli")]
    found = [m for p in library for m in _flag_messages(p)]
    assert not found, "library messages mention CLI flags:\n" + "\n".join(found)


def _imports(path: Path) -> set[str]:
    """Every aedetect module ``path`` imports (at any depth: lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "aedetect":
                found |= {f"aedetect.{a.name}" for a in node.names}
            elif node.module.startswith("aedetect."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("aedetect")}
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "aedetect"


# What each lower layer may import from aedetect (ARCHITECTURE.md).
ALLOWED = {
    "outputs": {"exceptions"},
    "staged": {"outputs", "exceptions"},
    "models": {"models", "exceptions", "params", "_lazy"},
    "training": {"exceptions", "params", "runtime", "dense_step"},
    "dense_step": set(),
    "data": {"data", "exceptions", "params", "outputs"},
    "report": {"report", "data", "metrics", "exceptions", "aedetect"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_import_nothing_above_them(layer):
    files = list((SRC / layer).rglob("*.py")) if (SRC / layer).is_dir() else [SRC / f"{layer}.py"]
    bad = {
        f"{_name(p)} imports {m}"
        for p in files
        for m in _imports(p)
        if _layer(m) not in ALLOWED[layer]
    }
    assert not bad, "\n".join(sorted(bad))


def test_nothing_in_the_library_imports_the_cli():
    bad = [
        f"{_name(p)} imports {m}"
        for p in _modules()
        if not _name(p).startswith("cli") and _name(p) not in ("__main__.py", "_entry.py")
        for m in _imports(p)
        if _layer(m) in ("cli", "cli_options")
    ]
    assert not bad, "\n".join(bad)


def test_report_never_imports_the_detector_or_the_use_cases():
    bad = [
        f"{_name(p)} imports {m}"
        for p in (SRC / "report").rglob("*.py")
        for m in _imports(p)
        if _layer(m) in ("detector", "persistence", "pipeline", "scoring", "training")
    ]
    assert not bad, "\n".join(bad)


def test_report_never_calls_the_model():
    calls = {"transform", "reconstruct", "explain", "decision_function", "feature_errors"}
    bad = []
    for p in (SRC / "report").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in calls:
                bad.append(f"{_name(p)}:{node.lineno}: .{node.attr}")
    assert not bad, "\n".join(bad)


def test_modules_and_functions_stay_small():
    big = [
        f"{_name(p)}: {n} lines" for p in _modules() if (n := len(p.read_text().splitlines())) > 500
    ]
    long_fns = [
        f"{_name(p)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
        for p in _modules()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > 80
    ]
    assert not big and not long_fns, "\n".join(big + long_fns)
