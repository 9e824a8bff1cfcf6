import numpy as np
import pytest
from sklearn.metrics import (
    auc,
    average_precision_score,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from aedetect.exceptions import DataError
from aedetect.metrics import evaluate, separation, threshold_sweep


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(0)
    labels = (rng.random(500) < 0.08).astype(int)
    scores = rng.normal(size=500) + 1.5 * labels
    return labels, scores


def test_evaluate_matches_scikit_learn(scored):
    y, s = scored
    m = evaluate(y, s, threshold=1.0)
    pred = (s > 1.0).astype(int)
    precision, recall, _ = precision_recall_curve(y, s)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, s))
    assert m["average_precision"] == pytest.approx(average_precision_score(y, s))
    assert m["pr_auc"] == pytest.approx(auc(recall, precision))
    assert m["f1"] == pytest.approx(f1_score(y, pred))
    assert m["precision"] == pytest.approx(precision_score(y, pred))
    assert m["recall"] == pytest.approx(recall_score(y, pred))
    assert m["tp"] + m["fn"] == y.sum() and m["tp"] + m["fp"] == pred.sum()
    top = np.argsort(-s)[: y.sum()]
    assert m["precision_at_k"] == pytest.approx(y[top].mean())


def test_separation_statistic():
    y = np.r_[np.zeros(4), np.ones(4)]
    s = np.r_[[0, 0, 2, 2], [4, 4, 6, 6]]  # means 1 and 5, variances 1 and 1
    assert separation(y, s) == pytest.approx(16 / 2)


def test_sweep_counts_what_each_threshold_rejects(scored):
    y, s = scored
    sweep = threshold_sweep(y, s, step=0.01)
    assert np.allclose(np.diff(sweep["threshold"]), 0.01)
    row = sweep.iloc[len(sweep) // 2]
    t = row["threshold"]
    assert row["outliers_rejected"] == pytest.approx((s[y == 1] > t).mean())
    assert row["inliers_rejected"] == pytest.approx((s[y == 0] > t).mean())
    assert row["f1"] == pytest.approx(f1_score(y, s > t))
    assert sweep["outliers_rejected"].is_monotonic_decreasing


def test_bad_labels_name_the_row():
    with pytest.raises(DataError, match="row 3 has 2"):
        evaluate([0, 1, 2], [0.1, 0.2, 0.3], 0.5)
    with pytest.raises(DataError, match="all 0"):
        evaluate([0, 0], [0.1, 0.2], 0.5)
    with pytest.raises(DataError, match="3 rows but scores have 2"):
        evaluate([0, 1, 1], [0.1, 0.2], 0.5)
