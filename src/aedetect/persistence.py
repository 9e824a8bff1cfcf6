"""Save and load fitted detectors as one safetensors file. Nothing is ever unpickled.

The file is a standard safetensors file. Its tensors are the module's weights,
the training scores and the scorer's fitted arrays (``scorer.*``: centroids,
whitening, standardisation); its string metadata holds:

- ``format`` = ``aedetect-model`` and ``format_version`` (an integer),
- ``aedetect_version``, the package version that wrote it,
- ``params``: the estimator's constructor arguments, as JSON,
- ``state``: the fitted encoder, threshold, column names, history and the
  network's spec (``model_spec``; files from 0.1.0 lack it), as JSON,
- ``checksum``: SHA-256 over the other metadata and every tensor's name, dtype,
  shape and bytes, so that a modified or damaged file is refused.

The detector gives and takes its content as plain data
(:meth:`~aedetect.AutoencoderDetector.to_state` /
:meth:`~aedetect.AutoencoderDetector.from_state`); this module only writes and
reads the file.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from aedetect._version import __version__
from aedetect.detector import AutoencoderDetector
from aedetect.exceptions import ConfigError, ModelFileError
from aedetect.modelfile import (
    FORMAT,
    FORMAT_VERSION,
    checksum,
    parse_metadata,
    read_file,
    read_header,
    read_metadata,
)
from aedetect.models.factory import ModelSpec, build, spec_from_params
from aedetect.outputs import write_bytes
from aedetect.scoring import layer_outputs
from aedetect.state import params_from_json, prefixed

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "load_detector",
    "load_model",
    "read_header",
    "read_metadata",
    "save_detector",
]


def _checksum(meta: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    """Return the file's checksum (:func:`aedetect.modelfile.checksum`) over torch tensors."""
    return checksum(
        meta,
        (
            (
                name,
                str(t.dtype),
                tuple(t.shape),
                t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b"",
            )
            for name, t in tensors.items()
        ),
    )


def save_detector(
    det: AutoencoderDetector, path: str | os.PathLike[str], extra: dict[str, Any] | None = None
) -> None:
    """Write a fitted detector to ``path`` (atomically: no half-written file).

    ``extra`` is plain JSON-ready data stored beside the detector (the CLI keeps
    the id and label column names there).
    """
    data, tensors = det.to_state()
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "aedetect_version": __version__,
        "params": json.dumps(data["params"]),
        "state": json.dumps(data["state"]),
        "extra": json.dumps(extra or {}),
    }
    meta["checksum"] = _checksum(meta, tensors)
    write_bytes(path, st_save(tensors, metadata=meta))


def _tensors(
    path: str | os.PathLike[str], data: bytes, meta: dict[str, str]
) -> dict[str, torch.Tensor]:
    try:
        tensors = st_load(data)
    except Exception:  # safetensors raises its own error types for any damage
        raise ModelFileError(f"{path}: model file is truncated or damaged") from None
    if meta.get("checksum") != _checksum(meta, tensors):
        raise ModelFileError(f"{path}: checksum mismatch: the model file was modified or damaged")
    return tensors


def _spec(parsed: dict[str, Any]) -> ModelSpec:
    """Return the network a file describes: its saved spec, or (0.1.0 files) its params'."""
    fitted = parsed["state"]
    if "model_spec" in fitted:
        return ModelSpec.from_dict(fitted["model_spec"])
    params = params_from_json(parsed["params"])
    if params.get("architecture") == "dense":
        params["architecture"] = None
    columns = fitted["encoder"]["columns"]
    shape = fitted.get("image_shape")
    n_features = columns[-1]["stop"] if columns else 0
    return spec_from_params(params, n_features, None if shape is None else tuple(shape), False)


def _check_network(
    path: str | os.PathLike[str], parsed: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> None:
    """Refuse a file whose network shapes differ from its stored weights, before building it.

    The network is built on torch's ``meta`` device (shapes, no memory), so a
    file that claims ``hidden=[300000000]`` over a few stored weights costs nothing.
    """
    try:
        with torch.device("meta"):
            spec = _spec(parsed)
            module = build(spec)
            expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
            widths = [h.shape[1] for h in layer_outputs(module, torch.empty(2, spec.n_features))]
        mahalanobis = params_from_json(parsed["params"]).get("distance") == "mahalanobis"
    except (ConfigError, TypeError, ValueError, KeyError, IndexError, RuntimeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{path}: damaged model file (network spec: {msg})") from None
    stored = {k: tuple(v.shape) for k, v in prefixed("module", tensors).items()}
    for name in sorted(expected.keys() | stored.keys()):
        want, have = expected.get(name), stored.get(name)
        if want != have:
            raise ModelFileError(
                f"{path}: damaged model file (network weight module.{name}: "
                f"the spec needs {_shape(want)}, the file holds {_shape(have)})"
            )

    _check_scorer(path, widths, spec.n_features, tensors, mahalanobis)


def _check_scorer(
    path: str | os.PathLike[str],
    widths: list[int],
    n_features: int,
    tensors: dict,
    mahalanobis: bool,
) -> None:
    """Refuse scorer arrays whose shapes do not fit the network's layers (or are missing).

    ``mahalanobis``: the model's ``distance``; its whitening is then required.
    """
    want: dict[str, tuple[int | None, ...]] = {"decision_scores": (None,)}
    scorer = prefixed("scorer", tensors)
    if "n_layers" in scorer:
        want["scorer.n_layers"] = (1,)
        for i, width in enumerate(widths):
            want[f"scorer.layer{i}.centroids"] = (None, width)
            want[f"scorer.layer{i}.euclidean"] = (2,)
            # Mahalanobis state: needed by a model that uses it, checked wherever present
            # (files written before it was left out of Euclidean models hold it too).
            if mahalanobis or f"layer{i}.whiten" in scorer:
                want[f"scorer.layer{i}.whiten"] = (width, width)
            if mahalanobis or f"layer{i}.mahalanobis" in scorer:
                want[f"scorer.layer{i}.mahalanobis"] = (2,)
    if "vae.eps" in scorer or "vae.log_var" in scorer:
        want["scorer.vae.eps"], want["scorer.vae.log_var"] = (None, widths[-1]), (n_features,)
    if "latent.reference" in scorer:  # codes: one row per kept training row
        want["scorer.latent.reference"] = (None, None)
    want.update({f"scorer.{k}": (None,) for k in scorer if k.startswith("train.")})
    for name, shape in want.items():
        have = tuple(tensors[name].shape) if name in tensors else None
        fits = have is not None and len(have) == len(shape)
        if not fits or any(w is not None and w != h for w, h in zip(shape, have, strict=True)):
            wanted = "x".join("n" if w is None else str(w) for w in shape)
            raise ModelFileError(
                f"{path}: damaged model file (tensor {name}: needs {wanted}, "
                f"the file holds {_shape(have)})"
            )
    if "n_layers" in scorer and int(scorer["n_layers"].reshape(-1)[0]) != len(widths):
        raise ModelFileError(f"{path}: damaged model file (scorer.n_layers is not {len(widths)})")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "nothing" if shape is None else "x".join(map(str, shape)) or "a scalar"


def load_detector(path: str | os.PathLike[str]) -> AutoencoderDetector:
    """Load a detector written by :func:`save_detector`; scores are bit-identical."""
    return load_model(path)[0]


def load_model(path: str | os.PathLike[str]) -> tuple[AutoencoderDetector, dict[str, Any]]:
    """Load a detector and the file's metadata (as :func:`read_metadata`) in one read."""
    data, meta = read_file(path)
    tensors = _tensors(path, data, meta)
    parsed = parse_metadata(path, meta)
    _check_network(path, parsed, tensors)
    try:
        content = {"params": parsed["params"], "state": parsed["state"]}
        return AutoencoderDetector.from_state(content, tensors), parsed
    except ModelFileError:
        raise
    except Exception as exc:  # a checksummed file that still does not fit this version
        raise ModelFileError(f"{path}: model file does not match this aedetect: {exc}") from None
