"""Image readers, the download path, class selection and conv models in the estimator."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import pickle
import struct
import tarfile
import threading
from functools import partial

import numpy as np
import pytest
import torch
from PIL import Image

from aedetect import AutoencoderDetector, load, save
from aedetect.data import remote
from aedetect.data.datasets import load_data
from aedetect.data.image_datasets import load_mnist, select_classes
from aedetect.data.images import (
    image_rows,
    read_cifar,
    read_cifar_batch,
    read_idx,
    read_image_folder,
    sample_photo_patches,
)
from aedetect.exceptions import ConfigError, DataError


def idx_bytes(arr: np.ndarray) -> bytes:
    head = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(np.uint8).tobytes()


# ------------------------------------------------------------------ IDX
@pytest.mark.parametrize("gzipped", [False, True])
def test_idx_round_trip(tmp_path, gzipped):
    arr = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    data = idx_bytes(arr)
    path = tmp_path / ("a.idx.gz" if gzipped else "a.idx")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    np.testing.assert_array_equal(read_idx(path), arr)


def test_idx_truncated_and_foreign(tmp_path):
    arr = np.zeros((3, 4, 5), np.uint8)
    bad = tmp_path / "t.idx"
    bad.write_bytes(idx_bytes(arr)[:-7])
    with pytest.raises(DataError, match=r"t\.idx: IDX header says 3x4x5 values \(60 bytes\)"):
        read_idx(bad)
    foreign = tmp_path / "f.idx"
    foreign.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(foreign)


# ---------------------------------------------------------------- CIFAR
def cifar_batch(n=4, seed=0) -> tuple[bytes, np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    return pickle.dumps({b"batch_label": b"x", b"data": data, b"labels": labels}, 2), data, labels


def test_cifar_batch_and_tar(tmp_path):
    raw, data, labels = cifar_batch()
    images, got = read_cifar_batch(raw)
    assert images.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(images.reshape(4, -1), data)
    assert got.tolist() == labels
    tar_path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        for name, (blob, _, _) in {
            "data_batch_1": cifar_batch(4, 1),
            "test_batch": cifar_batch(2, 2),
        }.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    images, labels = read_cifar(tar_path, ("test_batch",))
    assert images.shape == (2, 3, 32, 32)


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.target),))


def test_malicious_cifar_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps({b"data": _Evil(str(marker)), b"labels": [1]})
    with pytest.raises(DataError, match=r"evil: refused: the pickle asks for pathlib\..*touch"):
        read_cifar_batch(blob, "evil")
    assert not marker.exists()
    objects = pickle.dumps({b"data": np.array([object()] * 2, dtype=object), b"labels": [1, 2]})
    with pytest.raises(DataError, match="refused"):
        read_cifar_batch(objects, "objects")
    with pytest.raises(DataError, match="not a CIFAR python batch"):
        read_cifar_batch(b"\x80\x02garbage", "junk")


# --------------------------------------------------------- folders, npy
def test_image_folder_gray_and_rgb(tmp_path, caplog):
    gray = tmp_path / "gray"
    gray.mkdir()
    for i in range(3):
        Image.fromarray(np.full((10, 12), 40 * i, np.uint8)).save(gray / f"{i}.png")
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(gray / "big.jpg")
    (gray / "notes.txt").write_text("ignored")
    (gray / "more").mkdir()
    (gray / ".hidden").write_text("not said")
    with caplog.at_level("WARNING", logger="aedetect"):
        images = read_image_folder(gray)
    assert "gray: 2 entries skipped, not PNG/JPEG files (e.g. 'more', a folder)" in caplog.text
    assert images.shape == (4, 1, 10, 12)  # resized to the most common size
    assert images[2, 0, 0, 0] == 80
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(gray / "colour.png")
    assert read_image_folder(gray, size=(8, 8)).shape == (5, 3, 8, 8)
    (gray / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"broken\.png: not a readable image"):
        read_image_folder(gray)


def test_npy_images_and_image_rows(tmp_path):
    arr = np.random.default_rng(0).integers(0, 255, (6, 5, 4, 3)).astype(np.uint8)
    np.save(tmp_path / "x.npy", arr)
    table = load_data(str(tmp_path / "x.npy"))
    assert table.image_shape == (3, 5, 4)
    flat, shape = image_rows(arr)
    assert shape == (3, 5, 4)
    np.testing.assert_array_equal(table.features.to_numpy(), flat)
    # channel-first flattening: column k*20 + r*4 + c is channel k, row r, column c
    assert flat[1, 1 * 20 + 2 * 4 + 3] == arr[1, 2, 3, 1]


def test_photo_patches_are_deterministic():
    a, b = sample_photo_patches(20, 28, seed=3), sample_photo_patches(20, 28, seed=3)
    assert a.shape == (20, 1, 28, 28) and (a == b).all() and a.std() > 5


# ------------------------------------------------------------- download
@pytest.fixture
def idx_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    rng = np.random.default_rng(0)
    files = {}
    for prefix, n in (("train", 6), ("t10k", 3)):
        img = gzip.compress(idx_bytes(rng.integers(0, 256, (n, 28, 28))))
        lab = gzip.compress(idx_bytes(np.arange(n) % 10))
        for name, blob in (
            (f"{prefix}-images-idx3-ubyte.gz", img),
            (f"{prefix}-labels-idx1-ubyte.gz", lab),
        ):
            (root / name).write_bytes(blob)
            files[name] = hashlib.md5(blob).hexdigest()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", files, server
    server.shutdown()
    server.server_close()


def test_download_cache_and_offline(idx_server, tmp_path, monkeypatch):
    url, files, server = idx_server
    cache = tmp_path / "cache"
    monkeypatch.setenv("AEDETECT_DATA", str(cache))
    monkeypatch.setitem(remote.REMOTE, "mnist", remote.RemoteSet((url,), files, "http://x"))
    table = load_mnist("train")
    assert table.image_shape == (1, 28, 28) and len(table.features) == 6
    assert (cache / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    assert not list((cache / "mnist").glob("*tmp*"))  # no half-written files left
    server.shutdown()  # offline from here: the cache is enough
    server.server_close()  # refuse connections at once instead of letting them time out
    assert len(load_mnist("train").features) == 6
    with pytest.raises(
        DataError,
        match=r"t10k-images-idx3-ubyte\.gz is not in .*mnist and could not be downloaded"
        r".*put it in",
    ):
        load_mnist("test")


def test_download_checksum_mismatch(idx_server, tmp_path, monkeypatch):
    url, files, _ = idx_server
    monkeypatch.setenv("AEDETECT_DATA", str(tmp_path / "cache"))
    wrong = {k: "0" * 32 for k in files}
    monkeypatch.setitem(remote.REMOTE, "mnist", remote.RemoteSet((url,), wrong, "http://x"))
    with pytest.raises(DataError, match="could not be downloaded"):
        load_mnist("train")
    assert not (tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz").exists()


# ------------------------------------------------------------ selection
def test_select_classes_digits():
    table = load_data("digits", normal="3", abnormal="0,1")
    labels = table.labels.to_numpy()
    assert set(table.ids[labels == 0]) == {"3"} and set(table.ids[labels == 1]) == {"0", "1"}
    assert table.fit_rows.sum() == round(0.8 * (labels == 0).sum())
    assert not (table.fit_rows & (labels == 1)).any()
    rest = load_data("digits", normal="3")
    assert (rest.labels == 1).sum() == 1797 - 183
    with pytest.raises(DataError, match=r"normal 12 is not a class"):
        load_data("digits", normal="12")
    with pytest.raises(ConfigError, match="both normal and abnormal"):
        load_data("digits", normal="3", abnormal="3")


def test_abnormal_data_second_set():
    digits = load_data("digits")
    photos = load_data("photos:n=30,size=8")
    table = select_classes(digits, "3", None, photos)
    assert (table.labels == 1).sum() == 30 and set(table.ids[table.labels == 1]) == {
        "photos:n=30,size=8"
    }
    with pytest.raises(DataError, match="do not match"):
        select_classes(digits, "3", None, load_data("photos:n=5"))


# ---------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def conv_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    det = AutoencoderDetector(
        architecture="conv",
        conv_encoder=(8, "pool", 4),
        scaling="unit",
        epochs=3,
        random_state=0,
        validation_fraction=0.0,
    ).fit(d.images[:300])
    return det, d


def test_conv_detector_images_and_round_trip(conv_digits, tmp_path):
    det, d = conv_digits
    assert det.image_shape_ == (1, 8, 8)
    assert det.transform(d.images[:3]).shape == (3, 4 * 4 * 4)
    errs = det.feature_errors(d.images[:5])
    np.testing.assert_allclose(errs.mean(axis=1), det.decision_function(d.images[:5]), rtol=1e-5)
    save(det, tmp_path / "c.aedetect")
    again = load(tmp_path / "c.aedetect")
    assert again.image_shape_ == (1, 8, 8) and again.conv_encoder == (8, "pool", 4)
    assert (again.decision_function(d.images) == det.decision_function(d.images)).all()
    # the same pixels as flat columns with image_shape give the same network
    flat = AutoencoderDetector(**{**det.get_params(), "image_shape": (1, 8, 8)}).fit(d.data[:300])
    assert np.allclose(flat.decision_scores_, det.decision_scores_)


def test_conv_detector_errors(conv_digits):
    det, d = conv_digits
    with pytest.raises(DataError, match=r"images are 1x4x8 .* fitted on 1x8x8"):
        det.decision_function(d.images[:2, :4])
    with pytest.raises(DataError, match="architecture='conv' needs images"):
        AutoencoderDetector(architecture="conv").fit(d.data[:20])
    with pytest.raises(ConfigError, match="conv decoder turns 1x8x8 images into 1x4x4"):
        AutoencoderDetector(architecture="conv", conv_encoder=(4, "pool"), conv_decoder=(4,)).fit(
            d.images[:20]
        )
    with pytest.raises(ConfigError, match="conv_encoder entries must be"):
        AutoencoderDetector(architecture="conv", conv_encoder=(4, "max")).fit(d.images[:20])
    with pytest.raises(ConfigError, match="kernel_size must be odd"):
        AutoencoderDetector(architecture="conv", kernel_size=4).fit(d.images[:20])


def test_scaling_unit_and_symmetric():
    X = np.array([[0.0, 255.0], [51.0, 102.0]])
    for scaling, expect in (("unit", X / 255), ("symmetric", X / 127.5 - 1)):
        det = AutoencoderDetector(scaling=scaling, epochs=1, clip=None, random_state=0).fit(X)
        np.testing.assert_allclose(det.encoder_.transform(X), expect, rtol=1e-6)


def test_conv_module_layers():
    from aedetect.models import ConvAutoencoder

    m = ConvAutoencoder((1, 28, 28), (32, "pool", 16, "pool", 8, 8), (8, 8, "up", 8, "up"))
    x = torch.rand(2, 784)
    outs = m.encoder_layers(x)
    assert [o.shape[1] for o in outs] == [32 * 784, 32 * 196, 16 * 196, 16 * 49, 8 * 49, 8 * 49]
    assert torch.equal(outs[-1], m.encode(x))
    assert m(x).shape == (2, 784) and m(x.reshape(2, 1, 28, 28)).shape == (2, 1, 28, 28)


def test_latent_scores_on_a_conv_model_round_trip(tmp_path):
    from sklearn.datasets import load_digits

    from aedetect import load, save

    images = load_digits().images[:300]
    det = AutoencoderDetector(
        architecture="conv",
        conv_encoder=(4, "pool", 4),
        scoring="layerwise",
        epochs=3,
        random_state=0,
    ).fit(images)
    every = det.all_scores(images[:20])
    assert {"reconstruction", "latent-kmeans", "layerwise"} <= set(every.columns)
    assert np.isfinite(every.to_numpy()).all()
    # one standardised distance per encoder stage (conv, pool, conv)
    assert int(det.scorer_.state_["n_layers"][0]) == 3
    save(det, tmp_path / "conv.aedetect")
    again = load(tmp_path / "conv.aedetect")
    assert np.array_equal(again.decision_function(images), det.decision_function(images))


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped(tmp_path):
    folder = tmp_path / "wide"
    folder.mkdir()
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    Image.fromarray(ramp).save(folder / "a.png")
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(folder / "b.png")
    images = read_image_folder(folder)
    assert images[0, 0].min() == 0 and images[0, 0].max() == 255
    assert len(np.unique(images[0, 0])) > 50  # a ramp, not a clipped plateau of 255s
    assert (images[1, 0] == 100).all()


def test_an_image_folders_rows_are_named_by_their_files(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("b.png", "a.png", "c.jpg"):
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / name)
    table = load_data(str(folder))
    assert table.ids.name == "file" and table.ids.tolist() == ["a.png", "b.png", "c.jpg"]
