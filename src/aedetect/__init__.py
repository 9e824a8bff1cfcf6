"""aedetect: anomaly detection with autoencoders.

Train on (mostly) normal data; items the autoencoder reconstructs badly are
anomalous. Higher score = more anomalous; ``predict`` gives 0/1.
"""

from aedetect._lazy import lazy_exports
from aedetect._version import __version__
from aedetect.exceptions import (
    AedetectError,
    ConfigError,
    DataError,
    ModelFileError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from aedetect.detector import AutoencoderDetector
    from aedetect.exceptions import NotFittedError
    from aedetect.series_detector import SeriesDetector

# The detector (and torch) load on first use, so `import aedetect` stays light.
__getattr__ = lazy_exports(
    __name__,
    {
        "AutoencoderDetector": "aedetect.detector",
        "NotFittedError": "aedetect.exceptions",
        "SeriesDetector": "aedetect.series_detector",
    },
)

__all__ = [
    "AedetectError",
    "AutoencoderDetector",
    "ConfigError",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "SeriesDetector",
    "__version__",
    "load",
    "save",
]


def save(detector: "AutoencoderDetector", path: str) -> None:
    """Save a fitted detector to one file (see :mod:`aedetect.persistence`)."""
    from aedetect.persistence import save_detector

    save_detector(detector, path)


def load(path: str) -> "AutoencoderDetector":
    """Load a detector saved with :func:`save`; never unpickles."""
    from aedetect.persistence import load_detector

    return load_detector(path)
