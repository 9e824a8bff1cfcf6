"""Thresholds that turn scores into 0/1 labels: ``fit(scores) -> self``, ``threshold_``.

A score above ``threshold_`` is an anomaly. Every rule is a small object with the
same shape, so the estimator, the CLI and ``aedetect evaluate`` share them:

========================  ==========================================================
``quantile:0.99``         the 0.99 quantile of the scores
``contamination:0.1``     the ``1 - 0.1`` quantile (the estimator's default rule)
``ratio:0.0002``          a known anomaly ratio: the ``1 - 0.0002`` quantile
``fixed:0.05``            a fixed value
``fpr:0.01``              false-positive rate 1% on normal scores (held-out rows)
``mad:3``                 median + 3 robust standard deviations (1.4826 * MAD)
``iqr:1.5``               Tukey's fence: Q3 + 1.5 * IQR
``gpd:0.001``             a generalised Pareto tail fitted over the 0.9 quantile;
                          the threshold is where the tail p-value is 0.001
``gamma:0.001``           a gamma distribution fitted to all scores; p-value 0.001
``f1``                    the F1-optimal threshold (needs 0/1 labels)
========================  ==========================================================

The unsupervised rules (``mad``, ``iqr``, ``gpd``, ``gamma``) need no guess of the
contamination; ``gpd`` and ``gamma`` also give each score a p-value
(:meth:`TailThreshold.p_values`).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from aedetect.exceptions import ConfigError
from aedetect.params import THRESHOLD, Interval, validate

__all__ = [
    "RULES",
    "ContaminationThreshold",
    "F1Threshold",
    "FPRThreshold",
    "FixedThreshold",
    "IQRThreshold",
    "MADThreshold",
    "QuantileThreshold",
    "TailThreshold",
    "Threshold",
    "fit_rule",
    "parse_threshold",
    "threshold_rule",
]

log = logging.getLogger(__name__)

# Robust standard deviation of a normal sample = 1.4826 * MAD.
MAD_TO_SD = 1.4826


def _number(name: str, value: object, low: float | None, high: float | None, closed: str) -> float:
    validate({name: value}, {name: [Interval("real", low, high, closed)]})
    return float(value)


def _scores(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.size == 0:
        raise ConfigError("cannot fit a threshold on zero scores")
    if not np.isfinite(s).all():
        raise ConfigError("cannot fit a threshold: scores contain NaN or infinity")
    return s


class Threshold:
    """Base of the threshold rules: ``fit(scores) -> self`` sets ``threshold_``.

    ``needs_labels`` rules take ``fit(scores, y)``; ``needs_normal_scores`` rules
    should be fitted on scores of rows known to be normal (held-out validation
    rows in the estimator, label-0 rows in ``aedetect evaluate``).
    """

    needs_labels = False
    needs_normal_scores = False
    threshold_: float

    def fit(self, scores: np.ndarray, y: np.ndarray | None = None) -> Threshold:
        """Set ``threshold_`` from scores (and labels, for supervised rules)."""
        self.threshold_ = float(self._fit(_scores(scores), y))
        return self

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        raise NotImplementedError

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """1 for scores above ``threshold_``, 0 otherwise."""
        return (np.asarray(scores, dtype=np.float64) > self.threshold_).astype(int)

    def describe(self) -> str:
        """Say the rule in words (shown by ``info`` and the report)."""
        return self._words()

    def _words(self) -> str:
        raise NotImplementedError


class QuantileThreshold(Threshold):
    """Threshold at the ``q`` quantile of the scores.

    Parameters
    ----------
    q : float, default=0.99
        Quantile, in (0, 1).
    """

    def __init__(self, q: float = 0.99) -> None:
        self.q = q

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        return np.quantile(scores, _number("quantile", self.q, 0, 1, "neither"))

    def _words(self) -> str:
        return f"{self.q} quantile of the training scores"


class ContaminationThreshold(Threshold):
    """Threshold at the ``1 - contamination`` quantile of training scores.

    Parameters
    ----------
    contamination : float, default=0.1
        Expected share of anomalies in the training data, in (0, 0.5].
    known : bool, default=False
        Whether the share is a known anomaly ratio (only changes the wording).
    """

    def __init__(self, contamination: float = 0.1, known: bool = False) -> None:
        self.contamination = contamination
        self.known = known

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        validate({"contamination": self.contamination}, THRESHOLD)
        return np.quantile(scores, 1.0 - float(self.contamination))

    def _words(self) -> str:
        what = "known anomaly ratio" if self.known else "contamination"
        return f"{what} {self.contamination}: the {1 - self.contamination:.6g} quantile"


class FixedThreshold(Threshold):
    """A fixed threshold value (reference A used 0.05 on MNIST)."""

    def __init__(self, value: float = 0.05) -> None:
        self.value = value

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        return _number("fixed threshold", self.value, None, None, "neither")

    def _words(self) -> str:
        return f"fixed value {self.value}"


class FPRThreshold(Threshold):
    """Threshold for a target false-positive rate on scores of normal rows.

    At most a share ``fpr`` of the normal scores it is fitted on lie above it.
    """

    needs_normal_scores = True

    def __init__(self, fpr: float = 0.01) -> None:
        self.fpr = fpr

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        fpr = _number("fpr", self.fpr, 0.0, 1.0, "both")
        # 'higher' keeps the realised rate at or below the target on these scores.
        return np.quantile(scores, 1.0 - fpr, method="higher")

    def _words(self) -> str:
        return f"false-positive rate {self.fpr} on normal (held-out) scores"


class MADThreshold(Threshold):
    """Median + ``k`` robust standard deviations (``1.4826 * MAD``).

    Needs no contamination guess; robust to the anomalies it is looking for.
    """

    def __init__(self, k: float = 3.0) -> None:
        self.k = k

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        k = _number("mad k", self.k, 0.0, None, "neither")
        median = np.median(scores)
        mad = np.median(np.abs(scores - median))
        if mad == 0:  # more than half the scores are equal: fall back to the std
            mad = np.std(scores) / MAD_TO_SD
        return median + k * MAD_TO_SD * mad

    def _words(self) -> str:
        return f"median + {self.k} x 1.4826 MAD"


class IQRThreshold(Threshold):
    """Tukey's upper fence: ``Q3 + k * (Q3 - Q1)``."""

    def __init__(self, k: float = 1.5) -> None:
        self.k = k

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        k = _number("iqr k", self.k, 0.0, None, "left")
        q1, q3 = np.quantile(scores, [0.25, 0.75])
        return q3 + k * (q3 - q1)

    def _words(self) -> str:
        return f"Q3 + {self.k} x IQR"


class TailThreshold(Threshold):
    """A distribution fitted to the scores; the threshold has tail p-value ``alpha``.

    Parameters
    ----------
    distribution : {"gpd", "gamma"}, default="gpd"
        ``gpd``: peaks over threshold: a generalised Pareto distribution fitted to
        the excesses over the ``tail_start`` quantile (extreme-value theory says
        tails of most distributions look like this). ``gamma``: a gamma
        distribution fitted to all scores (squared errors are roughly gamma).
    alpha : float, default=0.001
        Tail probability at the threshold: a normal score exceeds it with
        probability ``alpha`` under the fitted model.
    tail_start : float, default=0.9
        Quantile above which the GPD is fitted.
    """

    def __init__(
        self, distribution: str = "gpd", alpha: float = 0.001, tail_start: float = 0.9
    ) -> None:
        self.distribution = distribution
        self.alpha = alpha
        self.tail_start = tail_start

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        alpha = _number(f"{self.distribution} alpha", self.alpha, 0.0, 1.0, "right")
        if self.distribution not in ("gpd", "gamma"):
            raise ConfigError(f"distribution must be gpd or gamma, got {self.distribution!r}")
        if self.distribution == "gamma" and np.ptp(scores) == 0:
            raise ConfigError(
                f"{self.distribution} threshold needs scores that vary; all {len(scores)} "
                f"are {scores[0]:.6g}: use fixed:VALUE or mad:3"
            )
        try:
            threshold = float(self._fit_tail(scores, alpha))
        except (ValueError, RuntimeError, FloatingPointError, OverflowError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{self.distribution} fit failed on these scores ({exc})") from None
        if not np.isfinite(threshold):
            raise ConfigError(f"{self.distribution} fit gave no finite threshold: use mad:3")
        return threshold

    def _fit_tail(self, scores: np.ndarray, alpha: float) -> float:
        from scipy import stats

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's optimiser chatters on odd data
            if self.distribution == "gamma":
                shift = min(0.0, float(scores.min()))
                x = scores - shift
                # The gamma likelihood needs x > 0: lift exact zeros a hair.
                x = np.maximum(x, 1e-9 * max(float(x.max()), 1e-300))
                a, _, scale = stats.gamma.fit(x, floc=0.0)
                self.params_ = {"a": float(a), "scale": float(scale), "shift": shift}
                return shift + stats.gamma.ppf(1.0 - alpha, a, scale=scale)
            u = float(np.quantile(scores, self.tail_start))
            excess = scores[scores > u] - u
            if len(excess) < 10 or np.ptp(excess) == 0:
                raise ConfigError(
                    f"gpd threshold needs at least 10 distinct scores above the "
                    f"{self.tail_start} quantile, got {len(excess)}; use more rows or mad:3"
                )
            c, _, scale = stats.genpareto.fit(excess, floc=0.0)
            zeta = len(excess) / len(scores)
            self.params_ = {"c": float(c), "scale": float(scale), "u": u, "zeta": zeta}
            if alpha >= zeta:  # the threshold lies below the fitted tail
                return np.quantile(scores, 1.0 - alpha)
            return u + stats.genpareto.ppf(1.0 - alpha / zeta, c, scale=scale)

    def p_values(self, scores: np.ndarray) -> np.ndarray:
        """Tail probability of each score under the fitted model (small = anomalous).

        For ``gpd``, scores below the tail's start get 1.
        """
        from scipy import stats

        s = np.asarray(scores, dtype=np.float64)
        p = self.params_
        if self.distribution == "gamma":
            return stats.gamma.sf(s - p["shift"], p["a"], scale=p["scale"])
        tail = p["zeta"] * stats.genpareto.sf(np.maximum(s - p["u"], 0.0), p["c"], scale=p["scale"])
        # Below the tail's start the tail model says nothing: report 1.
        return np.where(s > p["u"], tail, 1.0)

    def _words(self) -> str:
        what = "generalised Pareto tail" if self.distribution == "gpd" else "gamma fit"
        return f"{what}, p-value {self.alpha}"


class F1Threshold(Threshold):
    """The threshold that maximises F1 (anomaly = positive) given 0/1 labels."""

    needs_labels = True

    def _fit(self, scores: np.ndarray, y: np.ndarray | None) -> float:
        if y is None:
            raise ConfigError("threshold 'f1' needs 0/1 labels")
        labels = np.asarray(y).ravel()
        if labels.shape != scores.shape or not set(np.unique(labels)) <= {0, 1}:
            raise ConfigError("threshold 'f1' needs one 0/1 label per score")
        order = np.argsort(-scores, kind="stable")
        s, t = scores[order], labels[order].astype(np.int64)
        tp = np.cumsum(t)  # flagging the k + 1 highest scores
        k = np.arange(1, len(s) + 1)
        f1 = 2 * tp / (k + t.sum())
        # Only cut where the next score is strictly lower (ties go together).
        valid = np.r_[s[1:] < s[:-1], True]
        f1 = np.where(valid, f1, -1.0)
        best = int(np.argmax(f1))
        self.f1_ = float(f1[best])
        return s[best + 1] if best + 1 < len(s) else np.nextafter(s[-1], -np.inf)

    def _words(self) -> str:
        return "F1-optimal on the labels"


RULES = ("quantile", "contamination", "ratio", "fixed", "fpr", "mad", "iqr", "gpd", "gamma", "f1")
_DEFAULTS = {"quantile": 0.99, "contamination": 0.1, "mad": 3.0, "iqr": 1.5, "gpd": 0.001}
_DEFAULTS.update({"gamma": 0.001, "fpr": 0.01})


def parse_threshold(text: str) -> Threshold:
    """Build a rule from its text form, e.g. ``mad:3``, ``fpr:0.01``, ``f1``.

    Raises :class:`ConfigError` naming the rule and the value received.
    """
    if not isinstance(text, str):
        raise ConfigError(f"threshold must be a rule such as 'mad:3', got {text!r}")
    name, sep, arg = text.strip().partition(":")
    name = name.strip().lower()
    if name not in RULES:
        raise ConfigError(f"threshold rule must be one of {', '.join(RULES)}, got {text!r}")
    if name == "f1":
        if arg.strip():
            raise ConfigError(f"threshold rule 'f1' takes no value, got {text!r}")
        return F1Threshold()
    if not arg.strip():
        if name not in _DEFAULTS:
            raise ConfigError(f"threshold rule {name!r} needs a value, e.g. '{name}:0.05'")
        value = _DEFAULTS[name]
    else:
        try:
            value = float(arg)
        except ValueError:
            raise ConfigError(f"threshold {text!r}: {arg.strip()!r} is not a number") from None
    rule = _build(name, value)
    _validate(rule, text)
    return rule


def _build(name: str, value: float) -> Threshold:
    if name == "quantile":
        return QuantileThreshold(value)
    if name in ("contamination", "ratio"):
        return ContaminationThreshold(value, known=name == "ratio")
    if name == "fixed":
        return FixedThreshold(value)
    if name == "fpr":
        return FPRThreshold(value)
    if name == "mad":
        return MADThreshold(value)
    if name == "iqr":
        return IQRThreshold(value)
    return TailThreshold(name, value)


def _validate(rule: Threshold, text: str) -> None:
    """Check the rule's value before any fitting, so bad options fail early."""
    try:
        rule.fit(np.linspace(0.0, 1.0, 256), np.r_[np.zeros(240), np.ones(16)])
    except ConfigError as exc:
        raise ConfigError(f"threshold {text!r}: {exc}") from None


#: The rule used when neither ``threshold`` nor ``contamination`` is given: it
#: needs no guess of the anomaly share (chosen on ADBench: BENCHMARKS.md).
DEFAULT_RULE = "iqr:1.5"


def threshold_rule(
    threshold: str | None,
    contamination: float | None,
    scoring: str | None = None,
    ensemble_method: str | None = None,
) -> Threshold:
    """Return the estimator's rule: ``threshold`` parsed, else the contamination quantile.

    With neither, :data:`DEFAULT_RULE` (Tukey's fence on the training scores),
    except for the ``ensemble`` score by ``rank`` or ``zscore``: those scores are
    spread evenly by construction, where a fence flags nothing; it keeps the 0.9
    quantile. The ``logz`` ensemble is on its first part's scale and takes the fence.
    """
    if threshold is None and contamination is None:
        if scoring == "ensemble" and ensemble_method != "logz":
            return ContaminationThreshold(0.1)
        return parse_threshold(DEFAULT_RULE)
    if threshold is None:
        validate({"contamination": contamination}, THRESHOLD)
        return ContaminationThreshold(contamination)
    validate({"threshold": threshold}, THRESHOLD)
    return parse_threshold(threshold)


def fit_rule(
    rule: Threshold,
    scores: np.ndarray,
    normal_scores: np.ndarray | None = None,
    y: np.ndarray | None = None,
    name: str = "threshold",
) -> Threshold:
    """Fit ``rule`` on what it needs: labels, scores of normal rows, or all the scores.

    ``normal_scores`` are scores of rows known to be normal (held-out rows); a
    rule that wants them falls back to ``scores`` with a warning. ``name`` says
    the rule in messages (e.g. ``threshold='f1'``).
    """
    if rule.needs_labels:
        if y is None:
            raise ConfigError(f"{name} needs 0/1 labels: fit(X, y), or a label_column")
        return rule.fit(scores, np.asarray(y))
    if rule.needs_normal_scores:
        if normal_scores is None:
            log.warning(
                "%s wants held-out normal rows but validation_fraction gives none; "
                "using the training scores",
                name,
            )
        return rule.fit(scores if normal_scores is None else normal_scores)
    return rule.fit(scores)
