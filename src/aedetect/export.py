"""Export a fitted detector to ONNX: the encoding, the network and the score in one graph.

The graph takes the raw columns and returns what ``aedetect score`` gives:

- input ``numbers``: float64, shape (n, k), the model's numeric columns in order
  (NaN for a missing value when the model imputes);
- input ``tokens``: string, shape (n, m), its categorical columns and, for a
  sequence column, one column per position (``sequence[1]``, ``sequence[2]``, ...);
- output ``score``: float64, shape (n,), higher = more anomalous;
- output ``is_anomaly``: int64, shape (n,), 1 above the model's threshold.

Inside the graph: imputation of missing numbers (and its indicator), scaling,
the one-hot blocks of the known categories with their "unseen" slot, the
ordinal codes of sequence tokens, the clipping of the network's input, the
network, and the weighted squared error. Left to the caller (pre-processing,
described in the file's metadata): reading the file, splitting a sequence
value into its tokens (characters, or parts between ``token_sep``; a short one
padded with ``""``, a long one cut to ``length - 1`` tokens then ``""``), and
for an imputing model a missing category sent as ``""``.

Only ``scoring="reconstruction"`` exports (the other scores need state the
graph does not hold). The network part is traced with torch's ONNX exporter;
the rest is written with :mod:`onnx.helper`.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aedetect._version import __version__
from aedetect.exceptions import ConfigError
from aedetect.outputs import write_bytes

__all__ = ["OPSET", "OnnxExport", "export_model", "to_onnx"]

#: ONNX opset of the exported graph (string comparison needs 19).
OPSET = 19


@dataclass
class OnnxExport:
    """An exported model: the ONNX bytes and what its inputs hold."""

    data: bytes
    numbers: list[str]
    tokens: list[str]
    sequences: dict[str, dict[str, Any]]
    threshold: float
    path: Path | None = None

    def message(self) -> str:
        """Return the line ``aedetect export`` prints."""
        parts = []
        if self.numbers:
            parts.append(f"numbers (n x {len(self.numbers)} float64)")
        if self.tokens:
            parts.append(f"tokens (n x {len(self.tokens)} string)")
        where = f" to {self.path}" if self.path is not None else ""
        return (
            f"exported{where} ({len(self.data) / 1024:.0f} KiB): inputs "
            + ", ".join(parts)
            + "; outputs score, is_anomaly"
        )


# ------------------------------------------------------------- the network
def _network(det: Any) -> bytes:
    """Return the clipped network and the weighted error as an ONNX model (input ``encoded``)."""
    import torch

    from aedetect.models.ensemble import mean_of, members_of

    enc = det.encoder_
    low, high = (torch.from_numpy(b) for b in enc.clip_bounds())
    weights = torch.from_numpy(enc.feature_weights_)
    divisor = float(len(enc.columns_)) if det.reduction == "mean" else 1.0
    kind = det.spec_.kind
    shape = det.image_shape_ if kind in ("conv", "conv-vae") else None

    members = members_of(det.module_)

    class ScoreHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.module = det.module_
            self.register_buffer("low", low)
            self.register_buffer("high", high)
            self.register_buffer("weights", weights)
            self.register_buffer(
                "threshold", torch.tensor(float(det.threshold_), dtype=torch.float64)
            )

        @staticmethod
        def rebuilt(m: torch.nn.Module, clipped: torch.Tensor) -> torch.Tensor:
            # Images in and flat rows out with -1, so that no batch size is traced.
            if kind == "conv":
                return m(clipped.reshape(-1, *shape)).reshape(-1, clipped.shape[1])
            if kind == "conv-vae":  # in evaluation: the decoded mean of the code
                return m.decoder(m.mu(m.encoder(clipped.reshape(-1, *shape)).flatten(1))).flatten(1)
            return m(clipped)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            clipped = torch.minimum(torch.maximum(x, self.low), self.high)
            # An ensemble's score: the mean of its members' errors.
            err = mean_of([(self.rebuilt(m, clipped) - x).square() @ self.weights for m in members])
            score = (err / divisor if divisor != 1.0 else err).double()
            return score, (score > self.threshold).long()

    head = ScoreHead().eval()
    example = torch.zeros(2, int(enc.n_features_out_), dtype=torch.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            head,
            (example,),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=["encoded"],
            output_names=["score", "is_anomaly"],
            dynamic_axes={"encoded": {0: "n"}, "score": {0: "n"}, "is_anomaly": {0: "n"}},
        )
    return buffer.getvalue()


# --------------------------------------------------------- the encoding
class _Graph:
    """Nodes and constants of the pre-processing graph, with unique names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"pre_{stem}_{self._n}"

    def const(self, values: Any, dtype: Any, shape: list[int] | None = None) -> str:
        from onnx import helper, numpy_helper

        name = self.name("c")
        if dtype is str:
            flat = [str(v).encode() for v in np.asarray(values, dtype=object).ravel()]
            dims = shape if shape is not None else [len(flat)]
            from onnx import TensorProto

            self.inits.append(helper.make_tensor(name, TensorProto.STRING, dims, flat))
        else:
            arr = np.asarray(values, dtype=dtype)
            if shape is not None:
                arr = arr.reshape(shape)
            self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out


def _columns(enc: Any) -> tuple[list[Any], list[Any], set[str]]:
    """Numeric input columns, token input columns, and the ordinal sequence positions."""
    ordinal: set[str] = set()
    if enc.sequence_encoding == "ordinal":
        for name, seq in enc.sequences_.items():
            ordinal |= {f"{name}[{i}]" for i in range(1, int(seq["length"]) + 1)}
    numbers = [c for c in enc.columns_ if c.kind == "numeric" and c.name not in ordinal]
    tokens = [c for c in enc.columns_ if c.kind != "numeric" or c.name in ordinal]
    return numbers, tokens, ordinal


def _alphabets(enc: Any) -> dict[str, list[str]]:
    return {
        f"{name}[{i}]": list(seq["alphabet"])
        for name, seq in enc.sequences_.items()
        for i in range(1, int(seq["length"]) + 1)
    }


def _token_column(g: _Graph, j: int) -> str:
    return g.op("Gather", ["tokens", g.const([j], np.int64)], axis=1)


def _numeric_block(g: _Graph, enc: Any, numbers: list[Any], tokens: list[Any], ordinal: set[str]):
    """Scaled numbers (and NaN indicators): (name, positions) pieces of the encoding."""
    from onnx import TensorProto

    cols = [c for c in enc.columns_ if c.kind == "numeric"]
    if not cols:
        return []
    sources, order = [], []
    if numbers:
        sources.append("numbers")
        order += [c.name for c in numbers]
    alphabets = _alphabets(enc)
    for j, c in enumerate(tokens):
        if c.name in ordinal:  # token -> its code in the alphabet, -1 when unseen
            alphabet = alphabets[c.name]
            eq = g.op(
                "Cast",
                [g.op("Equal", [_token_column(g, j), g.const(alphabet, str, [1, len(alphabet)])])],
                to=TensorProto.DOUBLE,
            )
            idx = g.op(
                "MatMul", [eq, g.const(np.arange(len(alphabet)), np.float64, [len(alphabet), 1])]
            )
            hits = g.op("ReduceSum", [eq, g.const([1], np.int64)], keepdims=1)
            sources.append(g.op("Sub", [g.op("Add", [idx, hits]), g.const([1.0], np.float64)]))
            order.append(c.name)
    raw = sources[0] if len(sources) == 1 else g.op("Concat", sources, axis=1)
    where = {name: k for k, name in enumerate(order)}
    perm = [where[c.name] for c in cols]
    if perm != list(range(len(perm))):
        raw = g.op("Gather", [raw, g.const(perm, np.int64)], axis=1)
    pieces = []
    if enc.missing == "impute":
        nan = g.op("IsNaN", [raw])
        raw = g.op("Where", [nan, g.const([c.fill for c in cols], np.float64), raw])
        indicator = g.op("Cast", [nan], to=TensorProto.FLOAT)
    offset = g.const([c.offset for c in cols], np.float64)
    starts = [c.start for c in cols]
    if starts[-1] - starts[0] == len(starts) - 1:  # as the encoder: float32 division
        shifted = g.op("Cast", [g.op("Sub", [raw, offset])], to=TensorProto.FLOAT)
        scaled = g.op("Div", [shifted, g.const([c.scale for c in cols], np.float32)])
    else:
        divided = g.op(
            "Div", [g.op("Sub", [raw, offset]), g.const([c.scale for c in cols], np.float64)]
        )
        scaled = g.op("Cast", [divided], to=TensorProto.FLOAT)
    pieces.append((scaled, starts))
    if enc.missing == "impute":
        pieces.append((indicator, [s + 1 for s in starts]))
    return pieces


def _category_block(g: _Graph, enc: Any, j: int, c: Any, sequence: bool):
    """One categorical column's one-hot block (and missing indicator)."""
    from onnx import TensorProto

    col = _token_column(g, j)
    extra = []
    if enc.missing == "impute" and not sequence:
        missing = g.op("Equal", [col, g.const([""], str, [1, 1])])
        col = g.op("Where", [missing, g.const([c.fill], str, [1, 1]), col])
        extra = [g.op("Cast", [missing], to=TensorProto.FLOAT)]
    k = len(c.categories)
    hot = g.op(
        "Cast", [g.op("Equal", [col, g.const(c.categories, str, [1, k])])], to=TensorProto.FLOAT
    )
    seen = g.op("ReduceSum", [hot, g.const([1], np.int64)], keepdims=1)
    unseen = g.op("Sub", [g.const([1.0], np.float32), seen])
    block = g.op("Concat", [hot, unseen, *extra], axis=1)
    return block, list(range(c.start, c.stop))


def _encoding(det: Any) -> tuple[Any, list[str], list[str]]:
    """Build the pre-processing graph: ``numbers`` / ``tokens`` in, ``encoded`` (float32) out."""
    from onnx import TensorProto, helper

    enc = det.encoder_
    numbers, tokens, ordinal = _columns(enc)
    g = _Graph()
    pieces = _numeric_block(g, enc, numbers, tokens, ordinal)
    positions_names = set(_alphabets(enc))
    for j, c in enumerate(tokens):
        if c.name not in ordinal:
            pieces.append(_category_block(g, enc, j, c, c.name in positions_names))
    names = [p[0] for p in pieces]
    positions = [pos for p in pieces for pos in p[1]]
    if sorted(positions) != list(range(enc.n_features_out_)):
        raise ConfigError("this model's encoding cannot be exported (its columns overlap)")
    joined = names[0] if len(names) == 1 else g.op("Concat", names, axis=1)
    where = {pos: k for k, pos in enumerate(positions)}
    perm = [where[p] for p in range(enc.n_features_out_)]
    g.nodes.append(
        helper.make_node("Gather", [joined, g.const(perm, np.int64)], ["encoded"], axis=1)
    )
    inputs = []
    if numbers:
        inputs.append(
            helper.make_tensor_value_info("numbers", TensorProto.DOUBLE, ["n", len(numbers)])
        )
    if tokens:
        inputs.append(
            helper.make_tensor_value_info("tokens", TensorProto.STRING, ["n", len(tokens)])
        )
    out = helper.make_tensor_value_info("encoded", TensorProto.FLOAT, ["n", enc.n_features_out_])
    graph = helper.make_graph(g.nodes, "aedetect_encoding", inputs, [out], initializer=g.inits)
    return graph, [c.name for c in numbers], [c.name for c in tokens]


# ------------------------------------------------------------------ api
def to_onnx(det: Any) -> OnnxExport:
    """Export a fitted detector as one ONNX model (see the module's docstring).

    Raises
    ------
    ConfigError
        The model scores with something other than ``reconstruction``, or the
        ``onnx`` package is missing.
    """
    det._check_fitted()
    if det.scoring != "reconstruction":
        raise ConfigError(
            f"only scoring='reconstruction' exports to ONNX; this model scores with {det.scoring!r}"
        )
    try:
        import onnx
        from onnx import compose, helper
    except ImportError:
        raise ConfigError("ONNX export needs the onnx package: install aedetect[export]") from None
    graph, numbers, tokens = _encoding(det)
    pre = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    net = onnx.load_from_string(_network(det))
    pre.ir_version = net.ir_version
    model = compose.merge_models(pre, net, io_map=[("encoded", "encoded")])
    enc = det.encoder_
    sequences = {
        name: {"length": int(seq["length"]), "token_sep": enc.token_sep}
        for name, seq in enc.sequences_.items()
    }
    meta = {
        "aedetect_version": __version__,
        "numbers": json.dumps(numbers),
        "tokens": json.dumps(tokens),
        "sequences": json.dumps(sequences),
        "threshold": repr(float(det.threshold_)),
        "missing": enc.missing,
    }
    helper.set_model_props(model, {f"aedetect.{k}": v for k, v in meta.items()})
    model.producer_name, model.producer_version = "aedetect", __version__
    onnx.checker.check_model(model)
    return OnnxExport(model.SerializeToString(), numbers, tokens, sequences, float(det.threshold_))


def export_model(model: str | os.PathLike[str], output: str | os.PathLike[str]) -> OnnxExport:
    """Load a model file (checked as ``aedetect score`` does) and write its ONNX export.

    The file is written whole or not at all (:func:`aedetect.outputs.write_bytes`).

    Raises
    ------
    ConfigError
        The model is a time-series model (scored by ``aedetect score`` only), or
        :func:`to_onnx` refuses it; nothing is written.
    """
    from aedetect.outputs import check_target
    from aedetect.persistence import load_model
    from aedetect.serve.registry import refuse_series

    check_target(output)
    det, meta = load_model(model)
    refuse_series(model, dict(meta.get("extra") or {}), "exported to ONNX")
    result = to_onnx(det)
    write_bytes(output, result.data)
    result.path = Path(output)
    return result
