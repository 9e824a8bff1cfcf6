import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aedetect.cli import app
from aedetect.data.datasets import make_mixed_table

runner = CliRunner()
# No -q: tests read the summaries and warnings it silences.
FAST = ["--epochs", "5", "--seed", "0"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "customers.csv"
    t = make_mixed_table(300, 4, seed=0)
    frame = t.features.assign(customer=t.ids, is_anomaly=t.labels)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model(table_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.aedetect"
    res = invoke(
        "fit",
        table_csv,
        "--output",
        path,
        "--id-column",
        "customer",
        "--label-column",
        "is_anomaly",
        *FAST,
    )
    assert res.exit_code == 0, res.output
    return path


def test_fit_score_info_round_trip(model, table_csv, tmp_path):
    out = tmp_path / "scores.csv"
    res = invoke("score", model, table_csv, "--output", out)
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out)
    # the known label column is kept, renamed so it cannot clash with the prediction
    assert list(scores.columns) == ["customer", "score", "is_anomaly", "true_is_anomaly"]
    assert scores["true_is_anomaly"].tolist() == pd.read_csv(table_csv)["is_anomaly"].tolist()
    assert scores["customer"].tolist() == pd.read_csv(table_csv)["customer"].tolist()
    assert set(scores["is_anomaly"]) <= {0, 1}
    info = invoke("info", model)
    assert info.exit_code == 0 and "threshold" in info.output and "3 categorical" in info.output


def test_score_to_stdout_matches_library(model, table_csv):
    from aedetect import load

    res = invoke("score", model, table_csv)
    assert res.exit_code == 0
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("customer,score,is_anomaly")
    frame = pd.read_csv(table_csv).drop(columns=["customer", "is_anomaly"])
    expected = load(model).decision_function(frame)
    got = np.array([float(line.split(",")[1]) for line in lines[1:]])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_run_on_builtin_digits_writes_everything(tmp_path):
    res = invoke("run", "digits", "--output-dir", tmp_path / "out", *FAST)
    assert res.exit_code == 0, res.output
    for name in ("model.aedetect", "scores.csv", "anomalies.csv"):
        assert (tmp_path / "out" / name).exists()
    assert "most anomalous rows" in res.stdout
    assert len(pd.read_csv(tmp_path / "out" / "scores.csv")) == 1797


def test_run_reports_auroc_when_labels_are_binary(table_csv, tmp_path):
    res = invoke(
        "run",
        table_csv,
        "-o",
        tmp_path / "o",
        "--label-column",
        "is_anomaly",
        "--id-column",
        "customer",
        *FAST,
    )
    assert res.exit_code == 0, res.output
    assert "AUROC" in res.stdout and "customer=c" in res.stdout


def test_real_module_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "aedetect", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0 and "fit" in res.stdout and "score" in res.stdout


@pytest.mark.parametrize(
    "command", sorted(c.name or c.callback.__name__ for c in app.registered_commands)
)
def test_every_command_has_help_with_an_example(command):
    res = invoke(command, "--help")
    assert res.exit_code == 0 and "Example" in res.stdout


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "a,b,c\n" + "".join(f"{i},{i * 2 % 7},{i % 3}\n" for i in range(30))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "empty.csv: file is empty"),
        ("header.csv", "a,b,c\n", "header.csv: has a header but no data rows"),
        ("ragged.csv", "a,b,c\n1,2,3\n4,5,6,7\n", "ragged.csv: line 3 has 4 fields, expected 3"),
        (
            "text.csv",
            GOOD.replace("\n5,", "\nfive,"),
            "text.csv: column 'a' row 6: 'five' is not a number",
        ),
        ("nan.csv", GOOD.replace("\n7,0,1", "\n7,,1"), "nan.csv: column 'b' row 8: missing value"),
        (
            "inf.csv",
            GOOD.replace("\n7,0,1", "\n7,inf,1"),
            "inf.csv: column 'b' row 8: infinite value",
        ),
        ("one.csv", "a,b\n1,2\n", "one.csv: need at least 2 rows to fit, got 1 sample"),
    ],
)
def test_bad_data_gives_one_line_exit_1_and_no_file(tmp_path, name, content, message):
    data = write(tmp_path, name, content)
    out = tmp_path / "model.aedetect"
    res = invoke("fit", data, "--output", out, *FAST)
    assert res.exit_code == 1, res.output
    assert message in res.output
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.glob(".*tmp"))


def test_missing_file(tmp_path):
    res = invoke("fit", tmp_path / "nope.csv", "--output", tmp_path / "m")
    assert res.exit_code == 1 and "nope.csv: no such file" in res.output


def test_missing_values_can_be_imputed(tmp_path):
    data = write(tmp_path, "nan.csv", GOOD.replace("\n7,0,1", "\n7,,1"))
    res = invoke("fit", data, "--output", tmp_path / "m", "--missing", "impute", *FAST)
    assert res.exit_code == 0, res.output


def test_constant_column_warns_but_fits(tmp_path):
    data = write(tmp_path, "const.csv", GOOD.replace("\n", ",1\n").replace("a,b,c,1", "a,b,c,k"))
    res = invoke("fit", data, "--output", tmp_path / "m", *FAST)
    assert res.exit_code == 0, res.output
    assert "constant in training ('k')" in res.output


def test_wrong_columns_at_scoring(model, tmp_path):
    data = write(tmp_path, "other.csv", GOOD)
    out = tmp_path / "s.csv"
    res = invoke("score", model, data, "--output", out)
    assert res.exit_code == 1
    assert "other.csv: columns do not match the model: missing 'age'" in res.output
    assert not out.exists()


def test_not_a_model_file(tmp_path, table_csv):
    fake = write(tmp_path, "fake.aedetect", "definitely not a model")
    res = invoke("score", fake, table_csv)
    assert res.exit_code == 1 and "not an aedetect model file" in res.output
    res = invoke("info", table_csv)
    assert res.exit_code == 1 and "not an aedetect model file" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contamination", "0.7"], "contamination must be in (0, 0.5], got 0.7"),
        (["--hidden", "64,x"], "expected comma-separated integers"),
        (["--activation", "swish"], "activation must be one of"),
        (["--batch-size", "big"], "--batch-size must be an integer or auto"),
        (["--epochs", "zero"], "--epochs must be an integer or auto, got 'zero'"),
    ],
)
def test_bad_parameter_exit_2_before_any_work(tmp_path, table_csv, args, message):
    out = tmp_path / "m.aedetect"
    res = invoke("fit", table_csv, "--output", out, *args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not out.exists()


@pytest.mark.parametrize("encoding", ["onehot", "ordinal"])
def test_run_sequences_reference_rule(tmp_path, encoding):
    out = tmp_path / "seq"
    res = invoke(
        "run",
        "sequences:size=5000",
        "-o",
        out,
        "--anomaly-ratio",
        str(5 / 5005),
        "--sequence-encoding",
        encoding,
        "--seed",
        "1",
    )
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out / "scores.csv")
    assert scores["is_anomaly"].sum() <= 10
    assert (scores["is_anomaly"] & scores["true_is_anomaly"]).sum() >= 4
    assert "sequence=" in res.stdout


def test_explain_names_columns_and_rows(model, table_csv, tmp_path):
    out = tmp_path / "explain.csv"
    res = invoke("explain", model, table_csv, "--rows", "1,2", "--reasons", "2", "--output", out)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("row 1  score") and "expected" in res.stdout
    frame = pd.read_csv(out)
    # at most --reasons lines a row, and none whose share rounds to 0%
    assert set(frame["row"]) == {1, 2} and frame.groupby("row").size().le(2).all()
    assert (frame["share"] >= 0.005).all()
    assert set(frame["column"]) <= {"age", "income", "spend", "city", "region", "plan"}
    bad = invoke("explain", model, table_csv, "--rows", "0")
    assert bad.exit_code == 2 and "--rows must be between 1 and 300" in bad.output


def test_contamination_and_anomaly_ratio_are_exclusive(table_csv, tmp_path):
    res = invoke(
        "fit", table_csv, "-o", tmp_path / "m", "--contamination", "0.2", "--anomaly-ratio", "0.01"
    )
    assert res.exit_code == 2 and "not both" in res.output


def test_two_unit_preset_draws_the_latent_scatter(tmp_path):
    out = tmp_path / "seq2d"
    res = invoke(
        "run",
        "sequences:size=2000",
        "-o",
        out,
        "--preset",
        "sequence-ae-2d",
        "--anomaly-ratio",
        str(5 / 2005),
        "--epochs",
        "10",
        "--seed",
        "0",
    )
    assert res.exit_code == 0, res.output
    assert (out / "latent.png").read_bytes()[:4] == b"\x89PNG"
    assert "latent.png" in res.stdout


@pytest.fixture(scope="module")
def scored_csv(model, table_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("scored") / "scores.csv"
    res = invoke("score", model, table_csv, "--output", out)
    assert res.exit_code == 0, res.output
    return out


def test_evaluate_prints_the_metrics_of_scikit_learn(scored_csv, tmp_path):
    import json

    from sklearn.metrics import average_precision_score, roc_auc_score

    frame = pd.read_csv(scored_csv)
    y, s = frame["true_is_anomaly"], frame["score"]
    res = invoke("evaluate", scored_csv, "--labels", "is_anomaly", "-o", tmp_path / "ev", "--json")
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, s))
    assert m["average_precision"] == pytest.approx(average_precision_score(y, s))
    assert m["n_anomalies"] == 4 and m["threshold_rule"].startswith("the model's threshold")
    # by default the model's own flags give the threshold
    assert m["tp"] + m["fp"] == frame["is_anomaly"].sum()
    written = sorted(p.name for p in (tmp_path / "ev").iterdir())
    assert written == [
        "histogram.png",
        "metrics.json",
        "pr.png",
        "roc.png",
        "sweep.csv",
        "sweep.png",
    ]
    sweep = pd.read_csv(tmp_path / "ev" / "sweep.csv")
    assert list(sweep.columns) == [
        "threshold",
        "outliers_rejected",
        "inliers_rejected",
        "precision",
        "f1",
    ]
    assert len(sweep) == 1000 and sweep["outliers_rejected"].iloc[0] == 1.0


def test_evaluate_with_a_rule_and_a_labels_file(scored_csv, tmp_path):
    frame = pd.read_csv(scored_csv)
    labels = tmp_path / "truth.csv"
    frame[["true_is_anomaly"]].rename(columns={"true_is_anomaly": "y"}).to_csv(labels, index=False)
    res = invoke("evaluate", scored_csv, "--labels", labels, "--threshold", "quantile:0.9")
    assert res.exit_code == 0, res.output
    assert "0.9 quantile" in res.output and "AUROC" in res.output
    flagged = (frame["score"] > frame["score"].quantile(0.9)).sum()
    tp_fp = [int(v) for v in res.output.split("TP ")[1].split()[::2][:2]]
    assert sum(tp_fp) == flagged


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("nope", "--labels 'nope' is neither a column of"),
        ("score", "labels must be 0/1 (1 = anomaly); row 1 has"),
    ],
)
def test_evaluate_bad_labels(scored_csv, labels, message):
    res = invoke("evaluate", scored_csv, "--labels", labels)
    assert res.exit_code == 1
    assert message in res.output and "Traceback" not in res.output


def test_info_shows_the_threshold_rule(table_csv, tmp_path):
    path = tmp_path / "m.aedetect"
    res = invoke(
        "fit", table_csv, "-o", path, "--threshold", "iqr:1.5", "--id-column", "customer", *FAST
    )
    assert res.exit_code == 0, res.output
    res = invoke("info", path)
    assert "(Q3 + 1.5 x IQR)" in res.output


def test_deprecated_architecture_is_one_line_in_flags(tmp_path, table_csv):
    res = invoke(
        "fit", "digits", "--output", tmp_path / "m.aedetect", "--architecture", "conv",
        "--image-shape", "1,8,8", "--epochs", "1",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "--architecture is deprecated: use --model conv" in res.output
    assert "FutureWarning" not in res.output
    bad = invoke("fit", table_csv, "--output", tmp_path / "v.aedetect", "--model", "vae",
                 "--architecture", "conv")  # fmt: skip
    assert bad.exit_code == 2 and "use --model conv-vae" in bad.output


# ------------------------------------------------ output paths (aedetect.outputs)
def test_score_output_dash_writes_csv_to_stdout(model, table_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke("score", model, table_csv, "--output", "-")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "customer,score,is_anomaly,true_is_anomaly"
    assert len(res.stdout.splitlines()) == 301
    assert list(tmp_path.iterdir()) == []


def _one_error_line(res, *needles):
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 1 and len(lines) == 1, res.output
    assert all(n in lines[0] for n in needles), lines[0]


def test_score_refuses_a_fifo_or_a_link_to_one(model, table_csv, tmp_path):
    import os
    import stat

    fifo, link = tmp_path / "pipe", tmp_path / "null"  # `link` stands in for /dev/null
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    for target in (fifo, link):
        res = invoke("score", model, table_csv, "--output", target)
        _one_error_line(res, f"{target}: is a FIFO (named pipe), not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null", "pipe"]


def test_fit_refuses_a_folder_as_output(table_csv, tmp_path):
    res = invoke("fit", table_csv, "--output", tmp_path, *FAST)
    _one_error_line(res, f"{tmp_path}: is a folder, not a regular file")
    assert list(tmp_path.iterdir()) == []


def test_fit_killed_by_sigterm_keeps_the_previous_model(model, table_csv, tmp_path):
    import shutil
    import signal
    import time

    target = tmp_path / "m.aedetect"
    shutil.copyfile(model, target)
    before = target.read_bytes()
    argv = [
        "aedetect",
        "fit",
        str(table_csv),
        "-o",
        str(target),
        "--id-column",
        "customer",
        "--label-column",
        "is_anomaly",
        "--epochs",
        "100000",
        "--patience",
        "100000",
        "-q",
    ]
    code = (
        "import sys; from aedetect import cli; print('ready', flush=True); "
        f"sys.argv = {argv!r}; cli.main()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(3)  # into the training
        assert proc.poll() is None, proc.stderr.read()  # still training, not stopped by an error
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    assert proc.returncode == 143, (proc.returncode, err)
    assert err == "error: terminated\n"
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.aedetect"]


def test_quiet_means_the_same_on_every_command(model, table_csv, tmp_path):
    out = tmp_path / "s.csv"
    res = invoke("score", model, table_csv, "--output", out, "-q")
    assert res.exit_code == 0 and out.is_file() and "scored" not in res.output
    assert invoke("info", model, "-q").exit_code == 0
    assert invoke("explain", model, table_csv, "--top", "1", "-q").exit_code == 0
    res = invoke("explain", model, table_csv, "--top", "2", "--reasons", "1", "-o", "-")
    assert res.exit_code == 0 and pd.read_csv(io.StringIO(res.stdout))["row"].nunique() <= 2
    assert invoke("report", model, table_csv, "-o", tmp_path / "r.html", "-q").exit_code == 0
    labels = "is_anomaly"
    assert invoke("evaluate", out, "--labels", labels, "-q").exit_code == 0


def test_evaluate_without_score_variance_writes_strict_json(tmp_path):
    import json

    scores = tmp_path / "sc.csv"
    pd.DataFrame({"score": [1.0] * 10, "label": [0] * 9 + [1]}).to_csv(scores, index=False)
    res = invoke("evaluate", str(scores), "--labels", "label")
    assert res.exit_code == 0 and "separation         undefined (no variance" in res.output
    res = invoke("evaluate", str(scores), "--labels", "label", "--json")
    assert json.loads(res.output, parse_constant=lambda c: pytest.fail(c))["separation"] is None
    res = invoke("evaluate", str(scores), "--labels", "label", "-o", str(tmp_path / "ev"), "-q")
    text = (tmp_path / "ev" / "metrics.json").read_text()
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c))["separation"] is None


@pytest.mark.parametrize("k", ["0", "-3", "11"])
def test_evaluate_top_k_outside_the_rows_is_refused(tmp_path, k):
    scores = tmp_path / "sc.csv"
    pd.DataFrame({"score": np.arange(10.0), "label": [0] * 9 + [1]}).to_csv(scores, index=False)
    res = invoke("evaluate", str(scores), "--labels", "label", "--top-k", k)
    assert res.exit_code == 2
    assert f"--top-k must be between 1 and 10 (the rows), got {k}" in res.output


def test_evaluate_refuses_a_labels_file_whose_ids_are_in_another_order(tmp_path):
    scores, labels = tmp_path / "sc.csv", tmp_path / "lab.csv"
    ids = [f"c{i}" for i in range(10)]
    pd.DataFrame({"id": ids, "score": np.arange(10.0)}).to_csv(scores, index=False)
    pd.DataFrame({"id": ids[::-1], "label": [1] + [0] * 9}).to_csv(labels, index=False)
    res = invoke("evaluate", str(scores), "--label-column", f"{labels}:label")
    assert res.exit_code == 1
    assert "column 'id' row 1 is 'c9' where" in res.output and "put both in one order" in res.output
    pd.DataFrame({"id": ids, "label": [0] * 9 + [1]}).to_csv(labels, index=False)
    res = invoke("evaluate", str(scores), "--label-column", f"{labels}:label")
    assert res.exit_code == 0 and "AUROC              1.0000" in res.output


def test_an_output_over_the_commands_own_input_is_refused(tmp_path):
    data, model = tmp_path / "d.csv", tmp_path / "m.aedetect"
    make_mixed_table(200, 0, seed=0).features.to_csv(data, index=False)
    assert invoke("fit", str(data), "--epochs", "1", "-o", str(model), "-q").exit_code == 0
    before, model_bytes = data.read_bytes(), model.read_bytes()
    (tmp_path / "link.csv").symlink_to(data)
    for args in (
        ("score", str(model), str(data), "-o", str(data)),
        ("score", str(model), str(data), "-o", str(tmp_path / "link.csv")),
        ("report", str(model), str(data), "-o", str(model)),
        ("fit", str(data), "--epochs", "1", "-o", str(data)),
    ):
        res = invoke(*args)
        assert res.exit_code == 2 and "is also an input of this command" in res.output, args
    assert data.read_bytes() == before and model.read_bytes() == model_bytes


def test_verbose_logs_every_epoch_beside_the_progress(tmp_path):
    res = invoke("fit", "mixed:n_rows=200", "--epochs", "2", "-v", "-o", str(tmp_path / "m"))
    assert res.exit_code == 0 and "epoch 1 train" in res.output and "epoch 2 train" in res.output
