import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from aedetect import AutoencoderDetector, ConfigError, DataError, NotFittedError


def test_auroc_floor_on_digits_one_class(digits_one_class):
    X_train, X_test, y_test = digits_one_class
    det = AutoencoderDetector(random_state=0).fit(X_train)
    auroc = roc_auc_score(y_test, det.decision_function(X_test))
    assert auroc >= 0.95, auroc


def test_mixed_table_anomalies_rank_in_top_one_percent(mixed):
    det = AutoencoderDetector(random_state=0).fit(mixed.features)
    scores = det.decision_function(mixed.features)
    top = set(np.argsort(-scores)[: len(scores) // 100])
    anomalies = set(np.flatnonzero(mixed.labels.to_numpy() == 1))
    assert anomalies <= top, sorted(anomalies - top)


def test_same_seed_same_scores_bit_for_bit(small_frame):
    a = AutoencoderDetector(hidden=(8, 3), epochs=15, random_state=7).fit(small_frame)
    b = AutoencoderDetector(hidden=(8, 3), epochs=15, random_state=7).fit(small_frame)
    c = AutoencoderDetector(hidden=(8, 3), epochs=15, random_state=8).fit(small_frame)
    assert np.array_equal(a.decision_scores_, b.decision_scores_)
    assert not np.array_equal(a.decision_scores_, c.decision_scores_)


def test_outputs_have_the_documented_shapes(fitted_small, small_frame):
    det = fitted_small
    n = len(small_frame)
    scores = det.decision_function(small_frame)
    assert scores.shape == (n,)
    assert set(np.unique(det.predict(small_frame))) <= {0, 1}
    assert det.transform(small_frame).shape == (n, 3)
    rebuilt = det.reconstruct(small_frame)
    assert list(rebuilt.columns) == ["a", "b", "c", "colour"]
    assert set(rebuilt["colour"]) <= {"red", "green", "blue"}
    # a well-trained model rebuilds the correlated numbers in their own units
    assert np.abs(rebuilt["b"] - small_frame["b"]).median() < 0.3 * small_frame["b"].std()
    errors = det.feature_errors(small_frame)
    assert errors.shape == (n, 4)
    np.testing.assert_allclose(errors.mean(axis=1), scores, rtol=1e-5)
    assert list(det.feature_names_in_) == ["a", "b", "c", "colour"]


def test_threshold_is_contamination_quantile(small_frame):
    det = AutoencoderDetector(hidden=(8, 3), epochs=5, contamination=0.05, random_state=0)
    labels = det.fit_predict(small_frame)
    assert labels.sum() == pytest.approx(0.05 * len(small_frame), abs=1)
    assert np.array_equal(labels, det.labels_)


def test_feature_errors_point_at_the_corrupted_column(fitted_small, small_frame):
    row = small_frame.iloc[[0]].copy()
    row["b"] = row["a"] * -2  # breaks b = 2a: the pair (a, b) is to blame
    errors = fitted_small.feature_errors(row)[0]
    before = fitted_small.feature_errors(small_frame.iloc[[0]])[0]
    assert int(np.argmax(errors)) in (0, 1)
    assert errors[:2].sum() > 10 * before[:2].sum()


def test_unseen_category_scores_as_unusual(fitted_small, small_frame):
    rows = small_frame.iloc[:20].copy()
    base = fitted_small.decision_function(rows)
    rows["colour"] = "purple"
    assert (fitted_small.decision_function(rows) > base).all()


def test_out_of_range_number_is_not_copied_through():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    det = AutoencoderDetector(hidden=(16, 8), random_state=0).fit(X)
    far = np.array([[50.0, 0.0, 0.0]])
    assert det.decision_function(far)[0] > 100 * np.median(det.decision_scores_)


def test_not_fitted_raises():
    det = AutoencoderDetector()
    for method in ("decision_function", "predict", "transform", "reconstruct", "feature_errors"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(det, method)([[1.0, 2.0]])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"contamination": 0.7}, r"contamination must be in \(0, 0.5\], got 0.7"),
        ({"hidden": ()}, "hidden must be a non-empty sequence of positive integers"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"output_activation": "softmax"}, "output_activation must be one of"),
        ({"epochs": 0}, "epochs must be an integer >= 1 or 'auto', got 0"),
        ({"dropout": 1.0}, r"dropout must be in \[0.0, 1.0\), got 1.0"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of adam, sgd, adagrad"),
        ({"loss": "bce"}, "loss='bce' needs output_activation='sigmoid'"),
        ({"lr": -1.0}, r"lr must be in \(0.0, inf\), got -1.0"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ConfigError, match=message):
        AutoencoderDetector(**params).fit(np.ones((5, 2)))


def test_one_row_is_refused():
    with pytest.raises(DataError, match="need at least 2 rows to fit, got 1 sample"):
        AutoencoderDetector().fit([[1.0, 2.0]])


def test_wrong_column_set_at_scoring(fitted_small, small_frame):
    with pytest.raises(DataError, match="columns do not match the model: missing 'c'"):
        fitted_small.decision_function(small_frame.drop(columns=["c"]))


def test_bce_with_minmax_and_sigmoid(digits_one_class):
    X_train, X_test, y_test = digits_one_class
    det = AutoencoderDetector(
        loss="bce", output_activation="sigmoid", scaling="minmax", epochs=30, random_state=0
    ).fit(X_train)
    assert roc_auc_score(y_test, det.decision_function(X_test)) > 0.9


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_other_optimizers_train(optimizer, small_frame):
    det = AutoencoderDetector(
        hidden=(8, 3), epochs=10, optimizer=optimizer, lr=0.05, random_state=0
    ).fit(small_frame)
    assert det.history_.train_loss[-1] < det.history_.train_loss[0]


def test_works_in_pipeline_and_grid_search(digits_one_class):
    X_train, X_test, y_test = digits_one_class
    pipe = make_pipeline(
        FunctionTransformer(lambda X: X / 16.0), AutoencoderDetector(epochs=10, random_state=0)
    )
    pipe.fit(X_train)
    assert roc_auc_score(y_test, pipe.decision_function(X_test)) > 0.85

    def auroc(est, X, y):
        return roc_auc_score(y, est.decision_function(X))

    grid = GridSearchCV(
        AutoencoderDetector(epochs=10, random_state=0),
        {"hidden": [(32, 4), (64, 32, 8)]},
        scoring=auroc,
        cv=[(np.arange(len(X_train)), np.arange(len(X_train), len(X_train) + len(X_test)))],
    )
    grid.fit(np.vstack([X_train, X_test]), np.concatenate([np.zeros(len(X_train)), y_test]))
    assert grid.best_params_["hidden"] in [(32, 4), (64, 32, 8)]
    assert grid.best_score_ > 0.85


def test_dataframe_with_categories_round_trips_through_numpy_input():
    X = np.random.default_rng(0).normal(size=(50, 3))
    det = AutoencoderDetector(hidden=(4, 2), epochs=3, random_state=0).fit(X)
    with pytest.raises(DataError, match="X has 2 features, but AutoencoderDetector is expecting 3"):
        det.decision_function(X[:, :2])
    assert not hasattr(det, "feature_names_in_")
    det.fit(pd.DataFrame(X, columns=["p", "q", "r"]))
    assert list(det.feature_names_in_) == ["p", "q", "r"]


def test_threshold_rules_on_the_estimator(small_frame):
    base = dict(hidden=(8, 3), epochs=5, random_state=0)
    mad = AutoencoderDetector(threshold="mad:3", **base).fit(small_frame)
    s = mad.decision_scores_
    med = np.median(s)
    assert mad.threshold_ == pytest.approx(med + 3 * 1.4826 * np.median(np.abs(s - med)))
    assert mad.threshold_rule_ == "median + 3.0 x 1.4826 MAD"
    # fpr is fitted on the held-out validation rows only
    fpr = AutoencoderDetector(threshold="fpr:0.05", validation_fraction=0.2, **base)
    fpr.fit(small_frame)
    held_out = np.random.default_rng(0).permutation(len(small_frame))[:40]
    assert (fpr.decision_scores_[held_out] > fpr.threshold_).mean() <= 0.05
    assert fpr.threshold_ == pytest.approx(
        np.quantile(fpr.decision_scores_[held_out], 0.95, method="higher")
    )


def test_f1_threshold_needs_labels(small_frame):
    det = AutoencoderDetector(hidden=(8, 3), epochs=3, threshold="f1", random_state=0)
    with pytest.raises(ConfigError, match="needs 0/1 labels"):
        det.fit(small_frame)
    y = np.zeros(len(small_frame), dtype=int)
    y[:5] = 1
    det.fit(small_frame, y)
    assert det.threshold_rule_ == "F1-optimal on the labels"


def test_bad_threshold_rule_is_named(small_frame):
    with pytest.raises(ConfigError, match="threshold 'mad:-1': mad k must be in"):
        AutoencoderDetector(threshold="mad:-1").fit(small_frame)


def test_default_threshold_needs_no_contamination_guess():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    det = AutoencoderDetector(hidden=(8, 2), random_state=0).fit(X)
    q1, q3 = np.quantile(det.decision_scores_, [0.25, 0.75])
    assert det.threshold_ == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert "IQR" in det.threshold_rule_
    quantile = AutoencoderDetector(hidden=(8, 2), contamination=0.2, random_state=0).fit(X)
    assert np.mean(quantile.decision_scores_ > quantile.threshold_) == pytest.approx(0.2, abs=0.01)


def test_auto_epochs_aim_at_a_step_budget():
    from aedetect.fitting import n_epochs

    assert n_epochs("auto", 10_000, 256) == 15  # 40 steps an epoch
    assert n_epochs("auto", 100, 32) == 150  # 4 steps an epoch
    assert n_epochs("auto", 1_000_000, 256) == 10
    assert n_epochs(7, 100, 32) == 7


def test_trimmed_loss_leaves_out_the_worst_rows():
    import torch

    from aedetect.fitting import make_loss

    loss = make_loss("mse", torch.ones(2), 2, trim=0.25)
    x = torch.zeros(4, 2)
    out = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [100.0, 100.0]])
    assert float(loss(out, x)) == pytest.approx(1.0)


def test_the_ensemble_score_keeps_a_quantile_default():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    det = AutoencoderDetector(hidden=(8, 2), scoring="ensemble", epochs=5, random_state=0).fit(X)
    assert np.mean(det.decision_scores_ > det.threshold_) == pytest.approx(0.1, abs=0.02)


def _widths(det):
    from aedetect.models.ensemble import members_of

    first = members_of(det.module_)[0]
    return [m.out_features for m in first.encoder if hasattr(m, "out_features")]


def test_an_all_numeric_table_gets_the_wider_network_by_default():
    from aedetect.data.datasets import load_data
    from aedetect.fitting import NUMERIC_TABLE_HIDDEN, NUMERIC_TABLE_MEMBERS
    from aedetect.models import DenseAutoencoder
    from aedetect.models.ensemble import members_of

    rng = np.random.default_rng(0)
    numbers = rng.normal(size=(200, 6))
    wide = AutoencoderDetector(epochs=2).fit(numbers)
    assert _widths(wide) == list(NUMERIC_TABLE_HIDDEN)
    # info, run's summary and the report describe the network as built
    from aedetect.describe import ModelFacts

    assert ModelFacts.from_detector(wide).network() == "3 x 6 -> 256 -> 128 -> 16 -> ... -> 6"
    assert len(members_of(wide.module_)) == NUMERIC_TABLE_MEMBERS == wide.spec_.members
    chosen = AutoencoderDetector(hidden=(32, 4), epochs=2).fit(numbers)  # a choice is kept
    assert _widths(chosen) == [32, 4]
    assert chosen.get_params()["hidden"] == (32, 4)
    single = AutoencoderDetector(members=1, epochs=2).fit(numbers)
    assert type(single.module_) is DenseAutoencoder
    mixed = load_data("mixed:n_rows=300").features  # one-hot columns: the default network
    det = AutoencoderDetector(epochs=2).fit(mixed)
    assert _widths(det) == [64, 32, 8] and type(det.module_) is DenseAutoencoder
    images = rng.integers(0, 255, (60, 8, 8)).astype(np.float32)  # images: the default too
    det = AutoencoderDetector(epochs=2).fit(images)
    assert _widths(det) == [64, 32, 8] and type(det.module_) is DenseAutoencoder
