"""The README's Ray Data snippet (``map_batches``, the model loaded once per actor), run for real.

Skips without Ray (``pip install 'aedetect[ray]'``); CI does not install it.
"""

from __future__ import annotations

import pytest

pytest.importorskip("ray.data")

from readme_engines import assert_same_scores, make_files, run_snippet, snippet


def test_readme_ray_snippet_gives_aedetect_scores(tmp_path):
    make_files(tmp_path)
    run_snippet(snippet("### Ray Data"), tmp_path, timeout=600)
    assert_same_scores(tmp_path, "big-scores-ray")
