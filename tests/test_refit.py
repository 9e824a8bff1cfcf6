"""``refit``: a second fit on the rows the first fit calls normal (aedetect.robust)."""

import numpy as np
import pytest

from aedetect import AutoencoderDetector, ConfigError, load, save
from aedetect import fitting as fitting_module
from aedetect.robust import kept_rows


def _table(n=300, n_anomalies=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:n_anomalies] += 6.0  # a tight group far from the rest
    return X


@pytest.mark.parametrize("value", [-1, 1.5, "yes", 11])
def test_refit_is_checked_and_the_message_names_it(value):
    with pytest.raises(ConfigError, match="refit"):
        AutoencoderDetector(refit=value).fit(_table(50))


def test_the_second_pass_fits_on_the_rows_called_normal(monkeypatch):
    sizes, warm = [], []
    real = fitting_module.train_module

    def spy(params, spec, X, *args):
        sizes.append(len(X))
        warm.append(args[-1])
        return real(params, spec, X, *args)

    monkeypatch.setattr(fitting_module, "train_module", spy)
    X = _table()
    det = AutoencoderDetector(hidden=(8, 2), epochs=20, refit=1, random_state=0).fit(X)
    assert len(sizes) == 2
    assert sizes[1] < sizes[0]
    assert warm[0] is None and warm[1] is not None  # the first network, trained further
    # Scores and labels still cover every training row.
    assert det.decision_scores_.shape == (len(X),)
    assert det.labels_.shape == (len(X),)


def test_contamination_sets_the_share_left_out():
    scores = np.arange(100, dtype=float)
    keep = kept_rows(
        scores, {"contamination": 0.2, "scoring": "reconstruction", "ensemble_method": "rank"}
    )
    assert keep.sum() == 80 and not keep[-20:].any()
    fence = kept_rows(
        np.r_[np.ones(95), np.full(5, 100.0)],
        {"contamination": None, "scoring": "reconstruction", "ensemble_method": "rank"},
    )
    assert fence.sum() == 95


def test_refit_zero_is_the_plain_fit():
    X = _table()
    a = AutoencoderDetector(hidden=(8, 2), epochs=10, random_state=0).fit(X)
    b = AutoencoderDetector(hidden=(8, 2), epochs=10, refit=0, random_state=0).fit(X)
    assert np.array_equal(a.decision_scores_, b.decision_scores_)


def test_the_model_file_keeps_refit(tmp_path):
    X = _table()
    det = AutoencoderDetector(hidden=(8, 2), epochs=10, refit=1, random_state=0).fit(X)
    path = tmp_path / "m.aedetect"
    save(det, path)
    loaded = load(path)
    assert loaded.get_params()["refit"] == 1
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
    assert loaded.threshold_ == det.threshold_


def test_out_of_core_fitting_says_it_does_not_refit(tmp_path, caplog):
    import pandas as pd

    from aedetect.streamfit import fit_parquet

    pd.DataFrame(_table(200), columns=list("abcd")).to_parquet(tmp_path / "t.parquet")
    det = AutoencoderDetector(hidden=(8, 2), epochs=2, refit=1, random_state=0)
    with caplog.at_level("WARNING", logger="aedetect.streamfit"):
        fit_parquet(det, tmp_path / "t.parquet")
    assert "refit=1 is not applied out of core" in caplog.text
