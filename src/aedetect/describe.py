"""One description of a fitted model, shared by ``info``, ``run``'s summary and the report.

Built from plain data only: the estimator's parameters (``get_params()`` or a
model file's ``params``), its fitted state (image shape, encoded width,
history, threshold). A model file can be described without building the
detector; a live detector through :meth:`ModelFacts.from_detector` (public
attributes only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelFacts", "series_lines"]

_KIND_WORDS = {
    "ae": "autoencoder",
    "conv": "conv autoencoder",
    "vae": "variational AE",
    "conv-vae": "conv variational AE",
    "conv1d": "1-D conv autoencoder over windows",
    "lstm": "LSTM encoder-decoder over windows",
}


def _join(values: Sequence[Any], sep: str = ",") -> str:
    return sep.join(map(str, values))


def _as_built(params: Mapping[str, Any], spec: Any) -> dict[str, Any]:
    """Return ``params`` with the widths and members the network was built with.

    ``spec``: the model spec (an object or a model file's dict); a default may
    widen the network or add members. Values that are not plain positive
    integers (a damaged file) leave the parameter as it is.
    """
    out = dict(params)

    def field(name: str) -> Any:
        return spec.get(name) if isinstance(spec, Mapping) else getattr(spec, name, None)

    def count(h: Any) -> bool:
        return isinstance(h, int) and not isinstance(h, bool) and h > 0

    hidden, members = field("hidden"), field("members")
    if isinstance(hidden, list | tuple) and hidden and all(count(h) for h in hidden):
        out["hidden"] = list(hidden)
    if count(members):
        out["members"] = members
    return out


@dataclass(frozen=True)
class ModelFacts:
    """What a fitted model is: parameters, input width, image shape, training, threshold."""

    params: Mapping[str, Any]
    n_inputs: int
    image_shape: tuple[int, ...] | None = None
    history: Mapping[str, Any] = field(default_factory=dict)
    threshold: float = float("nan")
    threshold_rule: str = ""

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> ModelFacts:
        """Facts of a model file, from :func:`aedetect.persistence.read_metadata`'s dict."""
        params, state = meta["params"], meta["state"]
        cols = state["encoder"]["columns"]
        shape = state.get("image_shape")
        return cls(
            params=_as_built(params, state.get("model_spec") or {}),
            n_inputs=cols[-1]["stop"] if cols else 0,
            image_shape=None if shape is None else tuple(shape),
            history=state["history"],
            threshold=float(state["threshold"]),
            threshold_rule=state.get("threshold_rule") or "",
        )

    @classmethod
    def from_detector(cls, det: Any) -> ModelFacts:
        """Facts of a fitted detector, read from its public parameters and fitted attributes."""
        shape = getattr(det, "image_shape_", None)
        spec = getattr(det, "spec_", None)
        return cls(
            params=_as_built(det.get_params(deep=False), spec),
            n_inputs=int(det.encoder_.n_features_out_),
            image_shape=None if shape is None else tuple(shape),
            history=det.history_.to_dict(),
            threshold=float(det.threshold_),
            threshold_rule=getattr(det, "threshold_rule_", "") or "",
        )

    # ------------------------------------------------------------ network
    @property
    def kind(self) -> str:
        """``dense``, ``conv`` (convolutional autoencoder) or ``conv-vae``."""
        p = self.params
        if p.get("model") == "conv-vae":
            return "conv-vae"
        return "conv" if "conv" in (p.get("architecture"), p.get("model")) else "dense"

    def _shape(self) -> str:
        return "x".join(map(str, self.image_shape or ()))

    def network(self, style: str = "arrows") -> str:
        """Describe the network in words.

        ``arrows`` (``info``): ``64 -> 32 -> 4 -> ... -> 64``; ``short`` (``run``'s
        summary): ``64-32-4-...``; ``full`` (the report): every layer width, or
        for a convolutional network its encoder, decoder and kernel. Several
        members: ``3 x`` before it.
        """
        members = self.params.get("members")
        text = self._network(style)
        return f"{members} x {text}" if isinstance(members, int) and members > 1 else text

    def _network(self, style: str) -> str:
        p, kind = self.params, self.kind
        hidden = list(p.get("hidden") or ())
        if p.get("model") in ("conv1d", "lstm"):  # over series windows
            window, channels = p.get("series_shape") or (0, 0)
            return f"{p['model']} over windows {window}x{channels}: {_join(hidden)}"
        if kind == "conv-vae":  # hidden = conv channels, then the latent width
            if style == "short":
                return f"conv-vae {self._shape()} -> {_join(hidden[:-1])} -> {hidden[-1]} -> ..."
            return f"conv-vae {self._shape()}: encoder {_join(hidden[:-1])}, latent {hidden[-1]}"
        if kind == "conv":
            decoder = p.get("conv_decoder")
            dec = _join(decoder) if decoder else "mirror"
            if style == "short":
                return f"conv {self._shape()} -> {_join(p['conv_encoder'])} -> ..."
            text = f"conv {self._shape()}: encoder {_join(p['conv_encoder'])}, decoder {dec}"
            return text + (f", kernel {p.get('kernel_size')}" if style == "full" else "")
        if style == "short":
            return f"{self.n_inputs}-{_join(hidden, '-')}-..."
        if style == "full":
            widths = [self.n_inputs, *hidden]
            return " → ".join(map(str, widths + widths[-2::-1]))
        return f"{self.n_inputs} -> {' -> '.join(map(str, hidden))} -> ... -> {self.n_inputs}"

    def activations(self) -> str:
        """``relu, output identity`` (a per-layer activation list joined with /)."""
        act = self.params.get("activation")
        act = act if isinstance(act, str) else "/".join(act or ())
        return f"{act}, output {self.params.get('output_activation')}"

    # ----------------------------------------------------------- training
    def epochs(self) -> int:
        """Epochs trained (by the longest-trained member of an ensemble)."""
        return len(self.history.get("train_loss") or ())

    def _epochs_text(self) -> str:
        members = self.params.get("members")
        each = isinstance(members, int) and members > 1  # the members' mean losses
        return f"{self.epochs()} epochs" + (" each" if each else "")

    def score_words(self) -> str:
        """``reconstruction (autoencoder); higher = more anomalous``."""
        kind = self.params.get("model", "ae")
        score = self.params.get("scoring", "reconstruction")
        return f"{score} ({_KIND_WORDS.get(kind, kind)}); higher = more anomalous"

    def info_lines(self) -> list[tuple[str, str]]:
        """Return the network, training, model/score and threshold lines of ``info``."""
        p, h = self.params, self.history
        val = h.get("val_loss") or []
        rule = self.threshold_rule or f"contamination {p.get('contamination')}"
        return [
            ("network", f"{self.network('arrows')} ({self.activations()})"),
            (
                "training",
                f"{self._epochs_text()}, best {h['best_epoch']}, {h['seconds']:.1f}s, "
                f"final loss {h['train_loss'][-1]:.4g}" + (f", val {min(val):.4g}" if val else ""),
            ),
            ("model, score", f"{p.get('model', 'ae')}, {p.get('scoring', 'reconstruction')}"),
            ("threshold", f"{self.threshold:.6g} ({rule})"),
        ]

    def summary_line(self) -> str:
        """Return ``run``'s model line: network, epochs, best epoch, seconds."""
        h = self.history
        return (
            f"{self.network('short')} trained {self._epochs_text()} "
            f"(best {h['best_epoch']}) in {h['seconds']:.1f}s"
        )

    def report_lines(self) -> list[tuple[str, str]]:
        """Return the report's "Model and training" card."""
        p, h = self.params, self.history
        ended = "stopped early" if h.get("stopped_early") else "ran to the end"
        clip = p.get("clip")
        scaling = p.get("scaling")
        return [
            ("Network", f"{self.network('full')} ({self.activations()})"),
            (
                "Training",
                f"{self._epochs_text()} (best {h['best_epoch']}, {ended}) in {h['seconds']:.1f}s",
            ),
            (
                "Optimiser",
                f"{p.get('optimizer')}, lr {p.get('lr')}, batch {p.get('batch_size')}, "
                f"loss {p.get('loss')}",
            ),
            ("Scaling", f"{scaling}, inputs clipped at {clip} sd" if clip else str(scaling)),
            ("Threshold", f"{self.threshold:.6g}: {self.threshold_rule}"),
            ("Score", self.score_words()),
            ("Seed", str(p.get("random_state"))),
        ]


def series_lines(extra: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the series lines of ``info``, the summary and the report (a model's ``extra``)."""
    s = extra["series"]
    p = s["params"]
    time = (
        f"column {s['time_column']!r}, step {s['step']}, {s['gaps']} gap(s), last {s['last_time']}"
        if s.get("time_column")
        else "row order"
    )
    suppress = f"; one alarm per {p['suppress']} windows" if p["suppress"] else ""
    error = {"both": "last-row and window errors", "last": "last-row error"}.get(
        p["error"], "window error"
    )
    history = f"z-scores vs the previous {p['history']} windows" if p["history"] else "raw"
    if p.get("range_tolerance") is not None:
        history += f", at least 50 beyond the seen range by {p['range_tolerance']:g} of its width"
    return [
        ("window", f"{s['window']} rows, {s['window_source']}; stride {s['stride']}"),
        ("values", ", ".join(s["channels"])),
        ("time", time),
        ("series score", f"{error}, {history}{suppress}"),
        ("threshold", f"{s['threshold']:.6g} ({s['threshold_rule']})"),
        ("training", f"{s['n_rows']} rows, {s['flagged']} flagged"),
    ]
