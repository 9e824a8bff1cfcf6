"""Start-up: --version, --help and info import no torch; the torch-free reader agrees with torch."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load as st_load

from aedetect import AutoencoderDetector, ModelFileError, save
from aedetect.data.datasets import BUILTIN
from aedetect.modelfile import raw_tensors, read_file, read_metadata, verified_tensors
from aedetect.params import BUILTIN_DATA_SETS, DEFAULTS
from aedetect.persistence import _checksum

DATA = Path(__file__).parent / "data"
OLD_FILES = sorted(DATA.glob("*.aedetect"))
HEAVY = ("torch", "sklearn", "pandas", "matplotlib")

_PROBE = """
import sys
from aedetect.cli import main
sys.argv = ["aedetect", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
assert not heavy, heavy
"""


def test_cli_defaults_are_the_estimators():
    assert DEFAULTS == AutoencoderDetector().get_params()


def test_builtin_names_are_the_loaders():
    assert BUILTIN_DATA_SETS == tuple(BUILTIN)


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["fit", "--help"],
        ["run", "--help"],
        ["info", str(DATA / "dense_ae.aedetect")],
        ["info", "--json", str(DATA / "conv.aedetect")],
    ],
)
def test_light_commands_import_no_heavy_library(args):
    probe = _PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout


def test_import_aedetect_is_light_and_exports_lazily():
    probe = (
        "import sys, aedetect\n"
        f"assert not [m for m in {HEAVY!r} if m in sys.modules]\n"
        "from aedetect import AutoencoderDetector, NotFittedError, __version__, load, save\n"
        "from sklearn.exceptions import NotFittedError as S\n"
        "assert issubclass(NotFittedError, S) and 'torch' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _torch_digest(path: Path) -> str:
    data, meta = read_file(path)
    return _checksum(meta, st_load(data))


@pytest.mark.parametrize("path", OLD_FILES, ids=[p.name for p in OLD_FILES])
def test_torch_free_checksum_matches_old_release_files(path):
    data, meta = read_file(path)
    verified_tensors(path, data, meta)  # raises on a mismatch
    assert meta["checksum"] == _torch_digest(path)
    scores = read_metadata(path, tensor="decision_scores")["decision_scores"]
    expected = st_load(data)["decision_scores"].numpy()
    assert scores.dtype == expected.dtype and np.array_equal(scores, expected)
    assert scores.flags.writeable


def test_torch_free_checksum_matches_a_new_file(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    det = AutoencoderDetector(hidden=(3, 2), epochs=1, random_state=0).fit(X)
    path = tmp_path / "m.aedetect"
    save(det, path)
    data, meta = read_file(path)
    verified_tensors(path, data, meta)
    assert set(raw_tensors(path, data)) == set(st_load(data))
    got = read_metadata(path, tensor="decision_scores")["decision_scores"]
    assert np.array_equal(got, det.decision_scores_)


def test_torch_free_reader_refuses_damage(tmp_path):
    good = (DATA / "dense_ae.aedetect").read_bytes()
    tampered = bytearray(good)
    tampered[-5] ^= 0x01
    (tmp_path / "t.aedetect").write_bytes(bytes(tampered))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        read_metadata(tmp_path / "t.aedetect")
    n = int.from_bytes(good[:8], "little")
    (tmp_path / "cut.aedetect").write_bytes(good[: 8 + n + 16])
    with pytest.raises(ModelFileError, match="truncated"):
        read_metadata(tmp_path / "cut.aedetect")


def test_the_stored_help_is_what_typer_prints():
    import re
    from importlib.metadata import version

    from aedetect._help import DRAWN_BY, HELP, typer_help

    printed = typer_help()
    if all(version(name) == v for name, v in DRAWN_BY.items()):
        assert HELP == printed, "regenerate it: python -m aedetect._help"
    else:  # other versions draw other boxes: the same words, then
        words = re.compile(r"[\w.,:'()/-]+")
        assert words.findall(HELP) == words.findall(printed), "python -m aedetect._help"


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_answer_without_typer(flag):
    probe = (
        "import sys\n"
        "from aedetect._entry import main\n"
        f"sys.argv = ['aedetect', {flag!r}]\n"
        "main()\n"
        "assert 'typer' not in sys.modules and 'rich' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from aedetect import __version__
    from aedetect._help import HELP

    assert done.stdout == (f"aedetect {__version__}\n" if flag == "--version" else HELP)


def test_the_version_is_the_installed_distributions():
    from importlib.metadata import version

    from aedetect import __version__

    assert version("aedetect") == __version__
