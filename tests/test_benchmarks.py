"""The side-by-side benchmark's quick path on a tiny selection (runs without the bench extra)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_data, methods, report, run  # noqa: E402

HAVE_PYOD = methods.installed("pyod")
METHODS = "aedetect-default,aedetect-best,isolation-forest,pca,pyod-ecod,broken"


def _broken(X, ctx):
    raise RuntimeError("this method always fails")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    md = tmp / "BENCHMARKS.md"
    md.write_text(
        "# Benchmarks\n\nkept above\n\n"
        f"{report.START}\nold block\n{report.END}\n\n## Someone else's section\n\nkept below\n"
    )
    mp = pytest.MonkeyPatch()
    mp.setitem(methods.METHODS, "broken", methods.Method("broken", "always fails", _broken, "raw"))
    threads = torch.get_num_threads()
    try:
        result = run.main(
            [
                "--quick",
                "--threads",
                "1",
                "--datasets",
                "digits,synthetic-global",
                "--classes",
                "0",
                "--methods",
                METHODS,
                "--epochs",
                "5",
                "--parts",
                "accuracy,throughput,scaling",
                "--throughput-rows",
                "2000",
                "--scaling-rows",
                "500,1000",
                "--scaling-methods",
                "pca",
                "--out-dir",
                str(tmp / "results"),
                "--markdown",
                str(md),
            ]
        )
    finally:
        mp.undo()
        torch.set_num_threads(threads)
    return tmp, md, result


def test_accuracy_csv_has_every_run_in_range(quick_run):
    tmp, _, _ = quick_run
    runs = pd.read_csv(tmp / "results" / "accuracy_runs.csv")
    expected_methods = set(METHODS.split(",")) - (set() if HAVE_PYOD else {"pyod-ecod"})
    assert set(runs["dataset"]) == {"digits", "synthetic-global-d10"}
    assert set(runs["method"]) == expected_methods
    assert len(runs) == 2 * len(expected_methods)  # one split each: class 0 / seed 0
    ok = runs[runs["status"] == "ok"]
    assert ok["auroc"].between(0, 1).all() and ok["ap"].between(0, 1).all()
    assert (ok["fit_s"] > 0).all() and (ok["score_s"] >= 0).all()
    # digit 0 is easy: every real method separates it; PCA almost perfectly
    digits = ok[ok["dataset"] == "digits"].set_index("method")["auroc"]
    assert (digits > 0.9).all() and digits["pca"] > 0.97
    # the same splits for every method
    assert runs.groupby("dataset")["n_test"].nunique().eq(1).all()
    # a failing method is recorded, and the others still ran
    broken = runs[runs["method"] == "broken"]
    assert broken["status"].str.startswith("error: RuntimeError: this method always fails").all()
    # tables: the "best" settings are the defaults, so the run is reused, not repeated
    syn = runs[runs["dataset"] == "synthetic-global-d10"].set_index("method")
    assert syn.at["aedetect-best", "note"] == "same settings as aedetect-default"
    assert syn.at["aedetect-best", "auroc"] == syn.at["aedetect-default", "auroc"]


def test_summary_scaling_throughput_and_figures(quick_run):
    tmp, _, result = quick_run
    out = tmp / "results"
    summary = pd.read_csv(out / "accuracy_summary.csv")
    pca = summary[(summary["dataset"] == "digits") & (summary["method"] == "pca")].iloc[0]
    assert pca["n_ok"] == 1 and pca["n_failed"] == 0 and 0.97 < pca["auroc_mean"] <= 1
    scaling = pd.read_csv(out / "scaling.csv")
    assert list(scaling["rows"]) == [500, 1000] and (scaling["status"] == "ok").all()
    assert (scaling["peak_mb"] > 50).all() and (scaling["fit_s"] > 0).all()
    tp = pd.read_csv(out / "throughput.csv").iloc[0]
    assert tp["rows"] == 2000 and tp["aedetect_rows_per_s"] > 0 and tp["ratio"] > 0
    for name in ("accuracy.png", "times.png", "scaling.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["settings"].seeds == (0,)


def test_markdown_block_replaced_and_the_rest_kept(quick_run):
    _, md, _ = quick_run
    text = md.read_text()
    assert text.startswith("# Benchmarks\n\nkept above\n\n" + report.START)
    assert text.endswith(report.END + "\n\n## Someone else's section\n\nkept below\n")
    assert "old block" not in text and text.count(report.START) == 1
    block = text[text.index(report.START) : text.index(report.END)]
    assert "-m benchmarks --quick --threads 1" in block and "cores" in block
    assert "torch 2." in block and "scikit-learn" in block
    assert "**Quick mode**" in block
    row = next(line for line in block.splitlines() if line.startswith("| digits |"))
    cells = row.replace("**", "").split("|")[2:-1]
    values = [float(c.split("±")[0]) for c in cells if "±" in c]
    assert len(values) == len(cells) - 1 and all(0.9 < v <= 1 for v in values)
    assert cells[-1].strip() == "error"  # the broken method's column
    assert "![AUROC and average precision per data set](results/accuracy.png)" in block
    assert "did not finish" not in block
    targets = pd.read_csv(md.parent / "results" / "targets.csv")
    assert set(targets["result"]) <= {"PASS", "MISS", "NOT RUN"}
    memory = targets[targets["target"].str.startswith("training at 1M rows")].iloc[0]
    assert memory["result"] == "NOT RUN"  # quick: no 1M-row run
    assert "broken: error: RuntimeError" in block


def test_run_one_records_nonfinite_scores_and_errors():
    split = next(bench_data.data_specs(bench_data.QUICK)[0].splits((0,), (1,)))

    def nan_scores(X, ctx):
        return lambda T: np.where(np.arange(len(T)) == 0, np.nan, np.arange(len(T), dtype=float))

    m = methods.Method("nan", "nan", nan_scores, "numeric")
    row = run.run_one(m, split, epochs=None)
    assert row["status"] == "ok" and row["note"] == "1 non-finite scores set to max"
    bad = run.run_one(methods.Method("b", "b", _broken, "numeric"), split, None)
    assert bad["status"] == "error: RuntimeError: this method always fails" and "auroc" not in bad


def test_peer_encoding_is_fitted_on_train_only():
    train = pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"], "s": ["AB"] * 4})
    test = pd.DataFrame({"n": [10.0], "c": ["z"], "s": ["AC"]})
    A, B = bench_data.numeric_matrices(train, test, ("s",))
    # n + one-hot c (a, b) + one-hot positions s[1] (A), s[2] (B); unknowns are all zero
    assert A.shape == (4, 5) and B.shape == (1, 5)
    np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
    assert B[0, 0] == pytest.approx((10 - 2.5) / np.std([1, 2, 3, 4]))
    assert np.allclose(B[0, 1:3], (0 - 0.5) / 0.5)  # category 'z' unseen: zeros, standardised


def test_best_settings_follow_the_data_type():
    ctx = methods.Context(seed=3, data_type="sequences", sequence_columns=("sequence",), epochs=7)
    params = methods.best_params(ctx)
    assert params["hidden"] == (8, 4) and params["sequence_encoding"] == "onehot"
    assert params["epochs"] == 7 and params["random_state"] == 3
    pixels = methods.best_params(methods.Context(seed=0, data_type="pixels"))
    assert pixels == {"scaling": "pooled", "random_state": 0}
    assert methods.best_params(methods.Context(0)) == methods.default_params(methods.Context(0))


def test_best_settings_of_a_data_set_win_over_its_type(monkeypatch):
    monkeypatch.setitem(methods.BEST_PER_DATA_TYPE, "mnist5k", {"scaling": "minmax"})
    ctx = methods.Context(seed=0, data_type="pixels", dataset="mnist5k")
    assert methods.best_params(ctx)["scaling"] == "minmax"
    digits = methods.Context(seed=0, data_type="pixels", dataset="digits")
    assert methods.best_params(digits)["scaling"] == "pooled"


def test_unknown_names_are_rejected():
    with pytest.raises(SystemExit):
        run.parse_args(["--methods", "nope"])
    with pytest.raises(SystemExit):
        run.parse_args(["--datasets", "digits,nope"])
    with pytest.raises(SystemExit):
        run.parse_args(["--seeds", "0,x"])
    with pytest.raises(ValueError, match="unknown data set"):
        bench_data.select(bench_data.data_specs(bench_data.QUICK), ["nope"])


def test_startup_block_reports_both_ratios():
    from benchmarks import startup

    times = {
        "python -c pass": 0.01,
        'python -c "import torch"': 1.4,
        'python -c "import typer, rich"': 0.06,
        "aedetect --version": 0.12,
        "aedetect --help": 0.02,
        "aedetect info MODEL": 0.3,
    }
    meta = {"date": "2026-11-30", "cpu": "cpu", "cores": 2, "python": "3.11", "repeats": 5}
    block = startup.markdown_block(times, meta)
    assert block.startswith(startup.START) and block.rstrip().endswith(startup.END)
    assert "info MODEL` / `import torch`: 0.21 (target < 1: met" in block
    assert "`python -c pass`: 2.00 (target < 3: met" in block
    assert startup.ratios(times)["help / python"] == pytest.approx(2.0)
