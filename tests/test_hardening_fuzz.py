"""Property tests: readers and the model-file parser only ever raise aedetect's own errors.

Arbitrary bytes, and arbitrary mutations (flipped, cut, inserted bytes) of a
valid CSV, .npy, IDX, PNG, CIFAR batch and model file, are either read or
refused with an :class:`~aedetect.exceptions.AedetectError`; arbitrary parameter
values are accepted or refused with a :class:`~aedetect.exceptions.ConfigError`.
Examples are few and small, so the whole module runs in seconds.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from aedetect.data.images import read_cifar_batch, read_idx, read_image_folder  # noqa: E402
from aedetect.data.readers import read_table  # noqa: E402
from aedetect.exceptions import AedetectError, ConfigError  # noqa: E402
from aedetect.modelfile import read_metadata  # noqa: E402
from aedetect.params import DEFAULTS, DETECTOR, validate  # noqa: E402

# AEDETECT_FUZZ_EXAMPLES=2000 (and AEDETECT_FUZZ_RANDOM=1) for a long local hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("AEDETECT_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize=not os.environ.get("AEDETECT_FUZZ_RANDOM"),  # CI: the same examples each run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """``original`` with a few bytes flipped, a slice cut out, or random bytes inserted."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:]
    return bytes(data)


def _valid_csv() -> bytes:
    return b"a,b,c\n1,2,x\n3.5,4,y\n5,,z\n7,8,x\n"


def _valid_npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(12, dtype=np.float32).reshape(4, 3))
    return buf.getvalue()


def _valid_idx() -> bytes:
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8)
    return gzip.compress(b"\0\0\x08\x03" + struct.pack(">3I", 2, 3, 3) + pixels.tobytes())


def _valid_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(buf, "PNG")
    return buf.getvalue()


def _valid_cifar() -> bytes:
    batch = {b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [1, 2]}
    return pickle.dumps(batch, protocol=2)


def _in_file(data: bytes, suffix: str, call):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            call(path)
        except AedetectError:
            pass


def _png_folder(data: bytes):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "a.png").write_bytes(data)
        try:
            read_image_folder(folder)
        except AedetectError:
            pass


# ------------------------------------------------------------------ readers
@FUZZ
@given(st.binary(max_size=512), st.sampled_from([".csv", ".tsv", ".npy", ".parquet"]))
def test_table_reader_on_any_bytes(data, suffix):
    _in_file(data, suffix, read_table)


@FUZZ
@given(mutated(_valid_csv()))
def test_table_reader_on_a_damaged_csv(data):
    _in_file(data, ".csv", read_table)


@FUZZ
@given(mutated(_valid_npy()))
def test_table_reader_on_a_damaged_npy(data):
    _in_file(data, ".npy", read_table)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=256), mutated(_valid_idx()), mutated(gzip.decompress(_valid_idx()))
    )
)
def test_idx_reader(data):
    try:
        read_idx("fuzz.idx", data)
    except AedetectError:
        pass


@FUZZ
@given(st.one_of(st.binary(max_size=256), mutated(_valid_png())))
def test_image_folder_reader(data):
    _png_folder(data)


@FUZZ
@given(st.one_of(st.binary(max_size=256), mutated(_valid_cifar())))
def test_cifar_batch_reader(data):
    try:
        read_cifar_batch(data, "fuzz")
    except AedetectError:
        pass


# ------------------------------------------------------------------ model files
@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    import pandas as pd

    from aedetect import AutoencoderDetector
    from aedetect.persistence import save_detector

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=list("abc"))
    det = AutoencoderDetector(hidden=(3, 2), epochs=1, random_state=0).fit(frame)
    path = tmp_path_factory.mktemp("fuzz") / "m.aedetect"
    save_detector(det, path)
    return path.read_bytes()


def _load_model(path: Path) -> None:
    from aedetect.persistence import load_model

    load_model(path)


def test_model_file_parser_on_damage(model_bytes):
    @FUZZ
    @given(st.one_of(st.binary(max_size=256), mutated(model_bytes)))
    def check(data):
        _in_file(data, ".aedetect", read_metadata)
        _in_file(data, ".aedetect", _load_model)

    check()


def test_model_file_header_mutations(model_bytes):
    """Mutations inside the JSON header (where the sizes are), length field kept consistent."""
    (length,) = struct.unpack("<Q", model_bytes[:8])
    header, body = model_bytes[8 : 8 + length], model_bytes[8 + length :]

    @FUZZ
    @given(mutated(header))
    def check(new_header):
        data = struct.pack("<Q", len(new_header)) + new_header + body
        _in_file(data, ".aedetect", read_metadata)
        _in_file(data, ".aedetect", _load_model)

    check()


# ------------------------------------------------------------------ parameters
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.lists(st.one_of(st.integers(-5, 2**40), st.text(max_size=4)), max_size=4),
    st.tuples(st.integers(-3, 2**20)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@FUZZ
@given(st.sampled_from(sorted(DETECTOR)), _ANY)
def test_any_parameter_value_is_accepted_or_a_config_error(name, value):
    from aedetect.fitting import check_params

    try:
        validate({name: value}, DETECTOR)
        check_params({**DEFAULTS, name: value})
    except ConfigError:
        pass


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    """Every key path into parsed JSON (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _paths(v, (*prefix, i))


def test_resealed_metadata_with_any_field_changed(model_bytes, tmp_path):
    """A checksum anyone can recompute: any field set to any JSON value is refused cleanly."""
    from aedetect.pipeline import info
    from hostile.crafting import resealed

    source = tmp_path / "source.aedetect"
    source.write_bytes(model_bytes)
    meta = read_metadata(source)
    paths = sorted(
        {p for part in ("params", "state", "extra") for p in _paths(meta[part], (part,))},
        key=str,
    )

    @FUZZ
    @given(st.sampled_from(paths), _JSON)
    def check(path, value):
        def edit(parsed):
            if len(path) == 1:
                parsed[path[0]] = value
                return
            node = parsed
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value

        target = resealed(source, tmp_path / "edited.aedetect", edit)
        for call in (read_metadata, lambda p: info(p).text(), _load_model):
            try:
                call(target)
            except AedetectError:
                pass

    check()
