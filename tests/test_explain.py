"""Explanations by cause: the broken column first, never a seen == expected reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from aedetect import AutoencoderDetector
from aedetect.attribution import STEPS, Groups, score_drops, surprise
from aedetect.data.datasets import load_data
from aedetect.data.encoding import TabularEncoder
from aedetect.exceptions import ConfigError
from aedetect.report.numbers import reason_text
from aedetect.value_grid import GRID, Grid


def _relations(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """x, y and two columns made of them (sum_xy, diff_xy), plus an unrelated pair."""
    rng = np.random.default_rng(seed)
    x, y, a = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "sum_xy": x + y,
            "diff_xy": x - y,
            "a": a,
            "b": 2 * a + rng.normal(scale=0.1, size=n),
        }
    )


@pytest.fixture(scope="module")
def relations():
    frame = _relations()
    bad = frame.iloc[:20].copy()
    bad["sum_xy"] += 3.0  # sum_xy = x + y broken, every value still in range
    return frame, bad


@pytest.fixture(scope="module", params=["reconstruction", "ensemble"])
def relation_model(request, relations):
    det = AutoencoderDetector(hidden=(16, 4), epochs=40, scoring=request.param, random_state=0)
    return det.fit(relations[0])


def test_the_broken_relation_names_the_broken_column_first(relations, relation_model):
    # Judged on the broken rows the score flags: the score whose fall is measured.
    bad = relations[1]
    flagged = bad[relation_model.predict(bad) == 1].reset_index(drop=True)
    assert len(flagged) >= 5
    cause = relation_model.explain(flagged, top=3).groupby("row").first()
    error = relation_model.explain(flagged, top=3, by="error").groupby("row").first()
    # Half of the ensemble (latent k-means) does not see a broken relation, so the
    # column that moves the latent code also moves its score: 7 of 8 there.
    floor = 0.9 if relation_model.scoring == "reconstruction" else 0.75
    assert (cause["column"] == "sum_xy").mean() >= floor
    broken = cause[cause["column"] == "sum_xy"]
    if relation_model.scoring == "reconstruction":
        assert broken["share"].median() > 0.6  # most of the score goes with it
        # The per-column error spreads the blame over x and y, which rebuilt sum_xy.
        assert broken["share"].median() > error["error_share"].median() + 0.2


def _with_colour(n: int, seed: int) -> pd.DataFrame:
    """x and two columns made of it, a pair a, b, and a colour nothing predicts (10 values)."""
    rng = np.random.default_rng(seed)
    x, a = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(scale=0.2, size=n),
            "z": x + rng.normal(scale=0.2, size=n),
            "a": a,
            "b": a + rng.normal(scale=0.2, size=n),
            "colour": rng.choice([f"k{i}" for i in range(10)], n),
        }
    )


def test_a_category_nothing_predicts_does_not_take_the_blame():
    # Set to the model's distribution, the colour takes its own (irreducible)
    # error with it on every row, broken or not: ranked by the fall alone it came
    # first on 19 of these 34 rows (y on 15). Weighed by how surprising the seen
    # colour is (no more than any other), it comes first on 2, the broken y on 28.
    det = AutoencoderDetector(hidden=(16, 4), epochs=40, random_state=0).fit(_with_colour(600, 0))
    bad = _with_colour(40, 1)
    bad["y"] += 0.8  # y = x broken (z = x still holds), every value in range
    flagged = bad[det.predict(bad) == 1].reset_index(drop=True)
    assert len(flagged) >= 20
    first = det.explain(flagged, top=1).groupby("row")["column"].first()
    assert (first == "y").mean() >= 0.75, first.value_counts()
    assert (first == "colour").mean() <= 0.15, first.value_counts()


def test_a_value_never_seen_there_comes_first_by_cause():
    det = AutoencoderDetector(hidden=(16, 4), epochs=40, random_state=0).fit(_with_colour(600, 0))
    bad = _with_colour(10, 2)
    bad["colour"] = "k99"  # never seen in training
    bad["y"] += 3.0  # a large break as well: by its drop alone it would lead
    cause = det.explain(bad, top=2)
    assert (cause.groupby("row")["column"].first() == "colour").all()
    assert cause.loc[cause["column"] == "colour", "unseen"].all()
    error = det.explain(bad, top=1, by="error")  # the second view keeps its own order
    assert (error["column"] == "y").mean() >= 0.8


def test_a_value_almost_never_seen_there_comes_next_and_says_so():
    train = _with_colour(2000, 0)
    train.loc[7, "colour"] = "k99"  # one training row in 2,000: rare there
    det = AutoencoderDetector(hidden=(16, 4), epochs=40, random_state=0).fit(train)
    bad = _with_colour(10, 2)
    bad["colour"] = "k99"
    bad["y"] += 3.0  # by its drop alone y would lead
    cause = det.explain(bad, top=2)
    firsts = cause.groupby("row").first()
    assert (firsts["column"] == "colour").all()
    assert not firsts["unseen"].any()
    assert np.allclose(firsts["frequency"], 1 / 2000)
    assert cause.loc[cause["column"] != "colour", "frequency"].isna().all()  # numbers
    common = det.explain(_with_colour(5, 3), top=6)
    colour = common.loc[common["column"] == "colour", "frequency"]
    assert colour.between(0.05, 0.2).all()  # ten colours, about a tenth each
    error = det.explain(bad, top=1, by="error")  # the second view keeps its own order
    assert (error["column"] == "y").mean() >= 0.8
    line = cause.iloc[0]
    assert "rare there: 1 in 2,000 training rows" in reason_text(line, {})


def test_model_files_without_category_counts_explain_as_before(tmp_path):
    det = AutoencoderDetector(hidden=(8, 2), epochs=3, random_state=0).fit(_with_colour(300, 0))
    for col in det.encoder_.columns_:
        col.counts = []  # as a model file written before categories were counted
    expl = det.explain(_with_colour(5, 1), top=6)
    assert expl["frequency"].isna().all()


def test_surprise_is_beyond_the_models_own_uncertainty():
    enc = TabularEncoder().fit(pd.DataFrame({"n": [0.0, 1.0, 2.0], "c": ["a", "b", "c"]}))
    n, c = enc.columns_
    rows = pd.DataFrame({"n": [1.0, 1.0, 1.0, 1.0], "c": ["a", "b", "a", "new"]})
    encoded = enc.transform(rows)
    expected = encoded.copy()
    expected[:, c.start : c.start + 3] = [
        [1 / 3] * 3,
        [0.98, 0.01, 0.01],
        [0.98, 0.01, 0.01],
        [1 / 3] * 3,
    ]
    factor = surprise(enc, encoded, expected)
    assert (factor[:, 0] == 1.0).all()  # numbers: the whole drop counts
    # as likely as any (0); ruled out by a sure model (near 1); what it expects
    # (0); never seen in training (1)
    assert factor[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert factor[1, 1] > 0.9
    assert factor[2, 1] == 0.0
    assert factor[3, 1] == 1.0


def test_no_reason_is_seen_equal_to_expected_nor_a_zero_share():
    table = load_data("mixed:n_rows=600")
    det = AutoencoderDetector(hidden=(16, 4), epochs=20, random_state=0).fit(table.features)
    worst = np.argsort(-det.decision_scores_)[:40]
    rows = table.features.iloc[worst].reset_index(drop=True)
    for by, share in (("cause", "share"), ("error", "error_share")):
        expl = det.explain(rows, top=6, by=by)
        categorical = expl["column"].isin(det.encoder_.categorical_columns_)
        assert not (categorical & (expl["seen"] == expl["expected"])).any(), by
        assert (expl[share] >= 0.005).all(), by
        assert expl.loc[categorical, "probability"].between(0, 1).all()


def test_explain_checks_by():
    det = AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(_relations(50))
    with pytest.raises(ConfigError, match="by must be one of cause, error, got 'blame'"):
        det.explain(_relations(5), by="blame")


def test_the_copies_of_all_rows_go_through_in_a_few_batched_passes(relations):
    det = AutoencoderDetector(hidden=(8, 2), epochs=2, random_state=0).fit(relations[0])
    batches: list[int] = []
    first = next(m for m in det.module_.modules() if isinstance(m, torch.nn.Linear))
    hook = first.register_forward_pre_hook(lambda _m, args: batches.append(len(args[0])))
    try:
        det.explain(relations[1].iloc[:5], top=2)
    finally:
        hook.remove()
    m = relations[0].shape[1]
    # the rows' score and reconstruction (twice), then every copy at once, per step,
    # and every number at each grid value at once
    want = [5, 5, 5] + [5 * m] * (1 + STEPS) + [5 * m * len(GRID)]
    assert sorted(batches) == sorted(want), batches


def test_the_grid_tries_each_number_around_its_training_mean():
    frame = pd.DataFrame({"a": np.arange(100.0), "c": ["u", "v"] * 50, "k": 3.0})
    det = AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(frame)
    enc = det.encoder_
    grid = Grid.of(enc, Groups.of(enc))
    # only "a": a category and a constant column get no grid
    assert grid.groups.tolist() == [0] and grid.slots.tolist() == [enc.columns_[0].start]
    values = grid.values[0].numpy() * enc.columns_[0].scale + enc.columns_[0].offset
    sd = frame["a"].std(ddof=0)
    np.testing.assert_allclose(values, 49.5 + np.array(GRID) * sd, rtol=1e-5)


def test_a_grid_value_raises_a_drop_and_becomes_the_expected_value():
    # score: distance of slot 0 from 3; the expectation (the row as it is) gains nothing
    def score(x):
        return ((x[:, 0] - 3.0) ** 2).numpy()

    def expect(x):
        return x.clone(), x.clone()

    X = torch.tensor([[0.0, 1.0]])
    masks = torch.eye(2)
    grid = Grid(torch.tensor([0]), torch.tensor([0]), torch.tensor([[-1.0, 2.5, 6.0]]))
    base, drops, settled, _ = score_drops(score, expect, X, masks, steps=0)
    assert drops.tolist() == [[0.0, 0.0]]
    base, drops, settled, _ = score_drops(score, expect, X, masks, steps=0, grid=grid)
    assert base.tolist() == [9.0] and drops[0].tolist() == [9.0 - 0.25, 0.0]
    assert settled[0].tolist() == [2.5, 1.0]


def test_large_images_are_explained_by_patches():
    class Encoder:
        def __init__(self, n):
            self.columns_ = [type("C", (), {"name": f"p{i}"})() for i in range(n)]

    pixels = Groups.of(Encoder(16 * 16), (1, 16, 16))
    assert len(pixels.members) == 256 and pixels.names[:2] == ["p0", "p1"]
    patches = Groups.of(Encoder(3 * 32 * 32), (3, 32, 32))
    assert len(patches.members) == 256 and all(len(m) == 12 for m in patches.members)
    assert patches.names[0] == "pixels 0-1,0-1"
    mnist = Groups.of(Encoder(28 * 28), (1, 28, 28))
    assert len(mnist.members) == 196
    small = Groups.of(Encoder(64), (1, 8, 8))
    assert small.names[:2] == ["p0", "p1"]


def test_a_wide_row_is_explained_group_block_by_block_with_the_same_drops(
    relations, relation_model, monkeypatch
):
    from aedetect import attribution

    whole = relation_model.explain(relations[1].iloc[:3], top=6)
    monkeypatch.setattr(attribution, "BUDGET", 2 * relations[0].shape[1])  # 2 groups a pass
    blocks = relation_model.explain(relations[1].iloc[:3], top=6)
    assert list(blocks["column"]) == list(whole["column"])
    np.testing.assert_allclose(blocks["drop"], whole["drop"], rtol=1e-5, atol=1e-7)


def test_a_table_of_many_numbers_gets_no_grid(monkeypatch):
    from aedetect import value_grid

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 5)), columns=list("abcde"))
    det = AutoencoderDetector(hidden=(4, 2), epochs=1, random_state=0).fit(frame)
    assert len(Grid.of(det.encoder_, Groups.of(det.encoder_)).groups) == 5
    monkeypatch.setattr(value_grid, "MAX_NUMBERS", 4)
    assert len(Grid.of(det.encoder_, Groups.of(det.encoder_)).groups) == 0
