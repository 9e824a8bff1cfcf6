import numpy as np
import torch
from torch import nn

from aedetect.scoring import ScoreConfig, Scorer, feature_squared_errors, reconstructions


def reconstruction_scores(module, X, weights, n_columns, bounds=None, chunk=8192):
    scorer = Scorer(ScoreConfig(), weights, n_columns, bounds)
    return scorer.scores(module, X, ("reconstruction",), chunk=chunk)["reconstruction"]


class Zero(nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


def test_scores_are_weighted_mean_squared_errors():
    X = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    w = torch.tensor([1.0, 0.5])
    scores = reconstruction_scores(Zero(), X, w, n_columns=2, chunk=1)
    np.testing.assert_allclose(scores, [(1 + 0.5 * 4) / 2, 9 / 2])


def test_clipped_input_but_unclipped_target():
    X = torch.tensor([[10.0]])
    bounds = (torch.tensor([-1.0]), torch.tensor([1.0]))
    # identity network: sees 1.0 (clipped), is compared with 10.0
    assert reconstructions(nn.Identity(), X, bounds).tolist() == [[1.0]]
    assert feature_squared_errors(nn.Identity(), X, bounds).tolist() == [[81.0]]
    assert reconstruction_scores(nn.Identity(), X, torch.ones(1), 1, bounds).tolist() == [81.0]


def test_empty_input_gives_empty_scores():
    X = torch.zeros((0, 3))
    assert reconstruction_scores(Zero(), X, torch.ones(3), 3).shape == (0,)
    assert feature_squared_errors(Zero(), X).shape == (0, 3)
