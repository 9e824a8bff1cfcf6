import json
import pickle
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from aedetect import ModelFileError, load, save
from aedetect.persistence import FORMAT_VERSION, read_metadata


@pytest.fixture
def model_path(fitted_small, tmp_path):
    path = tmp_path / "model.aedetect"
    save(fitted_small, path)
    return path


def test_round_trip_gives_identical_scores(fitted_small, small_frame, model_path):
    loaded = load(model_path)
    assert np.array_equal(
        loaded.decision_function(small_frame), fitted_small.decision_function(small_frame)
    )
    assert np.array_equal(loaded.decision_scores_, fitted_small.decision_scores_)
    assert loaded.threshold_ == fitted_small.threshold_
    assert loaded.get_params() == fitted_small.get_params()
    assert list(loaded.feature_names_in_) == list(fitted_small.feature_names_in_)
    assert loaded.history_.train_loss == fitted_small.history_.train_loss


def test_metadata_is_plain_json(model_path):
    meta = read_metadata(model_path)
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["params"]["hidden"] == [8, 3]
    assert [c["name"] for c in meta["state"]["encoder"]["columns"]] == ["a", "b", "c", "colour"]


def test_tampered_tensor_bytes_are_refused(model_path):
    data = bytearray(model_path.read_bytes())
    data[-5] ^= 0x01
    model_path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load(model_path)


def test_tampered_metadata_is_refused(model_path):
    data = model_path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    params = json.loads(header["__metadata__"]["params"])
    params["contamination"] = 0.5
    header["__metadata__"]["params"] = json.dumps(params)
    new_header = json.dumps(header).encode()
    new_header += b" " * (-len(new_header) % 8)
    model_path.write_bytes(struct.pack("<Q", len(new_header)) + new_header + data[8 + n :])
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load(model_path)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_resealed_threshold_that_is_not_finite_is_refused(model_path, tmp_path, value):
    from hostile.crafting import resealed

    def edit(parsed):
        parsed["state"]["threshold"] = value

    with pytest.raises(ModelFileError, match="threshold.*a finite number"):
        load(resealed(model_path, tmp_path / "bad.aedetect", edit))


def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path):
    import tracemalloc

    from aedetect.persistence import read_header

    path = tmp_path / "sparse.aedetect"
    with open(path, "wb") as f:
        f.truncate(1 << 30)  # 1 GiB of zeros, nothing on disk
    tracemalloc.start()
    for call in (load, read_metadata, read_header):
        with pytest.raises(ModelFileError, match="not an aedetect model file"):
            call(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20


def test_bytes_after_the_tensors_are_refused(model_path):
    model_path.write_bytes(model_path.read_bytes() + b"x")
    with pytest.raises(ModelFileError, match="damaged \\(bytes after its tensors\\)"):
        load(model_path)


def test_truncated_file_is_refused(model_path):
    data = model_path.read_bytes()
    model_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        load(model_path)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a model at all")
    with pytest.raises(ModelFileError, match="not an aedetect model file"):
        load(text)
    other = tmp_path / "other.safetensors"
    other.write_bytes(st_save({"w": torch.zeros(3)}))
    with pytest.raises(ModelFileError, match="no aedetect metadata"):
        load(other)
    with pytest.raises(ModelFileError, match="does not exist"):
        load(tmp_path / "missing.aedetect")


def test_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path = tmp_path / "evil.aedetect"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="not an aedetect model file"):
        load(path)


def test_newer_format_is_refused_with_upgrade_hint(fitted_small, tmp_path, monkeypatch):
    import aedetect.persistence as persistence

    monkeypatch.setattr(persistence, "FORMAT_VERSION", FORMAT_VERSION + 1)
    path = tmp_path / "future.aedetect"
    save(fitted_small, path)
    monkeypatch.setattr(persistence, "FORMAT_VERSION", FORMAT_VERSION)
    with pytest.raises(ModelFileError, match=f"format {FORMAT_VERSION + 1}.*upgrade aedetect"):
        load(path)


def test_save_is_atomic_when_writing_fails(fitted_small, tmp_path, monkeypatch):
    import aedetect.persistence as persistence

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(persistence, "st_save", lambda *a, **k: b"x" * 10)
    monkeypatch.setattr(persistence.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        save(fitted_small, tmp_path / "m.aedetect")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------ files written by the 0.1.0 release
OLD_MODELS = ("dense_ae", "vae_layerwise", "conv", "conv_vae", "sequences")


@pytest.fixture(scope="module")
def old_inputs():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent / "data" / "make_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.inputs(), {name: which for name, (_, which) in module.detectors().items()}


@pytest.mark.parametrize("name", OLD_MODELS)
def test_old_release_model_files_score_identically(name, old_inputs):
    from pathlib import Path

    data, which = old_inputs
    here = Path(__file__).parent / "data"
    expected = np.load(here / f"{name}_expected.npz")
    det = load(here / f"{name}.aedetect")
    X = data[which[name]]
    # The expected values were written on one CPU; another (AMD EPYC against Intel Xeon)
    # rounds float32 products a little differently: scores agree to float32 noise, and a
    # rank-based score (the ensemble) may move a row by a rank or two.
    scores = det.decision_function(X)
    np.testing.assert_allclose(scores, expected["scores"], rtol=2e-5, atol=1e-6)
    table = det.all_scores(X)
    assert list(table.columns) == list(expected["columns"])
    want = expected["all_scores"]
    # the ensemble averages ranks among the training scores: a step is 1 / (training rows)
    atol = np.where(np.asarray(expected["columns"]) == "ensemble", 0.01, 1e-5)
    assert np.all(np.abs(table.to_numpy() - want) <= atol + 1e-4 * np.abs(want))
    threshold = float(det.threshold_)
    clear = np.abs(expected["scores"] - threshold) > 2e-5 * abs(threshold) + 1e-7
    assert np.array_equal(det.predict(X)[clear], expected["predict"][clear])


def test_category_counts_are_saved_and_checked(model_path, tmp_path):
    from hostile.crafting import resealed

    colour = read_metadata(model_path)["state"]["encoder"]["columns"][3]
    assert len(colour["counts"]) == len(colour["categories"]) and sum(colour["counts"]) > 0

    def edit(parsed):
        parsed["state"]["encoder"]["columns"][3]["counts"] = [1]

    bad = resealed(model_path, tmp_path / "bad.aedetect", edit)
    with pytest.raises(ModelFileError, match=r"columns\[3\].counts must match its categories"):
        load(bad)
