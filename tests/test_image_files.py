"""IDX files and CIFAR batches named as DATA: the library's load_data and the CLI."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from aedetect.cli import app
from aedetect.data.datasets import load_data
from aedetect.exceptions import DataError

runner = CliRunner()


def idx_bytes(arr: np.ndarray) -> bytes:
    head = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(np.uint8).tobytes()


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return (d.images * 16).clip(0, 255).astype(np.uint8), d.target.astype(np.uint8)


def cifar_batch(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    return pickle.dumps({b"batch_label": b"x", b"data": data, b"labels": labels}, 2)


def test_idx_images_with_their_labels_beside(tmp_path, digits):
    images, labels = digits
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    (tmp_path / "t10k-images.idx3-ubyte").write_bytes(idx_bytes(images[:50]))
    table = load_data(str(tmp_path / "train-images-idx3-ubyte.gz"))
    assert table.image_shape == (1, 8, 8)
    np.testing.assert_array_equal(table.features.to_numpy().reshape(-1, 8, 8), images)
    assert table.labels is not None and table.labels.tolist() == labels.tolist()
    alone = load_data(str(tmp_path / "t10k-images.idx3-ubyte"))  # no labels file beside it
    assert alone.labels is None and len(alone.features) == 50
    one_class = load_data(str(tmp_path / "train-images-idx3-ubyte.gz"), normal="0")
    assert set(one_class.labels.tolist()) == {0, 1}


def test_idx_files_that_are_not_images_are_refused(tmp_path, digits):
    images, labels = digits
    (tmp_path / "labels.idx1").write_bytes(idx_bytes(labels))
    with pytest.raises(DataError, match=r"labels\.idx1: IDX file of labels only"):
        load_data(str(tmp_path / "labels.idx1"))
    (tmp_path / "x-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "x-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:10]))
    with pytest.raises(DataError, match=r"x-labels-idx1-ubyte: holds \(10,\) labels for the 1797"):
        load_data(str(tmp_path / "x-images-idx3-ubyte"))
    lying = idx_bytes(images[:2])[:4] + struct.pack(">III", 10**9, 28, 28) + b"\0" * 64
    (tmp_path / "lying.idx").write_bytes(lying)
    with pytest.raises(DataError, match=r"lying\.idx: IDX header says 1000000000x28x28"):
        load_data(str(tmp_path / "lying.idx"))


def test_cifar_batch_file_folder_and_archive(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(cifar_batch(6, 1))
    (folder / "test_batch").write_bytes(cifar_batch(4, 2))
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for f in sorted(folder.iterdir()):
            info = tarfile.TarInfo(f"cifar-10-batches-py/{f.name}")
            info.size = f.stat().st_size
            tar.addfile(info, io.BytesIO(f.read_bytes()))
    one = load_data(str(folder / "data_batch_1"))
    assert one.image_shape == (3, 32, 32) and len(one.features) == 6
    assert len(one.labels) == 6
    assert len(load_data(str(folder)).features) == 10
    whole = load_data(str(archive))
    assert len(whole.features) == 10
    gray = load_data(str(archive), image_size="16x16", color="gray")
    assert gray.image_shape == (1, 16, 16)


def test_a_pickle_named_like_a_batch_is_read_safely(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps({b"data": _Touch(str(marker)), b"labels": [1]})
    (tmp_path / "data_batch_1").write_bytes(blob)
    with pytest.raises(DataError, match="refused: the pickle asks for"):
        load_data(str(tmp_path / "data_batch_1"))
    assert not marker.exists()


class _Touch:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.target),))


def test_cli_fits_and_scores_idx_files(tmp_path, digits):
    images, labels = digits
    train, test = tmp_path / "train-images-idx3-ubyte", tmp_path / "t10k-images-idx3-ubyte.gz"
    train.write_bytes(idx_bytes(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    test.write_bytes(gzip.compress(idx_bytes(images[:40])))
    model, scores = tmp_path / "m.aedetect", tmp_path / "scores.csv"
    fit = runner.invoke(app, ["fit", str(train), "-o", str(model), "--epochs", "2", "-q"])
    assert fit.exit_code == 0, fit.output
    score = runner.invoke(app, ["score", str(model), str(test), "-o", str(scores), "-q"])
    assert score.exit_code == 0, score.output
    assert len(scores.read_text().splitlines()) == 41
    unknown = tmp_path / "notes.bin"
    unknown.write_bytes(b"just some bytes")
    bad = runner.invoke(app, ["score", str(model), str(unknown), "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code == 1
    assert "unsupported file type '.bin'" in bad.output and "an IDX file" in bad.output
    assert not (tmp_path / "x.csv").exists()
