"""ADBench's classical tabular data sets, downloaded once from ADBench's repository.

The 47 "Classical" sets of ADBench (Han et al., *ADBench: Anomaly Detection
Benchmark*, NeurIPS 2022), as published in the repository ``Minqi824/ADBench`` under
``adbench/datasets/Classical/`` at a pinned commit. Each file is an ``.npz`` with a
numeric matrix ``X`` and labels ``y`` (1 = anomaly). Files are fetched with ``pooch``
(written to a temporary file and moved into place when complete) into
``remote.cache_folder("adbench")``. The twenty sets the benchmark uses have their
SHA-256 recorded here: a download or cached file that differs is refused. The
other 27 are fetched over HTTPS from the same commit and checked as numeric
arrays only, with a warning that says so.

Names are case-insensitive short names: ``cardio``, ``pendigits``, ``magic.gamma``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from aedetect.data import remote
from aedetect.data.readers import Table
from aedetect.exceptions import DataError
from aedetect.outputs import copy_file

__all__ = [
    "ADBENCH_COMMIT",
    "ADBENCH_SETS",
    "adbench_names",
    "fetch_adbench",
    "fill_cache",
    "load_adbench",
    "load_adbench_arrays",
]

log = logging.getLogger(__name__)

# The commit of Minqi824/ADBench the files and checksums below come from.
ADBENCH_COMMIT = "f7fed68dea6901fe9a81ed51b251b1d2456790cd"
ADBENCH_URL = (
    f"https://raw.githubusercontent.com/Minqi824/ADBench/{ADBENCH_COMMIT}"
    "/adbench/datasets/Classical/"
)
ADBENCH_PAGE = "https://github.com/Minqi824/ADBench"

# short name -> (file name in the repository, SHA-256 of the file)
ADBENCH_SETS: dict[str, tuple[str, str]] = {
    "aloi": ("1_ALOI.npz", "792d0b5bd1147bfc9574a1974f157b39fbd4cbed8ecd04cf983fd554498ed477"),
    "campaign": (
        "5_campaign.npz",
        "74dd4d0072d6c6f1aabab63bc102f9633454f32bb936fa9bcfbd38f9f2386bcd",
    ),
    "cardio": ("6_cardio.npz", "bc5009bde6930b4d298b594f31b34485a9a17210cff0e8fb00a8c3068b885a2d"),
    "fault": ("12_fault.npz", "ec27301f9a4cf7c5d8b22c360cf37ddb043b7fb062465723dfd8b34e2771e5dd"),
    "glass": ("14_glass.npz", "aa7a8db1d475ba01a10488af454bc15220a3d5951b010b03b7020567d8152cdc"),
    "ionosphere": (
        "18_Ionosphere.npz",
        "bca46cb0cfd1bf9ddef6cde5ad2215d54fb0189508d0d4c4eb98e788cad69001",
    ),
    "letter": ("20_letter.npz", "f986d3da80cf1fa2aea83a5ebe73b7d4800e0d4c01fdd1ae074b58d20f10d039"),
    "magic.gamma": (
        "22_magic.gamma.npz",
        "0be375984d7af9ea7a63b12206c240840d8b7daa3607021c5fb8756407dd86f1",
    ),
    "mammography": (
        "23_mammography.npz",
        "a0308ac9712d78321073b1c2dc98dc37665c0f35c1cc33019416fe8f8d7de7ea",
    ),
    "optdigits": (
        "26_optdigits.npz",
        "60de17a375a278ba220a7849727d998aa02b5e2f9fd17732a004bba28de4656e",
    ),
    "pendigits": (
        "28_pendigits.npz",
        "c4936b89dcdad59d303020e492f763a0f54170080d787c77497609acbb9c2d79",
    ),
    "pima": ("29_Pima.npz", "215454bb263a2f040945c9ea7bd7f06f1e89a61a3143bdb6f196e3887e801a7d"),
    "satellite": (
        "30_satellite.npz",
        "1f048f5686f1b8c16a227fdfa3c81a62cd9a92715714a6b24c69b1c5ad96b46e",
    ),
    "shuttle": (
        "32_shuttle.npz",
        "26900b0f6be45d9ddb7a402c9b2f956ceda42d23a8ca4cf4406b8bc1352823d1",
    ),
    "spambase": (
        "35_SpamBase.npz",
        "d0c46c7928e43f6496bcd06e09de0b70f6bc8143792dfa0a43f450263d254e9b",
    ),
    "thyroid": (
        "38_thyroid.npz",
        "8de161b3f235b7647bb0b39a836d983ff61d67bf234edac461da2d71e889cb87",
    ),
    "vowels": ("40_vowels.npz", "4bfc4244d1c882773bbbc50d4a5db5e52276e53506e46b2d45e02d074cfcb1b6"),
    "wbc": ("42_WBC.npz", "650f9dcb129248f67a291be0974f533ef259fcbde50fce5c8ad2a1cb2652d03b"),
    "wilt": ("44_Wilt.npz", "c70b72aa611ec87b20efb400943ef3ce4f8bf7aa58fcef825fbd28cc5cee3cc9"),
    "yeast": ("47_yeast.npz", "bbb15c873d78a4f6a589f46d0f75814595e2282d2ae7ce7779c750f276c3770d"),
}


# Every file of ADBench's "Classical" folder at that commit. The 27 not in
# ADBENCH_SETS have no checksum recorded here: they are downloaded over HTTPS from
# the pinned commit and checked only as numeric arrays X and y (said in a warning).
ADBENCH_FILES = (
    "1_ALOI", "2_annthyroid", "3_backdoor", "4_breastw", "5_campaign", "6_cardio",
    "7_Cardiotocography", "8_celeba", "9_census", "10_cover", "11_donors", "12_fault",
    "13_fraud", "14_glass", "15_Hepatitis", "16_http", "17_InternetAds", "18_Ionosphere",
    "19_landsat", "20_letter", "21_Lymphography", "22_magic.gamma", "23_mammography",
    "24_mnist", "25_musk", "26_optdigits", "27_PageBlocks", "28_pendigits", "29_Pima",
    "30_satellite", "31_satimage-2", "32_shuttle", "33_skin", "34_smtp", "35_SpamBase",
    "36_speech", "37_Stamps", "38_thyroid", "39_vertebral", "40_vowels", "41_Waveform",
    "42_WBC", "43_WDBC", "44_Wilt", "45_wine", "46_WPBC", "47_yeast",
)  # fmt: skip


def adbench_names(every: bool = False) -> tuple[str, ...]:
    """Return the short names of the checksummed ADBench sets (``every``: all 47), in order."""
    if not every:
        return tuple(ADBENCH_SETS)
    return tuple(stem.split("_", 1)[1].lower() for stem in ADBENCH_FILES)


def _entry(name: str) -> tuple[str, str | None]:
    """Return the set's file name and SHA-256 (None for a set without one recorded)."""
    key = str(name).strip().lower()
    if key in ADBENCH_SETS:
        return ADBENCH_SETS[key]
    for stem in ADBENCH_FILES:
        if stem.split("_", 1)[1].lower() == key:
            return f"{stem}.npz", None
    raise DataError(
        f"unknown ADBench data set {name!r}; known: {', '.join(adbench_names(every=True))}"
    )


def fetch_adbench(name: str, progress: bool = False) -> Path:
    """Path of data set ``name``'s ``.npz`` in the cache, downloading it if needed.

    Raises
    ------
    DataError
        Unknown name, or the file is not in the cache and cannot be downloaded
        (offline, refused, or a checksum mismatch): the message names the file, the
        URL and the folder to put it in.
    """
    filename, sha = _entry(name)
    if sha is None:
        log.warning(
            "adbench:%s has no checksum recorded in aedetect; it is checked only as "
            "numeric arrays X and y",
            str(name).strip().lower(),
        )
    return remote.fetch_checked(
        "adbench", filename, ADBENCH_URL + filename, sha, ADBENCH_PAGE, progress
    )


def fill_cache(source: str | Path) -> list[str]:
    """Copy the ADBench files found in folder ``source`` into the cache; no network.

    Files with a checksum recorded are copied only when it matches; the other
    sets' files (no checksum here) when they are not cached yet. Files already
    cached are kept. Returns the short names now in the cache from this call.
    """
    source = Path(source)
    folder = remote.cache_folder("adbench")
    copied = []
    for name in adbench_names(every=True):
        filename, sha = _entry(name)
        src, dst = source / filename, folder / filename
        if dst.is_file() and (sha is None or remote.sha256(dst) == sha):
            copied.append(name)
            continue
        if not src.is_file() or (sha is not None and remote.sha256(src) != sha):
            continue
        folder.mkdir(parents=True, exist_ok=True)
        copy_file(src, dst)
        copied.append(name)
    return copied


def load_adbench_arrays(name: str, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` of ADBench set ``name``: float64 features, int labels (1 = anomaly)."""
    path = fetch_adbench(name, progress)
    try:
        with np.load(path, allow_pickle=False) as data:
            X = np.asarray(data["X"], dtype=np.float64)
            y = np.asarray(data["y"]).astype(int).ravel()
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: not an ADBench file with arrays X and y ({exc})") from None
    if X.ndim != 2 or len(X) != len(y):
        raise DataError(f"{path}: X {X.shape} and y {y.shape} do not match")
    return X, y


def load_adbench(name: str, progress: bool = False) -> Table:
    """Return ADBench set ``name`` as a :class:`Table`: columns ``x0..``, label ``is_anomaly``."""
    X, y = load_adbench_arrays(name, progress)
    filename, _ = _entry(name)
    features = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    return Table(
        features=features,
        labels=pd.Series(y, name="is_anomaly"),
        source=f"adbench:{filename[:-4].split('_', 1)[1]}",
    )
