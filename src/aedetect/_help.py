"""``aedetect --help`` as Typer prints it when the output is not a terminal.

Written by ``python -m aedetect._help`` from the command line itself;
``tests/test_startup.py`` checks that it is still what Typer prints. Rich pads
every line to the 80 columns it draws in: the lines are kept without the padding.
"""

from __future__ import annotations

__all__ = ["DRAWN_BY", "HELP", "typer_help"]

WIDTH = 80
#: The versions of Typer, Rich and Click that drew the text (a test compares it with
#: Typer's output word for word when these are installed, by content otherwise).
DRAWN_BY = {"typer": "0.29.2", "rich": "15.0.0", "click": "8.5.1"}
_LINES = (
    "",
    " Usage: aedetect [OPTIONS] COMMAND [ARGS]...",
    "",
    " Find anomalies with autoencoders: fit on mostly normal data, score new data.",
    "",
    "╭─ Options ────────────────────────────────────────────────────────────────────╮",
    "│ --version        <bool>  Print the version and exit.                         │",
    "│ --help           <bool>  Show this message and exit.                         │",
    "╰──────────────────────────────────────────────────────────────────────────────╯",
    "╭─ Commands ───────────────────────────────────────────────────────────────────╮",
    "│ fit         Fit a detector on DATA and save it to one model file.            │",
    "│ score       Score every row of DATA with a saved model.                      │",
    "│ explain     Show which columns (or sequence positions) made rows anomalous.  │",
    "│ info        Describe a saved model: version, parameters, columns, training.  │",
    "│ run         Fit on DATA, score it, and write model, scores and flagged rows  │",
    "│             to a folder.                                                     │",
    "│ report      Write one self-contained HTML report of a model on DATA.         │",
    "│ evaluate    Evaluate scores against known labels: AUROC, AP, F1 at a         │",
    "│             threshold, a sweep.                                              │",
    "│ experiment  Repeat a reference experiment; write its figures (PNG) and       │",
    "│             numbers (CSV).                                                   │",
    "│ serve       Serve saved models over HTTP: POST rows (JSON or CSV), get       │",
    "│             scores and flags.                                                │",
    "│ export      Export a saved model to ONNX: scaling, one-hot, clipping,        │",
    "│             network and score in one graph.                                  │",
    "╰──────────────────────────────────────────────────────────────────────────────╯",
)
HELP = "".join(line.ljust(WIDTH) + "\n" for line in _LINES) + "\n"


def typer_help() -> str:
    """Return what Typer prints for ``aedetect --help`` into a pipe (80 columns)."""
    import os
    import subprocess
    import sys

    code = "import sys; from aedetect.cli import main; sys.argv = ['aedetect', '--help']; main()"
    drop = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TERM")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


def _write() -> None:
    """Rewrite ``_LINES`` in this file from Typer's help."""
    from importlib.metadata import version
    from pathlib import Path

    text = typer_help()
    lines = text.removesuffix("\n\n").split("\n")
    path = Path(__file__)
    source = path.read_text(encoding="utf-8")
    start, end = source.index("DRAWN_BY = "), source.index("\nHELP = ")
    body = "".join(f"    {line.rstrip()!r},\n" for line in lines)
    versions = {name: version(name) for name in DRAWN_BY}
    path.write_text(
        source[:start] + f"DRAWN_BY = {versions!r}\n_LINES = (\n{body})" + source[end:],
        encoding="utf-8",
    )


if __name__ == "__main__":
    _write()
