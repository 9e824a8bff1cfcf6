"""scikit-learn's estimator checks, as far as an outlier detector with 0/1 labels can pass them."""

import numpy as np
from sklearn.utils.estimator_checks import check_estimator

from aedetect import AutoencoderDetector

# Checks that encode scikit-learn's own outlier convention, which aedetect does not
# follow on purpose: predict gives 0 (normal) / 1 (anomaly) as in PyOD and the
# issue, not -1 / +1, and decision_function is "higher = more anomalous", not
# "negative = outlier".
EXPECTED_FAILURES = {
    "check_outliers_train": "predict returns 0/1, not -1/+1; higher score = more anomalous",
    "check_outliers_fit_predict": "fit_predict returns 0/1, not -1/+1",
    # float32 matrix products take other kernels for 1 row than for 20, so a score
    # can move in its 7th digit (seen: 1 of 20 rows, 2.4e-7 relative); scikit-learn
    # asks for 1e-7. test_scores_do_not_depend_on_the_batch checks it at 1e-5.
    "check_methods_subset_invariance": "float32 rounding differs by batch size, below 1e-6",
}


def test_check_estimator():
    results = check_estimator(
        AutoencoderDetector(hidden=(8, 4), epochs=5, random_state=0),
        expected_failed_checks=EXPECTED_FAILURES,
        on_fail=None,
    )
    failed = [r for r in results if r["status"] == "failed"]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]
    passed = [r for r in results if r["status"] == "passed"]
    assert len(passed) > 30


def test_scores_do_not_depend_on_the_batch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    det = AutoencoderDetector(hidden=(8, 4), epochs=5, random_state=0).fit(X)
    whole = det.decision_function(X)
    one_by_one = np.concatenate([det.decision_function(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-5)
