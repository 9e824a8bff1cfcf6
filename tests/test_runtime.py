"""Scoped, thread-safe compute settings."""

import threading

import numpy as np
import pytest
import torch

from aedetect import AutoencoderDetector, ConfigError
from aedetect.runtime import compute, denormals_flushed, resolve_device, resolve_seed


def test_compute_restores_the_callers_settings():
    before_threads = torch.get_num_threads()
    torch.set_flush_denormal(False)
    with compute(1):
        assert torch.get_num_threads() == 1 and denormals_flushed()
        with compute():  # re-entrant: fit scores inside its own block
            assert denormals_flushed()
    assert torch.get_num_threads() == before_threads and not denormals_flushed()


def test_seed_and_device():
    assert resolve_seed(3) == 3 and resolve_seed(-1) == 2**32 - 1
    assert resolve_seed(np.random.RandomState(0)) == resolve_seed(np.random.RandomState(0))
    with pytest.raises(ConfigError, match="random_state must be an integer or None"):
        resolve_seed("x")
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device='cuda' but no CUDA device"):
            resolve_device("cuda")


def test_threads_scoring_at_once_match_one_at_a_time(small_frame):
    det = AutoencoderDetector(hidden=(8, 3), epochs=5, random_state=0).fit(small_frame)
    expected = det.all_scores(small_frame)
    results, errors = [None] * 6, []

    def work(i):
        try:
            results[i] = det.all_scores(small_frame)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got in results:
        for name in expected:
            assert np.array_equal(got[name].to_numpy(), expected[name].to_numpy()), name


# ------------------------------------------------------------------ layering
def _aedetect_imports(path):
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aedetect"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("aedetect")}
    return names


def _allowed(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize(
    ("files", "allowed"),
    [
        ("runtime.py", ("aedetect.exceptions",)),
        ("params.py", ("aedetect.exceptions",)),
        (
            "training.py",
            ("aedetect.exceptions", "aedetect.params", "aedetect.runtime", "aedetect.dense_step"),
        ),
        (
            "models/*.py",
            ("aedetect.exceptions", "aedetect.params", "aedetect.models", "aedetect._lazy"),
        ),
        (
            "data/[efs]*.py",  # encoding, frames, sequences, synthetic
            ("aedetect.exceptions", "aedetect.params", "aedetect.data"),
        ),
    ],
)
def test_lower_layers_import_nothing_above_them(files, allowed):
    from pathlib import Path

    root = Path(__file__).parents[1] / "src" / "aedetect"
    paths = sorted(root.glob(files))
    assert paths
    for path in paths:
        bad = [m for m in _aedetect_imports(path) if not _allowed(m, allowed)]
        assert not bad, (path.name, bad)


def test_nothing_in_the_library_imports_the_cli():
    from pathlib import Path

    root = Path(__file__).parents[1] / "src" / "aedetect"
    for path in root.rglob("*.py"):
        if path.name not in ("cli.py", "__main__.py", "_entry.py"):  # the CLI's entries
            assert "aedetect.cli" not in _aedetect_imports(path), path
