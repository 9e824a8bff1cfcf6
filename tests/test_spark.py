"""The README's Spark snippet (a pandas UDF over the model file), run for real in local mode.

Skips without pyspark or Java (``pip install 'aedetect[spark]'``, Debian's
``default-jre-headless``); CI does not install them.
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (default-jre-headless)", allow_module_level=True)

from readme_engines import assert_same_scores, make_files, run_snippet, snippet


def test_readme_spark_snippet_gives_aedetect_scores(tmp_path):
    make_files(tmp_path)
    run_snippet(snippet("### Spark"), tmp_path, timeout=600)
    assert_same_scores(tmp_path, "big-scores-spark")
