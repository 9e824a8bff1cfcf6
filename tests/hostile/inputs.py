"""The hostile inputs of the corpus, each made by a small function into one folder.

Every maker takes the inputs folder and returns the path to give on the command
line (a file, a folder, or a built-in data set spelled with options).
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from hostile.crafting import npy_header, png, resealed, write_model

Maker = Callable[[Path], str]


def good_frame() -> pd.DataFrame:
    """40 rows of three numeric columns: what the corpus's model is fitted on."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(40, 3)).round(4), columns=["a", "b", "c"])


def _csv(name: str, text: str | bytes) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    return make


def _frame_csv(name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        edit(good_frame()).to_csv(path, index=False)
        return str(path)

    return make


def _cell(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype(object)
        frame.loc[row, column] = value
        return frame

    return edit


def _npy(name: str, array: np.ndarray) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        np.save(path, array, allow_pickle=True)
        return str(path)

    return make


def _raw(name: str, make_file: Callable[[Path], object]) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        make_file(path)
        return str(path)

    return make


def _fifo(name: str) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        if not path.exists():
            os.mkfifo(path)
        return str(path)

    return make


def _link(name: str, target: str) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        if not path.is_symlink():
            path.symlink_to(target)
        return str(path)

    return make


def _folder(name: str, fill: Callable[[Path], object] | None = None) -> Maker:
    def make(folder: Path) -> str:
        path = folder / name
        path.mkdir(exist_ok=True)
        if fill is not None:
            fill(path)
        return str(path)

    return make


def _spec(text: str) -> Maker:
    return lambda folder: text


def _small_pngs(path: Path) -> None:
    for i in range(3):
        png(path / f"ok{i}.png", 8, 8)


def _truncated_png(path: Path) -> None:
    png(path / "a.png", 8, 8)
    data = (path / "a.png").read_bytes()
    (path / "a.png").write_bytes(data[:40])


def _wide_header(n: int) -> bytes:
    return (",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("1" * n) + "\n").encode()


def _pickled_object_npy(path: Path) -> None:
    np.save(path, np.array([[{"a": 1}, None]], dtype=object), allow_pickle=True)


# ----------------------------------------------------------------- data inputs
#: Bad DATA arguments: name -> maker. Each is refused by every command that reads DATA.
BAD_DATA: dict[str, Maker] = {
    "empty-csv": _csv("empty.csv", b""),
    "header-only": _csv("header_only.csv", "a,b,c\n"),
    "ragged-row": _csv("ragged.csv", "a,b,c\n1,2,3\n4,5,6,7\n"),
    "short-row": _csv("short.csv", "a,b,c\n1,2,3\n4,5\n1,2,3\n"),
    "blank-line": _csv("blank.csv", "a,b,c\n1,2,3\n\n4,5,6\n1,2,3\n"),
    "spaces-line": _csv("spaces.csv", "a,b,c\n1,2,3\n4,5,6\n  \t\n1,2,3\n\n"),
    "binary-bytes": _csv("binary.csv", b"a,b,c\n\xff\xfe\x00\x81,\x92\n"),
    "latin1-text": _csv("latin1.csv", "a,b,c\ncaf\xe9,1,2\nthé,3,4\n".encode("latin1")),
    "nan-cell": _frame_csv("nan.csv", _cell(3, "b", None)),
    "inf-cell": _frame_csv("inf.csv", _cell(4, "a", "inf")),
    "value-1e308": _frame_csv("big308.csv", _cell(5, "b", 1e308)),
    "value-1e160": _frame_csv("big160.csv", _cell(6, "c", 1e160)),
    "value-minus-1e39": _frame_csv("neg39.csv", _cell(7, "a", -1e39)),
    "wide-header": _csv("wide.csv", _wide_header(70_000)),
    "two-million-columns": _csv(
        "wide2m.csv", b"a," * 1_999_999 + b"a\n" + b"1," * 1_999_999 + b"1\n"
    ),
    "unsupported-suffix": _csv("table.xlsx", "a,b\n1,2\n"),
    "no-suffix-file": _csv("table", "a,b\n1,2\n"),
    "folder-named-csv": _folder("folder.csv"),
    "fifo-csv": _fifo("pipe.csv"),
    "dev-zero-csv": _link("zero.csv", "/dev/zero"),
    "dev-zero-npy": _link("zero.npy", "/dev/zero"),
    "missing-file": _spec("does/not/exist.csv"),
    "unknown-builtin": _spec("nosuchset"),
    "npy-0d": _npy("zerod.npy", np.array(3.0)),
    "npy-1d": _npy("oned.npy", np.arange(5.0)),
    "npy-1e11-rows": _raw(
        "huge.npy", lambda p: npy_header(p, "<f8", (100_000_000_000, 3), b"\0" * 64)
    ),
    "npy-1e11-images": _raw(
        "huge_images.npy", lambda p: npy_header(p, "|u1", (100_000_000_000, 28, 28), b"\0" * 64)
    ),
    "npy-v2-huge": _raw(
        "huge_v2.npy", lambda p: npy_header(p, "<f4", (10**9, 10**3), b"\0" * 64, version=2)
    ),
    "npy-truncated": _raw("trunc.npy", lambda p: npy_header(p, "<f8", (10, 3), b"\0" * 8)),
    "npy-negative-shape": _raw("neg.npy", lambda p: npy_header(p, "<f8", (-4, 3), b"")),
    "npy-object": _raw("objects.npy", _pickled_object_npy),
    "npy-complex": _npy("complex.npy", np.ones((10, 3), dtype=np.complex128)),
    "npy-complex-images": _npy("complex_images.npy", np.ones((10, 8, 8)) + 1j),
    "npy-bad-magic": _csv("text.npy", "a,b,c\n1,2,3\n"),
    "npy-bad-header": _raw(
        "badheader.npy",
        lambda p: p.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", 6) + b"{'a'}\n"),
    ),
    "npy-nan": _npy("nan.npy", np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]])),
    "parquet-garbage": _csv("bad.parquet", b"PAR1 this is not parquet at all"),
    "png-bomb-20000": _folder("bomb", lambda p: png(p / "a.png", 20_000, 20_000)),
    "png-7000": _folder("big_image", lambda p: png(p / "a.png", 7_000, 7_000)),
    "png-not-an-image": _folder("notimage", lambda p: (p / "x.png").write_bytes(b"hello")),
    "png-truncated": _folder("truncpng", _truncated_png),
    "image-folder-empty": _folder("empty_folder"),
    "mixed-negative-rows": _spec("mixed:n_rows=-5"),
    "mixed-unknown-option": _spec("mixed:bogus=1"),
    "mixed-not-key-value": _spec("mixed:n_rows"),
    "mixed-too-many-anomalies": _spec("mixed:n_rows=10,n_anomalies=50"),
    "sequences-size-text": _spec("sequences:size=abc"),
    "sequences-anomalies-negative": _spec("sequences:anomalies=-3"),
    "synthetic-huge-dim": _spec("synthetic:dim=100000000"),
    "synthetic-huge-rows": _spec("synthetic:n_rows=99999999999"),
    "synthetic-unknown-kind": _spec("synthetic:kind=nope"),
    "photos-negative-n": _spec("photos:n=-1"),
    "photos-huge-n": _spec("photos:n=100000000"),
    "photos-huge-size": _spec("photos:size=1000"),
    "digits-option": _spec("digits:x=1"),
}

#: Words expected in the message for each bad DATA input.
DATA_WORDS: dict[str, list[str]] = {
    "empty-csv": ["empty.csv", "empty"],
    "header-only": ["header_only.csv", "no data rows"],
    "ragged-row": ["ragged.csv", "line 3"],
    "short-row": ["short.csv", "line 3"],
    "blank-line": ["blank.csv", "line 3 is blank", "output rows match input lines"],
    "spaces-line": ["spaces.csv", "line 4 is blank"],
    "binary-bytes": ["binary.csv"],
    "latin1-text": ["latin1.csv", "UTF-8"],
    "nan-cell": ["'b'", "row 4", "missing"],
    "inf-cell": ["'a'", "row 5", "infinite"],
    "value-1e308": ["'b'", "row 6", "float32"],
    "value-1e160": ["'c'", "row 7", "float32"],
    "value-minus-1e39": ["'a'", "row 8", "float32"],
    "wide-header": ["wide.csv", "70000 columns"],
    "two-million-columns": ["wide2m.csv", "2000000 columns"],
    "unsupported-suffix": ["table.xlsx", "unsupported"],
    "no-suffix-file": ["table", "unsupported"],
    "folder-named-csv": ["folder.csv", "folder"],
    "fifo-csv": ["pipe.csv", "FIFO"],
    "dev-zero-csv": ["zero.csv", "not a regular file"],
    "dev-zero-npy": ["zero.npy", "not a regular file"],
    "missing-file": ["exist.csv", "no such file"],
    "unknown-builtin": ["nosuchset", "built-in"],
    "npy-0d": ["zerod.npy", "single value"],
    "npy-1d": ["oned.npy", "1D"],
    "npy-1e11-rows": ["huge.npy", "header says", "truncated"],
    "npy-1e11-images": ["huge_images.npy", "header says"],
    "npy-v2-huge": ["huge_v2.npy", "header says"],
    "npy-truncated": ["trunc.npy", "truncated"],
    "npy-negative-shape": ["neg.npy", "not a valid .npy"],
    "npy-object": ["objects.npy", "Python objects"],
    "npy-complex": ["complex.npy", "complex"],
    "npy-complex-images": ["complex_images.npy", "complex"],
    "npy-bad-magic": ["text.npy", "not a valid .npy"],
    "npy-bad-header": ["badheader.npy", "not a valid .npy"],
    "npy-nan": ["missing"],
    "parquet-garbage": ["bad.parquet", "Parquet"],
    "png-bomb-20000": ["a.png", "pixels"],
    "png-7000": ["a.png", "7000x7000"],
    "png-not-an-image": ["x.png", "not a readable image"],
    "png-truncated": ["a.png", "not a readable image"],
    "image-folder-empty": ["empty_folder", "no .png"],
    "mixed-negative-rows": ["n_rows", "-5"],
    "mixed-unknown-option": ["bogus"],
    "mixed-not-key-value": ["n_rows", "key=value"],
    "mixed-too-many-anomalies": ["n_anomalies", "50"],
    "sequences-size-text": ["size", "abc"],
    "sequences-anomalies-negative": ["anomalies", "-3"],
    "synthetic-huge-dim": ["dim", "100000000"],
    "synthetic-huge-rows": ["n_rows"],
    "synthetic-unknown-kind": ["kind", "nope"],
    "photos-negative-n": ["photos", "n=-1"],
    "photos-huge-n": ["photos", "n=100000000"],
    "photos-huge-size": ["photos", "size", "1000"],
    "digits-option": ["digits:x=1"],
}


# ----------------------------------------------------------------- model files
def _resealed(name: str, edit: Callable[[dict], None]) -> Callable[[Path, Path], str]:
    def make(folder: Path, model: Path) -> str:
        return str(resealed(model, folder / name, edit))

    return make


def _retensored(name: str, edit: Callable[[dict], None]) -> Callable[[Path, Path], str]:
    def make(folder: Path, model: Path) -> str:
        return str(resealed(model, folder / name, tensor_edit=edit))

    return make


def _array(name: str, array: np.ndarray) -> Callable[[dict], None]:
    def edit(tensors: dict) -> None:
        dtype = {"f": "torch.float32", "i": "torch.int64"}[array.dtype.kind]
        tensors[name] = (dtype, array.shape, array.tobytes())

    return edit


def _bytes_model(name: str, edit: Callable[[bytes], bytes]) -> Callable[[Path, Path], str]:
    def make(folder: Path, model: Path) -> str:
        (folder / name).write_bytes(edit(model.read_bytes()))
        return str(folder / name)

    return make


def _plain(maker: Maker) -> Callable[[Path, Path], str]:
    return lambda folder, model: maker(folder)


def _header(meta: dict, tensors: dict | None = None, name: str = "x") -> Callable:
    def make(folder: Path, model: Path) -> str:
        write_model(folder / name, meta, tensors or {})
        return str(folder / name)

    return make


def _raw_header(name: str, header: bytes) -> Callable[[Path, Path], str]:
    return _bytes_model(name, lambda data: struct.pack("<Q", len(header)) + header)


def _set(part: str, key: str, value: object) -> Callable[[dict], None]:
    return lambda m: m[part].__setitem__(key, value)


def _drop(part: str, key: str) -> Callable[[dict], None]:
    return lambda m: m[part].pop(key)


def _spec_hidden(m: dict) -> None:
    m["state"]["model_spec"]["hidden"] = [300_000_000]


def _both_hidden(m: dict) -> None:
    m["params"]["hidden"] = [300_000_000]
    _spec_hidden(m)


def _old_file_huge(m: dict) -> None:  # a 0.1.0 file (no spec) whose encoder claims 1e9 inputs
    m["state"].pop("model_spec")
    m["state"]["encoder"]["columns"][-1]["stop"] = 1_000_000_000


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


_DEEP = "[" * 50_000 + "]" * 50_000
_META = {"format": "aedetect-model", "format_version": "1"}

#: Bad model files: name -> (maker(folder, good_model), words, info refuses it too).
BAD_MODELS: dict[str, tuple[Callable[[Path, Path], str], list[str], bool]] = {
    "model-missing": (_plain(_spec("nope.aedetect")), ["nope.aedetect", "does not exist"], True),
    "model-folder": (_plain(_folder("model_dir")), ["model_dir", "folder"], True),
    "model-fifo": (_plain(_fifo("model.fifo")), ["model.fifo", "not a regular file"], True),
    "model-dev-zero": (
        _plain(_link("zero.aedetect", "/dev/zero")),
        ["zero.aedetect", "not a regular file"],
        True,
    ),
    "model-empty": (_plain(_csv("empty.aedetect", b"")), ["empty.aedetect", "0 bytes"], True),
    "model-7-bytes": (_plain(_csv("seven.aedetect", b"1234567")), ["7 bytes"], True),
    "model-huge-header-length": (
        _bytes_model("hlen.aedetect", lambda d: struct.pack("<Q", 2**62) + d[8:]),
        ["hlen.aedetect", "header length"],
        True,
    ),
    "model-header-not-json": (
        _raw_header("notjson.aedetect", b"{not json at all}"),
        ["notjson.aedetect", "unreadable header"],
        True,
    ),
    "model-header-list": (
        _raw_header("list.aedetect", b"[1, 2, 3]"),
        ["list.aedetect", "no aedetect metadata"],
        True,
    ),
    "model-header-deep": (
        _raw_header("deep.aedetect", _DEEP.encode()),
        ["deep.aedetect", "unreadable header"],
        True,
    ),
    "model-header-deep-32": (
        _raw_header(
            "deep32.aedetect",
            json.dumps({"__metadata__": _META, "t": json.loads("[" * 40 + "]" * 40)}).encode(),
        ),
        ["deep32.aedetect", "nested"],
        True,
    ),
    "model-plain-safetensors": (
        _header({"other": "thing"}, name="plain.aedetect"),
        ["plain.aedetect", "no aedetect metadata"],
        True,
    ),
    "model-format-99": (
        _header({**_META, "format_version": "99"}, name="future.aedetect"),
        ["future.aedetect", "upgrade"],
        True,
    ),
    "model-format-text": (
        _header({**_META, "format_version": "x"}, name="fmt.aedetect"),
        ["fmt.aedetect", "format_version"],
        True,
    ),
    "model-meta-not-text": (
        _raw_header(
            "metaobj.aedetect",
            json.dumps({"__metadata__": {**_META, "params": {"a": 1}}}).encode(),
        ),
        ["metaobj.aedetect", "text"],
        True,
    ),
    "model-byte-flipped": (
        _bytes_model("flipped.aedetect", _flip_last_byte),
        ["flipped.aedetect", "checksum"],
        True,
    ),
    "model-truncated": (
        _bytes_model("cut.aedetect", lambda d: d[: len(d) - 40]),
        ["cut.aedetect", "truncated or damaged"],
        True,
    ),
    "model-csv-as-model": (
        _plain(_csv("table.aedetect", "a,b,c\n1,2,3\n4,5,6\n")),
        ["table.aedetect", "not an aedetect model file"],
        True,
    ),
    "model-state-deep": (
        _resealed("sdeep.aedetect", lambda m: m.__setitem__("state", _DEEP)),
        ["sdeep.aedetect", "unreadable metadata"],
        True,
    ),
    "model-no-encoder": (
        _resealed("noenc.aedetect", _drop("state", "encoder")),
        ["state.encoder is missing"],
        True,
    ),
    "model-no-history": (
        _resealed("nohist.aedetect", _drop("state", "history")),
        ["state.history is missing"],
        True,
    ),
    "model-threshold-text": (
        _resealed("thr.aedetect", _set("state", "threshold", "abc")),
        ["state.threshold", "number"],
        True,
    ),
    "model-threshold-list": (
        _resealed("thrl.aedetect", _set("state", "threshold", [1])),
        ["state.threshold", "number"],
        True,
    ),
    "model-n-features-text": (
        _resealed("nfeat.aedetect", _set("state", "n_features_in", "x")),
        ["state.n_features_in"],
        True,
    ),
    "model-columns-garbage": (
        _resealed("cols.aedetect", lambda m: m["state"]["encoder"].__setitem__("columns", [1])),
        ["state.encoder.columns"],
        True,
    ),
    "model-column-backwards": (
        _resealed(
            "back.aedetect",
            lambda m: (
                m["state"]["encoder"]["columns"][0].__setitem__("stop", 0)
                or m["state"]["encoder"]["columns"][0].__setitem__("start", 5)
            ),
        ),
        ["ends before it starts"],
        True,
    ),
    "model-history-text-loss": (
        _resealed("hist.aedetect", lambda m: m["state"]["history"].__setitem__("train_loss", "x")),
        ["state.history.train_loss"],
        True,
    ),
    "model-params-list": (
        _resealed("plist.aedetect", lambda m: m.__setitem__("params", [1, 2])),
        ["params must be an object"],
        True,
    ),
    "model-params-lr-text": (
        _resealed("lr.aedetect", _set("params", "lr", "fast")),
        ["params", "lr"],
        True,
    ),
    "model-params-hidden-3e8": (
        _resealed("hidden.aedetect", _both_hidden),
        ["params", "hidden"],
        True,
    ),
    "model-extra-text": (
        _resealed("extra.aedetect", lambda m: m.__setitem__("extra", [1])),
        ["extra must be an object"],
        True,
    ),
    "model-spec-hidden-3e8": (
        _resealed("spec.aedetect", _spec_hidden),
        ["spec.aedetect", "network weight"],
        False,
    ),
    "model-spec-shape-mismatch": (
        _resealed(
            "mismatch.aedetect", lambda m: m["state"]["model_spec"].__setitem__("hidden", [5, 2])
        ),
        ["mismatch.aedetect", "network weight"],
        False,
    ),
    "model-spec-unknown-field": (
        _resealed("specf.aedetect", lambda m: m["state"]["model_spec"].__setitem__("bogus", 1)),
        ["specf.aedetect", "network spec"],
        False,
    ),
    "model-centroids-shape": (
        _retensored("cent.aedetect", _array("scorer.layer0.centroids", np.zeros((2, 7), "f4"))),
        ["cent.aedetect", "scorer.layer0.centroids"],
        False,
    ),
    "model-whiten-shape": (
        _retensored("white.aedetect", _array("scorer.layer1.whiten", np.zeros((3, 3), "f4"))),
        ["white.aedetect", "scorer.layer1.whiten"],
        False,
    ),
    "model-centroids-missing": (
        _retensored("nocent.aedetect", lambda t: t.pop("scorer.layer0.centroids")),
        ["nocent.aedetect", "scorer.layer0.centroids"],
        False,
    ),
    "model-n-layers-wrong": (
        _retensored("nl.aedetect", _array("scorer.n_layers", np.array([7], "i8"))),
        ["nl.aedetect", "n_layers"],
        False,
    ),
    "model-train-scores-2d": (
        _retensored("t2d.aedetect", _array("scorer.train.reconstruction", np.zeros((2, 2), "f4"))),
        ["t2d.aedetect", "scorer.train.reconstruction"],
        False,
    ),
    "model-decision-scores-2d": (
        _retensored("d2d.aedetect", _array("decision_scores", np.zeros((4, 10), "f4"))),
        ["d2d.aedetect", "decision_scores"],
        False,
    ),
    "model-decision-scores-missing": (
        _retensored("nods.aedetect", lambda t: t.pop("decision_scores")),
        ["nods.aedetect", "decision_scores"],
        False,  # info --json prints the metadata alone; plain info: a case of its own
    ),
    "model-old-file-1e9-inputs": (
        _resealed("old.aedetect", _old_file_huge),
        ["old.aedetect", "network weight"],
        False,
    ),
}


def pickled_cifar(path: Path, payload: object) -> None:
    """A CIFAR-style pickle of ``payload`` (for the reader tests)."""
    path.write_bytes(pickle.dumps(payload, protocol=2))
