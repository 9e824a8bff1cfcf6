"""ADBench's tables as built-in data: cache, download, checksums; the benchmark's protocol."""

from __future__ import annotations

import hashlib
import http.server
import io
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from aedetect.data import adbench
from aedetect.exceptions import DataError

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT.parent / "shared" / "data" / "adbench"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AEDETECT_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache" / "adbench"


@pytest.fixture
def local_cache(cache):
    if not (LOCAL / "6_cardio.npz").is_file():
        pytest.skip(f"no local copy of ADBench's files in {LOCAL}")
    assert "cardio" in adbench.fill_cache(LOCAL)
    return cache


def test_names_cover_the_twenty_sets():
    names = adbench.adbench_names()
    assert len(names) == 20 and "magic.gamma" in names and "cardio" in names
    assert all(len(sha) == 64 for _, sha in adbench.ADBENCH_SETS.values())
    assert len(adbench.ADBENCH_COMMIT) == 40 and adbench.ADBENCH_COMMIT in adbench.ADBENCH_URL


def test_load_from_filled_cache(local_cache):
    table = adbench.load_adbench("Cardio")  # case-insensitive
    X, y = adbench.load_adbench_arrays("cardio")
    assert table.features.shape == X.shape == (1831, 21)
    assert table.labels.name == "is_anomaly" and int(table.labels.sum()) == int(y.sum()) == 176
    assert table.source == "adbench:cardio"
    assert np.allclose(table.features.to_numpy(), X)
    assert adbench.load_adbench("MAGIC.gamma").features.shape[1] == 10


def test_unknown_name(cache):
    with pytest.raises(DataError, match="unknown ADBench data set 'nope'; known: aloi, annthyroid"):
        adbench.load_adbench("nope")


def test_every_classical_set_has_a_name():
    every = adbench.adbench_names(every=True)
    assert len(every) == 47 and set(adbench.adbench_names()) <= set(every)
    assert adbench._entry("BreastW") == ("4_breastw.npz", None)
    assert adbench._entry("satimage-2") == ("31_satimage-2.npz", None)


def _npz_bytes() -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buf, X=rng.normal(size=(20, 3)), y=(np.arange(20) < 2).astype(float))
    return buf.getvalue()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local http.server holding a small ADBench-like file as ``6_cardio.npz``."""
    root = tmp_path / "www"
    root.mkdir()
    blob = _npz_bytes()
    (root / "6_cardio.npz").write_bytes(blob)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(adbench, "ADBENCH_URL", f"http://127.0.0.1:{httpd.server_address[1]}/")
    yield hashlib.sha256(blob).hexdigest(), root, httpd
    httpd.shutdown()
    httpd.server_close()


def test_download_checks_the_checksum_and_caches(server, cache, monkeypatch):
    sha, _, httpd = server
    monkeypatch.setitem(adbench.ADBENCH_SETS, "cardio", ("6_cardio.npz", sha))
    X, y = adbench.load_adbench_arrays("cardio")
    assert X.shape == (20, 3) and y.sum() == 2
    assert (cache / "6_cardio.npz").is_file()
    assert not [p for p in cache.iterdir() if p.name != "6_cardio.npz"]  # nothing half-written
    httpd.shutdown()  # offline from here: the cache is enough
    httpd.server_close()
    assert adbench.load_adbench("cardio").features.shape == (20, 3)


def test_corrupt_file_is_refused(server, cache, monkeypatch):
    sha, root, httpd = server
    (root / "6_cardio.npz").write_bytes(b"not the published file")
    monkeypatch.setitem(adbench.ADBENCH_SETS, "cardio", ("6_cardio.npz", sha))
    with pytest.raises(DataError, match=r"6_cardio\.npz is not in .*adbench and could not be"):
        adbench.load_adbench_arrays("cardio")
    assert not (cache / "6_cardio.npz").exists()


def test_corrupt_cached_file_is_downloaded_again(server, cache, monkeypatch):
    sha, _, _ = server
    monkeypatch.setitem(adbench.ADBENCH_SETS, "cardio", ("6_cardio.npz", sha))
    cache.mkdir(parents=True)
    (cache / "6_cardio.npz").write_bytes(b"truncated")
    X, _ = adbench.load_adbench_arrays("cardio")
    assert X.shape == (20, 3)


def test_fill_cache_skips_files_with_a_wrong_checksum(tmp_path, cache):
    src = tmp_path / "src"
    src.mkdir()
    (src / "6_cardio.npz").write_bytes(b"wrong")
    assert adbench.fill_cache(src) == []
    assert not (cache / "6_cardio.npz").exists()


def test_benchmark_protocol(local_cache):
    sys.path.insert(0, str(ROOT))
    from benchmarks import adbench as bench

    X, y = adbench.load_adbench_arrays("cardio")
    unsup = bench.make_split("cardio", X, y, 0, "unsup")
    oneclass = bench.make_split("cardio", X, y, 0, "oneclass")
    assert len(unsup.y_test) == int(np.ceil(0.3 * len(y)))
    assert abs(unsup.y_test.mean() - y.mean()) < 0.01  # stratified
    assert np.array_equal(unsup.X_test, oneclass.X_test)  # same test rows in both settings
    assert unsup.y_fit.sum() > 0 and oneclass.y_fit.sum() == 0
    big = bench.make_split("x", np.zeros((12_000, 2)), np.arange(12_000) % 10 == 0, 1, "unsup")
    assert len(big.X_fit) + len(big.X_test) == 10_000
    runs = bench.pd.DataFrame(bench.run(["wbc"], (0,), ("oneclass",), ("pca", "isolation-forest")))
    assert set(runs["status"]) == {"ok"} and runs["auroc"].between(0.5, 1).all()
    summary = bench.summarise(runs)
    assert set(summary["rank"]) == {1.0, 2.0}


def test_a_set_without_a_checksum_downloads_with_a_warning(server, cache, caplog):
    _, root, httpd = server
    (root / "4_breastw.npz").write_bytes(_npz_bytes())
    with caplog.at_level("WARNING", logger="aedetect"):
        table = adbench.load_adbench("breastw")
    assert table.features.shape == (20, 3) and table.source == "adbench:breastw"
    assert "adbench:breastw has no checksum recorded" in caplog.text
    httpd.shutdown()  # offline: the cached file is used
    httpd.server_close()
    assert adbench.load_adbench_arrays("breastw")[0].shape == (20, 3)


def test_fill_cache_copies_sets_without_a_checksum(tmp_path, cache):
    src = tmp_path / "src"
    src.mkdir()
    (src / "45_wine.npz").write_bytes(_npz_bytes())
    assert adbench.fill_cache(src) == ["wine"]
    assert adbench.load_adbench_arrays("wine")[1].sum() == 2
