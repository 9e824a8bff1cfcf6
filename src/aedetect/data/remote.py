"""Download data set files from their official locations into a cache folder, once.

Downloads go through ``pooch``: each file is checked against its published MD5,
written to a temporary file and moved into place only when complete (atomic), and
shown with a progress bar when asked for. The cache folder is
``$AEDETECT_DATA`` when set, else the user cache folder (``~/.cache/aedetect`` on
Linux); each data set has a sub-folder. Without a network, a file already in the
cache is used as is; a missing one raises a :class:`DataError` that says what to
download and where to put it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from aedetect.exceptions import DataError

__all__ = ["REMOTE", "RemoteSet", "cache_folder", "fetch", "is_cached"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteSet:
    """Where a data set's files live: base URLs (mirrors, tried in order) and MD5s."""

    urls: tuple[str, ...]
    files: dict[str, str]
    page: str  # the data set's home page, for the offline message


REMOTE: dict[str, RemoteSet] = {
    "mnist": RemoteSet(
        # Yann LeCun's site is the original; it often refuses scripted downloads, so
        # the copy torchvision uses (same files, same checksums) is tried first.
        urls=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://yann.lecun.com/exdb/mnist/",
        ),
        files={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        page="https://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": RemoteSet(
        urls=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        files={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        page="https://github.com/zalandoresearch/fashion-mnist",
    ),
    "cifar10": RemoteSet(
        urls=("https://www.cs.toronto.edu/~kriz/",),
        files={"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
        page="https://www.cs.toronto.edu/~kriz/cifar.html",
    ),
}


def cache_folder(name: str = "") -> Path:
    """Return the cache folder (``$AEDETECT_DATA`` or the user cache) or a set's sub-folder."""
    env = os.environ.get("AEDETECT_DATA")
    if env:
        root = Path(env).expanduser()
    else:
        import pooch

        root = Path(pooch.os_cache("aedetect"))
    return root / name if name else root


def fetch(name: str, filename: str, progress: bool = False) -> Path:
    """Path of ``filename`` of data set ``name`` in the cache, downloading it if needed.

    Raises
    ------
    DataError
        The file is not in the cache and cannot be downloaded (offline, refused,
        or a checksum mismatch): the message names the file, the URL and the
        folder to put it in.
    """
    import pooch

    remote = REMOTE[name]
    folder = cache_folder(name)
    target = folder / filename
    md5 = remote.files[filename]
    if target.is_file():
        if pooch.file_hash(str(target), alg="md5") == md5:
            return target
        log.warning("%s: checksum mismatch, downloading it again", target)
    errors = []
    for base in remote.urls:
        url = base + filename
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = pooch.retrieve(
                url,
                known_hash=f"md5:{md5}",
                fname=filename,
                path=folder,
                progressbar=progress,
            )
            return Path(path)
        except ValueError as exc:  # pooch's checksum mismatch
            errors.append(f"{url}: {str(exc).splitlines()[0]}")
        except Exception as exc:  # network errors come in many types
            errors.append(
                f"{url}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
    raise DataError(
        f"{name}: {filename} is not in {folder} and could not be downloaded "
        f"({'; '.join(errors)}). Download {remote.urls[0] + filename} (see {remote.page}) "
        f"and put it in {folder}, or set AEDETECT_DATA to a folder holding {name}/{filename}"
    )


def is_cached(name: str) -> bool:
    """Whether every file of data set ``name`` is already in the cache (no download)."""
    folder = cache_folder(name)
    return all((folder / f).is_file() for f in REMOTE[name].files)


def sha256(path: Path) -> str:
    """SHA-256 of a file, hex."""
    import pooch

    return pooch.file_hash(str(path), alg="sha256")


def fetch_checked(
    set_name: str, relpath: str, url: str, sha: str | None, page: str, progress: bool
) -> Path:
    """Path of ``relpath`` in ``set_name``'s cache folder, downloaded from ``url`` once.

    A cached file whose SHA-256 differs from ``sha`` is downloaded again; with
    ``sha`` None any cached file is used and a download is not checked. Raises
    :class:`DataError` naming the file, the URL and where to put it when it is not
    cached and cannot be downloaded (offline, refused, checksum mismatch).
    """
    import pooch

    folder = cache_folder(set_name)
    target = folder / relpath
    if target.is_file():
        if sha is None or sha256(target) == sha:
            return target
        log.warning("%s: checksum mismatch, downloading it again", target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        got = pooch.retrieve(
            url, known_hash=None if sha is None else f"sha256:{sha}", fname=target.name,
            path=target.parent,
            progressbar=progress,
        )  # fmt: skip
        return Path(got)
    except Exception as exc:  # network errors come in many types; pooch's mismatch too
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise DataError(
            f"{set_name}: {relpath} is not in {folder} and could not be downloaded from {url} "
            f"({type(exc).__name__}: {first}). Download it (see {page}) and put it at "
            f"{target}, or set AEDETECT_DATA to a folder holding {set_name}/{relpath}"
        ) from None
