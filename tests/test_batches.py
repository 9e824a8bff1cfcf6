"""Scoring pandas batches from a model file (the piece Spark, Ray and Dask call)."""

from __future__ import annotations

import pandas as pd

from aedetect import AutoencoderDetector, pipeline
from aedetect.data.datasets import make_mixed_table
from aedetect.persistence import save_detector
from aedetect.pipeline import batches

BLOCK = 8192


def test_batches_score_as_aedetect_score_and_load_the_model_once(tmp_path):
    t = make_mixed_table(2 * BLOCK, 10, seed=2)
    frame = t.features.assign(customer=t.ids, is_anomaly=t.labels)
    frame.to_parquet(tmp_path / "rows.parquet")
    det = AutoencoderDetector(hidden=(6, 2), epochs=2, random_state=0).fit(t.features.iloc[:400])
    model = tmp_path / "m.aedetect"
    save_detector(det, model, extra={"id_column": "customer", "label_column": "is_anomaly"})
    batches._models.clear()
    batches.LOADS[0] = 0
    parts = [frame.iloc[:BLOCK], frame.iloc[:0], frame.iloc[BLOCK:]]
    got = pd.concat(list(batches.score_batches(model, parts)))
    assert batches.LOADS[0] == 1
    assert list(got.index) == list(frame.index)  # each batch keeps its index
    whole = pipeline.score(model, pipeline.DataRequest(str(tmp_path / "rows.parquet")))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), whole, check_exact=True)
    assert list(got.columns) == ["customer", "score", "is_anomaly", "true_is_anomaly"]
