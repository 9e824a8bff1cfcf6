import numpy as np
import pytest

from aedetect.exceptions import ConfigError
from aedetect.thresholds import (
    ContaminationThreshold,
    F1Threshold,
    FPRThreshold,
    IQRThreshold,
    MADThreshold,
    TailThreshold,
    parse_threshold,
)


def test_threshold_flags_the_contaminated_share():
    scores = np.arange(1000, dtype=float)
    thr = ContaminationThreshold(0.05).fit(scores).threshold_
    assert thr == pytest.approx(np.quantile(scores, 0.95))
    assert (scores > thr).sum() == 50


@pytest.mark.parametrize("bad", [0, 0.6, -0.1, "0.1", True])
def test_contamination_outside_range_is_refused(bad):
    with pytest.raises(ConfigError, match="contamination must be in"):
        ContaminationThreshold(bad).fit(np.arange(10.0))


def test_known_ratio_reproduces_reference_c_quantile():
    scores = np.arange(25_005, dtype=float)
    rule = parse_threshold("ratio:0.0002").fit(scores)
    assert rule.threshold_ == pytest.approx(np.quantile(scores, 0.9998))
    assert (scores > rule.threshold_).sum() == 6  # the reference's "about 6 rows"
    assert "known anomaly ratio" in rule.describe()


def test_fixed_and_quantile():
    scores = np.linspace(0, 1, 101)
    assert parse_threshold("fixed:0.05").fit(scores).threshold_ == 0.05
    assert parse_threshold("quantile:0.9").fit(scores).threshold_ == pytest.approx(0.9)


def test_mad_on_a_normal_sample_is_mean_plus_k_sigma():
    rng = np.random.default_rng(0)
    scores = rng.normal(10.0, 2.0, 200_000)
    thr = MADThreshold(3).fit(scores).threshold_
    assert thr == pytest.approx(16.0, abs=0.05)


def test_mad_ignores_a_few_huge_outliers():
    scores = np.r_[np.random.default_rng(1).normal(0, 1, 10_000), np.full(50, 1e6)]
    assert MADThreshold(3).fit(scores).threshold_ == pytest.approx(3.0, abs=0.1)


def test_iqr_is_tukeys_fence():
    scores = np.arange(1, 101, dtype=float)  # Q1 = 25.75, Q3 = 75.25
    assert IQRThreshold(1.5).fit(scores).threshold_ == pytest.approx(75.25 + 1.5 * 49.5)


def test_fpr_threshold_keeps_false_positives_at_or_below_target():
    normal = np.random.default_rng(2).exponential(size=5000)
    rule = FPRThreshold(0.01).fit(normal)
    assert (normal > rule.threshold_).mean() <= 0.01
    assert (normal > rule.threshold_).mean() > 0.008
    assert rule.needs_normal_scores


@pytest.mark.parametrize("dist", ["gpd", "gamma"])
def test_tail_thresholds_recover_the_exponential_quantile(dist):
    # For Exp(1), P(X > t) = 0.001 at t = ln(1000) = 6.91; both fits should get close.
    scores = np.random.default_rng(3).exponential(size=50_000)
    rule = TailThreshold(dist, 0.001).fit(scores)
    assert rule.threshold_ == pytest.approx(np.log(1000), rel=0.08)
    p = rule.p_values(np.array([rule.threshold_, 20.0]))
    assert p[0] == pytest.approx(0.001, rel=0.05)
    assert p[1] < 1e-6


def test_f1_threshold_is_optimal_on_separable_scores():
    scores = np.r_[np.linspace(0, 1, 95), [5, 6, 7, 8, 9]]
    labels = np.r_[np.zeros(95), np.ones(5)]
    rule = F1Threshold().fit(scores, labels)
    assert 1.0 <= rule.threshold_ < 5.0
    assert rule.f1_ == 1.0
    # A noisy case: the chosen cut maximises F1 over every possible cut.
    rng = np.random.default_rng(4)
    labels = (rng.random(300) < 0.1).astype(int)
    scores = rng.normal(size=300) + 2 * labels
    rule = F1Threshold().fit(scores, labels)
    best = max(
        2 * ((scores > t) & (labels == 1)).sum() / ((scores > t).sum() + labels.sum())
        for t in np.r_[scores, scores.min() - 1]
    )
    pred = scores > rule.threshold_
    f1 = 2 * (pred & (labels == 1)).sum() / (pred.sum() + labels.sum())
    assert f1 == pytest.approx(best)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope:1", "threshold rule must be one of"),
        ("mad:x", "'x' is not a number"),
        ("quantile:1.5", r"quantile must be in \(0, 1\), got 1.5"),
        ("fpr:2", r"fpr must be in \[0.0, 1.0\], got 2.0"),
        ("fixed", "needs a value"),
        ("f1:2", "takes no value"),
    ],
)
def test_bad_rules_name_the_problem(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_threshold(text)


def test_bare_names_take_documented_defaults():
    assert parse_threshold("mad").k == 3.0
    assert parse_threshold("iqr").k == 1.5
    assert parse_threshold("gpd").alpha == 0.001
