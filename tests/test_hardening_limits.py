"""Limits checked before allocating, and numeric range handled at its cause.

Limits are lowered with monkeypatch so that each is reached with a few bytes.
"""

from __future__ import annotations

import gzip
import io
import math
import pickle
import struct
import tarfile

import numpy as np
import pandas as pd
import pytest
import torch

from aedetect import AutoencoderDetector
from aedetect.centroids import nearest_distance, whitening
from aedetect.data import images, readers
from aedetect.exceptions import ConfigError, DataError
from aedetect.thresholds import parse_threshold
from hostile.crafting import png


def test_a_folder_of_images_has_a_pixel_budget(tmp_path, monkeypatch):
    for i in range(3):
        png(tmp_path / f"{i}.png", 8, 8, whole=True)
    assert images.read_image_folder(tmp_path).shape == (3, 1, 8, 8)
    monkeypatch.setattr(images, "MAX_FOLDER_PIXELS", 150)
    with pytest.raises(DataError, match="more than 150 pixels in all"):
        images.read_image_folder(tmp_path)


def test_resizing_a_folder_has_the_same_budget(tmp_path, monkeypatch):
    for i in range(3):
        png(tmp_path / f"{i}.png", 8, 8, whole=True)
    monkeypatch.setattr(images, "MAX_FOLDER_PIXELS", 1000)
    with pytest.raises(DataError, match="3 images of 20x20 make more than 1000 values"):
        images.read_image_folder(tmp_path, size=(20, 20))


def test_one_image_is_refused_before_its_pixels_are_decoded(tmp_path, monkeypatch):
    png(tmp_path / "a.png", 300, 200)  # pixel data truncated: decoding it would fail
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    with pytest.raises(DataError, match=r"300x200 pixels; at most 1000 pixels per image"):
        images.read_image_folder(tmp_path)


def test_a_gzip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(images, "MAX_DECOMPRESSED", 1000)
    bomb = gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 5000) + b"\0" * 5000)
    with pytest.raises(DataError, match="header says 5000 bytes; more than"):
        images.read_idx("bomb.idx", bomb)


def test_a_gzip_idx_is_unpacked_only_as_far_as_its_header_declares():
    # declares 5 bytes, unpacks to 10 MB: refused after reading 6 of them
    bomb = gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 5) + b"\0" * 10_000_000)
    with pytest.raises(DataError, match=r"5 values \(5 bytes\), file holds more than 5"):
        images.read_idx("bomb.idx", bomb)
    with pytest.raises(DataError, match=r"header says 5x0x8 values: an item of no values"):
        images.read_idx("empty.idx", b"\0\0\x08\x03" + struct.pack(">3I", 5, 0, 8))


def test_a_truncated_gzip_is_refused():
    data = gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(DataError, match="truncated|damaged gzip"):
        images.read_idx("cut.idx", data[:-12])


def test_a_cifar_tar_member_too_large_is_refused(tmp_path, monkeypatch):
    batch = pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0]}, protocol=2)
    archive = tmp_path / "cifar.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("cifar/data_batch_1")
        info.size = len(batch)
        tar.addfile(info, io.BytesIO(batch))
    assert images.read_cifar(archive)[0].shape == (1, 3, 32, 32)
    monkeypatch.setattr(images, "MAX_DECOMPRESSED", 100)
    with pytest.raises(DataError, match="data_batch_1"):
        images.read_cifar(archive)


def test_a_csv_first_line_too_long_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "long.csv"
    path.write_text("a" * 5000 + ",b\n1,2\n")
    monkeypatch.setattr(readers, "MAX_HEADER_BYTES", 1000)
    with pytest.raises(DataError, match="first line is longer than"):
        readers.read_table(path)


def test_npy_header_is_checked_against_the_file_size(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.ones((4, 3)))
    path.write_bytes(path.read_bytes()[:-8])  # one value short
    with pytest.raises(DataError, match=r"4x3 of float64 \(96 bytes\), the file holds 88"):
        readers.read_table(path)


# ------------------------------------------------------------ numeric range
def test_whitening_falls_back_when_cholesky_cannot_factor(monkeypatch):
    x = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], dtype=torch.float64)
    assert torch.isfinite(whitening(x, x[:1])).all()  # rank 1: the ridge keeps it factorable
    monkeypatch.setattr(torch.linalg, "cholesky_ex", lambda cov: (cov, torch.tensor(1)))
    w = whitening(x, x[:1])  # "not positive-definite": the eigenvalue fallback
    d = nearest_distance(x, x[:1], w)
    assert torch.isfinite(w).all() and torch.isfinite(d).all() and d[0] == 0
    huge = torch.full((3, 2), 1e200, dtype=torch.float64) * torch.tensor([[1.0], [2.0], [3.0]])
    assert torch.equal(whitening(huge, huge[:1]), torch.eye(2, dtype=torch.float64))


def test_values_beyond_float32_are_named_by_column_and_row():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 1e39, 2.0]})
    with pytest.raises(DataError, match=r"column 'b' row 2: 1e\+39 is beyond float32"):
        AutoencoderDetector(epochs=1, hidden=(2,)).fit(frame)
    ok = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1e38, -1e38, 3e38, 0.0]})
    det = AutoencoderDetector(epochs=1, hidden=(2,), random_state=0).fit(ok)
    assert np.isfinite(det.decision_scores_).all()


def test_diverged_training_names_the_cause():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)), columns=list("abc"))
    with pytest.raises(
        ConfigError, match=r"training diverged at epoch \d+ .*lower lr \(got 1000\)"
    ):
        AutoencoderDetector(epochs=5, lr=1000, random_state=0).fit(frame)


def test_gamma_on_constant_scores_says_so():
    with pytest.raises(ConfigError, match="gamma threshold needs scores that vary; all 20 are 1"):
        parse_threshold("gamma:0.01").fit(np.ones(20))
    rule = parse_threshold("gamma:0.01").fit(np.r_[np.ones(19), 2.0])
    assert math.isfinite(rule.threshold_)


def test_a_cifar_batch_whose_labels_do_not_match_names_both_counts():
    batch = pickle.dumps({b"data": np.zeros((50, 3072), np.uint8), b"labels": [0] * 10}, 2)
    with pytest.raises(DataError, match="50 images in 'data' but 10 in 'labels'"):
        images.read_cifar_batch(batch, "b.pkl")


def test_an_output_folder_that_is_a_dangling_link_is_named(tmp_path):
    from aedetect.pipeline.data import check_folder

    (tmp_path / "out").symlink_to(tmp_path / "gone")
    with pytest.raises(DataError, match="out: is a symbolic link to a missing folder"):
        check_folder(tmp_path / "out")


def test_abnormal_data_of_another_width_names_both_widths(tmp_path):
    from aedetect.data.resolve import load_data

    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(tmp_path / "o.csv", index=False)
    with pytest.raises(DataError, match=r"o.csv: items of 1 columns do not match .*'s 2 columns$"):
        load_data(str(tmp_path / "t.csv"), normal="rest", abnormal_data=str(tmp_path / "o.csv"))
