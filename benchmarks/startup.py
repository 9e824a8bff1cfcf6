"""Start-up time of the light commands (issue 19, part 1), as ratios from one run.

``python -m benchmarks --parts startup`` times, in fresh processes and in the
same run (best of ``--repeats`` after one warm-up each):

- ``python -c pass`` (the interpreter alone), ``python -c "import torch"`` and
  ``python -c "import typer, rich"`` (the floor of any Typer command),
- ``aedetect --version``, ``aedetect --help`` and ``aedetect info MODEL``
  (MODEL: a small model fitted on the built-in digits for this run),

prints the CPU model and the two ratios the issue asks for (``info`` faster
than ``import torch``; ``--help`` under 3x ``python -c pass``) and writes a
Markdown block into BENCHMARKS.md between ``<!-- benchmarks:startup start -->``
and ``<!-- benchmarks:startup end -->``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- benchmarks:startup start -->"
END = "<!-- benchmarks:startup end -->"
HELP_TARGET = 3.0  # --help under 3x `python -c pass`
TYPER = 'python -c "import typer, rich"'


def _aedetect() -> list[str]:
    script = Path(sys.executable).with_name("aedetect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aedetect"]


def best_of(command: list[str], repeats: int) -> float:
    """Best wall time (seconds) of ``repeats`` runs of ``command``, after one warm-up."""
    times = []
    for i in range(repeats + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - started)
    return min(times)


def measure(model: Path, repeats: int) -> dict[str, float]:
    """Time every command of the table; keys are the commands as shown."""
    py, ae = sys.executable, _aedetect()
    commands = {
        "python -c pass": [py, "-c", "pass"],
        'python -c "import torch"': [py, "-c", "import torch"],
        TYPER: [py, "-c", "import typer, rich"],
        "aedetect --version": [*ae, "--version"],
        "aedetect --help": [*ae, "--help"],
        "aedetect info MODEL": [*ae, "info", str(model)],
    }
    return {name: best_of(cmd, repeats) for name, cmd in commands.items()}


def fit_model(folder: Path) -> Path:
    """A small model on the built-in digits, to describe with ``info``."""
    path = folder / "model.aedetect"
    subprocess.run(
        [*_aedetect(), "fit", "digits", "-o", str(path), "--epochs", "2", "--seed", "0", "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


def ratios(times: dict[str, float]) -> dict[str, float]:
    """The issue's two ratios: info / import torch (< 1) and --help / python (< 3)."""
    return {
        "info / import torch": times["aedetect info MODEL"] / times['python -c "import torch"'],
        "help / python": times["aedetect --help"] / times["python -c pass"],
    }


def markdown_block(times: dict[str, float], meta: dict[str, Any]) -> str:
    """The BENCHMARKS.md section, between this part's markers."""
    base = times["python -c pass"]
    floor = times[TYPER] / base
    r = ratios(times)
    lines = [
        START,
        "## Start-up of the light commands (`python -m benchmarks --parts startup`)",
        "",
        f"Generated {meta['date']} on {meta['cpu']} ({meta['cores']} cores), Python "
        f"{meta['python']}; best of {meta['repeats']} fresh processes each, after one warm-up. "
        "MODEL is a dense model fitted on the built-in digits.",
        "",
        "| command | seconds | x `python -c pass` |",
        "|---|---:|---:|",
        *(f"| `{name}` | {t:.3f} | {t / base:.1f} |" for name, t in times.items()),
        "",
        f"- `aedetect info MODEL` / `import torch`: {r['info / import torch']:.2f} "
        f"(target < 1: {'met' if r['info / import torch'] < 1 else 'missed'})",
        f"- `aedetect --help` / `python -c pass`: {r['help / python']:.2f} "
        f"(target < {HELP_TARGET:g}: {'met' if r['help / python'] < HELP_TARGET else 'missed'}; "
        "importing Typer and Rich, which build the help, takes "
        f"{floor:.1f}x alone)",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from benchmarks.report import replace_block
    from benchmarks.train_speed import cpu_name, machine_info

    p = argparse.ArgumentParser(prog="python -m benchmarks --parts startup")
    p.add_argument("--parts", default="startup")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    p.add_argument("--no-markdown", action="store_true", help="print only")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        times = measure(fit_model(Path(tmp)), args.repeats)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpu": cpu_name(),
        "cores": machine_info()["cores"],
        "python": sys.version.split()[0],
        "repeats": args.repeats,
    }
    print(f"CPU: {meta['cpu']} ({meta['cores']} cores)")
    for name, t in times.items():
        print(f"{name:32s} {t:7.3f} s  {t / times['python -c pass']:5.1f}x python")
    for name, value in ratios(times).items():
        print(f"{name:32s} {value:7.2f}")
    if not args.no_markdown:
        replace_block(args.markdown, markdown_block(times, meta), (START, END))
        print(f"wrote {args.markdown}")
    return {"times": times, "ratios": ratios(times), **meta}
