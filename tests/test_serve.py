"""The scoring service: every endpoint, every kind of bad request, limits, tokens, threads."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from fastapi.testclient import TestClient  # noqa: E402

from aedetect.cli import app as cli_app  # noqa: E402
from aedetect.exceptions import ConfigError, ModelFileError  # noqa: E402
from aedetect.serve import Limits, create_app, load_models  # noqa: E402
from serve_models import (  # noqa: E402
    impute_model,
    mixed_model,
    sequence_model,
    series_model,
    tamper,
)

FEATURES = ["age", "income", "spend", "city", "region", "plan"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    mixed, frame = mixed_model(folder)
    seq, seq_frame = sequence_model(folder)
    imp, imp_frame = impute_model(folder)
    return {
        "folder": folder,
        "mixed": mixed,
        "frame": frame,
        "seq": seq,
        "seq_frame": seq_frame,
        "impute": imp,
        "impute_frame": imp_frame,
    }


@pytest.fixture(scope="module")
def served(files):
    return load_models([files["mixed"], f"seq={files['seq']}", files["impute"]])


@pytest.fixture(scope="module")
def client(served):
    return TestClient(create_app(served, Limits(max_rows=500, max_body_bytes=200_000)))


def records(frame: pd.DataFrame, n: int = 5, start: int = 0) -> list[dict]:
    return json.loads(frame.iloc[start : start + n].to_json(orient="records"))


def detail(response) -> str:
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    assert "\n" not in body["detail"]
    return body["detail"]


# ------------------------------------------------------------- endpoints
def test_health_and_model_list(client):
    assert client.get("/health").json() == {"status": "ok", "models": ["impute", "mixed", "seq"]}
    listed = client.get("/models").json()["models"]
    assert [m["name"] for m in listed] == ["impute", "mixed", "seq"]
    assert listed[1]["n_columns"] == 6 and listed[1]["score"] == "reconstruction"


def test_model_description_names_columns_types_and_threshold_rule(client, served):
    body = client.get("/models/mixed").json()
    assert [c["name"] for c in body["columns"]] == FEATURES
    types = {c["name"]: c["type"] for c in body["columns"]}
    assert types == {
        **dict.fromkeys(FEATURES[:3], "number"),
        **dict.fromkeys(FEATURES[3:], "category"),
    }
    region = next(c for c in body["columns"] if c["name"] == "region")
    assert region["categories"] == ["east", "north", "south", "west"]
    assert body["threshold"] == served["mixed"].detector.threshold_
    assert "IQR" in body["threshold_rule"]
    assert body["id_column"] == "customer" and body["label_column"] == "is_anomaly"
    assert body["params"]["hidden"] == [16, 4]
    seq = client.get("/models/seq").json()["columns"]
    assert seq == [
        {
            "name": "sequence",
            "type": "sequence",
            "length": 8,
            "token_sep": None,
            "tokens": seq[0]["tokens"],
        }
    ]


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "text/csv" in spec["paths"]["/models/{name}/score"]["post"]["requestBody"]["content"]


def test_scores_equal_the_library_and_the_cli(client, served, files, tmp_path):
    frame = files["frame"].iloc[:40]
    r = client.post("/models/mixed/score", json=records(frame, 40))
    assert r.status_code == 200
    body = r.json()
    det = served["mixed"].detector
    expected = det.decision_function(frame[FEATURES])
    assert body["scores"] == expected.tolist()  # bit-identical
    assert body["is_anomaly"] == (expected > det.threshold_).astype(int).tolist()
    assert body["ids"] == frame["customer"].tolist() and body["warnings"] == []
    data = tmp_path / "rows.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        cli_app, ["score", str(files["mixed"]), str(data), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out)
    csv_body = client.post(
        "/models/mixed/score", content=data.read_bytes(), headers={"content-type": "text/csv"}
    ).json()
    assert csv_body["scores"] == cli["score"].tolist()
    assert csv_body["is_anomaly"] == cli["is_anomaly"].tolist()


def csv_post(client, body: bytes):
    return client.post("/models/mixed/score", content=body, headers={"content-type": "text/csv"})


def test_csv_body_is_read_as_the_cli_reads_a_csv_file(client, files, tmp_path):
    frame = files["frame"].iloc[:6]
    comma = csv_post(client, frame.to_csv(index=False).encode()).json()
    # ';' separator, decimal commas, a quoted number with thousands separators
    semi = frame.to_csv(index=False, sep=";", decimal=",").encode()
    assert csv_post(client, semi).json()["scores"] == comma["scores"]
    grouped = frame.astype({"income": object})
    grouped["income"] = [f"{v:,.0f}" if v == int(v) else repr(v) for v in frame["income"]]
    assert any("," in v for v in grouped["income"])
    data = tmp_path / "grouped.csv"
    grouped.to_csv(data, index=False)
    body = csv_post(client, data.read_bytes())
    assert body.status_code == 200 and body.json()["scores"] == comma["scores"]
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        cli_app, ["score", str(files["mixed"]), str(data), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert body.json()["scores"] == pd.read_csv(out)["score"].tolist()


def test_csv_body_not_utf8_names_the_bad_byte(client, files):
    text = files["frame"].iloc[:3].to_csv(index=False).encode()
    at = text.index(b"city_", text.index(b"\n", text.index(b"\n") + 1))
    r = csv_post(client, text[:at] + b"\xff" + text[at:])
    assert r.status_code == 400
    assert detail(r) == (
        f"body: not a UTF-8 text file (invalid byte at line 3, byte offset {at}); save it as UTF-8"
    )


def test_csv_and_json_bodies_without_the_id_column_give_null_ids(client, files):
    frame = files["frame"][FEATURES].iloc[:2]
    as_json = client.post("/models/mixed/score", json=records(frame, 2)).json()
    as_csv = csv_post(client, frame.to_csv(index=False).encode()).json()
    assert as_json["ids"] == as_csv["ids"] == [None, None]
    assert as_csv["scores"] == as_json["scores"]


def test_value_lists_in_column_order(client, files):
    frame = files["frame"].iloc[:3]
    as_records = client.post("/models/mixed/score", json=records(frame[FEATURES], 3)).json()
    as_lists = client.post("/models/mixed/score", json=frame[FEATURES].values.tolist()).json()
    assert as_lists["scores"] == as_records["scores"]


def test_explain_lists_top_columns_per_row(client, files):
    rows = records(files["frame"], 3)
    rows[1]["city"] = "Atlantis"
    body = client.post("/models/mixed/score?explain=true&reasons=2", json=rows).json()
    assert [len(e) for e in body["explanations"]] == [2, 2, 2]
    first = body["explanations"][1][0]
    assert set(first) == {"column", "seen", "expected", "error", "share"}
    assert first["column"] == "city" and first["seen"] == "Atlantis"
    old = client.post("/models/mixed/score?explain=true&top=1", json=rows).json()
    assert [len(e) for e in old["explanations"]] == [1, 1, 1]  # the old name still works
    default = client.post("/models/mixed/score?explain=true", json=rows).json()
    assert max(len(e) for e in default["explanations"]) == 5  # lines equal to expected left out


# ------------------------------------------------------------ bad requests
@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"age": "abc"}, 422, "row 2 column 'age': 'abc' is not a number"),
        ({"age": True}, 422, "row 2 column 'age': true is not a number"),
        ({"age": [1, 2]}, 422, "row 2 column 'age': an array is not a number"),
        ({"city": {"a": 1}}, 422, "row 2 column 'city': an object is not a category"),
        ({"age": None}, 422, "row 2 column 'age': missing value"),
        ({"plan": None}, 422, "row 2 column 'plan': missing value"),
        ({"colour": "red"}, 422, "row 2: unexpected column 'colour'"),
    ],
)
def test_bad_values_name_row_and_column(client, files, change, status, words):
    rows = records(files["frame"], 3)
    rows[1].update(change)
    r = client.post("/models/mixed/score", json=rows)
    assert r.status_code == status
    assert words in detail(r)


def test_missing_column_and_nan_literals(client, files):
    rows = records(files["frame"], 3)
    del rows[2]["income"]
    assert detail(client.post("/models/mixed/score", json=rows)) == "row 3: missing column 'income'"
    text = json.dumps(records(files["frame"], 2)).replace('"age": 40.7', '"age": NaN')
    r = client.post(
        "/models/mixed/score", content=text, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "row 1 column 'age': missing value" in detail(r)
    for big in ("Infinity", "1e400"):
        r = client.post(
            "/models/mixed/score",
            content=text.replace("NaN", big),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422 and "row 1 column 'age': inf is not a finite number" in detail(
            r
        )
    text = text.replace("NaN", "-Infinity")
    r = client.post(
        "/models/mixed/score", content=text, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "row 1 column 'age': -inf is not a finite number" in detail(r)


def test_imputing_model_takes_missing_values(client, files):
    rows = [{"a": None, "b": 1.0, "colour": None}, {"a": float("nan"), "b": 0.5, "colour": "red"}]
    r = client.post(
        "/models/impute/score",
        content=json.dumps(rows),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200 and all(np.isfinite(r.json()["scores"]))


@pytest.mark.parametrize(
    ("body", "ctype", "status", "words"),
    [
        (b"", "application/json", 400, "body: invalid JSON"),
        (b"[]", "application/json", 422, "body: no rows to score"),
        (b'{"age": 1}', "application/json", 400, "expected a JSON array of records"),
        (b"[1, 2]", "application/json", 422, "row 1: expected an object of column values, got 1"),
        (b"[[1, 2]]", "application/json", 422, "row 1: 2 values, but the model takes 6 columns"),
        (b'[{"age": ', "application/json", 400, "body: invalid JSON at line 1"),
        (b'["\xff"]', "application/json", 400, "body: not UTF-8"),
        (b"age,income\n1,2\n", "text/csv", 422, "body: missing column 'spend'"),
        (b"", "text/csv", 422, "body: no rows to score"),
        (b"a,b\n1,2\n3,4,5,6\n", "text/csv", 400, "body: line 3 has 4 fields, expected 2"),
        (b"<x/>", "application/xml", 415, "content-type must be application/json or text/csv"),
    ],
)
def test_bad_bodies(client, body, ctype, status, words):
    r = client.post("/models/mixed/score", content=body, headers={"content-type": ctype})
    assert r.status_code == status
    assert words in detail(r)


def test_unknown_model_and_bad_query(client, files):
    r = client.post("/models/nope/score", json=records(files["frame"], 1))
    assert (
        r.status_code == 404 and detail(r) == "model 'nope' not found; served: impute, mixed, seq"
    )
    assert client.get("/models/nope").status_code == 404
    r = client.post("/models/mixed/score?reasons=0", json=records(files["frame"], 1))
    assert r.status_code == 422 and detail(r).startswith("query reasons:")
    r = client.post("/models/mixed/score?explain=maybe", json=records(files["frame"], 1))
    assert r.status_code == 422 and detail(r).startswith("query explain:")


def test_unseen_category_and_wrong_sequence_length_are_scored_and_warned(client, files):
    rows = records(files["frame"], 2)
    rows[1]["city"] = "Atlantis"
    body = client.post("/models/mixed/score", json=rows).json()
    assert body["warnings"] == [
        "row 2 column 'city': category 'Atlantis' was not seen in training; scored as unusual"
    ]
    normal = files["seq_frame"]["sequence"].iloc[0]
    body = client.post(
        "/models/seq/score", json=[{"sequence": normal}, {"sequence": normal[:5]}]
    ).json()
    assert body["warnings"] == [
        "row 2 column 'sequence': 5 tokens, the model expects 8; "
        "padded or cut and scored as unusual"
    ]
    assert body["scores"][1] > body["scores"][0]


def test_size_and_row_limits(client, files):
    many = records(files["frame"], 300) * 2  # 600 rows > max_rows=500
    r = client.post("/models/mixed/score", json=many)
    assert (
        r.status_code == 413
        and detail(r) == "body: 600 rows, more than max_rows=500 in one request"
    )
    huge = b"[" + b" " * 300_000 + b"]"
    r = client.post(
        "/models/mixed/score", content=huge, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and "max_body_bytes=200000" in detail(r)

    def chunks():  # no content-length: the limit holds while streaming
        for _ in range(30):
            yield b" " * 10_000

    r = client.post(
        "/models/mixed/score", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_timeout_gives_503(served, files, monkeypatch):
    import aedetect.serve.app as app_module

    real = app_module.score_rows

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "score_rows", slow)
    c = TestClient(create_app(served, Limits(timeout_s=0.05)))
    r = c.post("/models/mixed/score", json=records(files["frame"], 1))
    assert r.status_code == 503 and "timeout_s=0.05" in detail(r)


def test_bearer_token(served, files):
    c = TestClient(create_app(served, token="s3cret"))
    assert c.get("/health").status_code == 200
    r = c.get("/models")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert c.get("/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = {"Authorization": "Bearer s3cret"}
    assert c.get("/models", headers=ok).status_code == 200
    r = c.post("/models/mixed/score", json=records(files["frame"], 1))
    assert r.status_code == 401
    assert (
        c.post("/models/mixed/score", json=records(files["frame"], 1), headers=ok).status_code
        == 200
    )


# ------------------------------------------------------------- concurrency
def test_concurrent_requests_give_the_same_numbers(client, files):
    frame = files["frame"]
    bodies = [records(frame, 5 + 7 * k, 3 * k) for k in range(12)]
    alone = [client.post("/models/mixed/score", json=b).json()["scores"] for b in bodies]
    start = threading.Barrier(12)

    def send(body):
        start.wait()
        return client.post("/models/mixed/score", json=body).json()["scores"]

    with ThreadPoolExecutor(12) as pool:
        together = list(pool.map(send, bodies * 1))
    assert together == alone


# ---------------------------------------------------------- model files
def test_tampered_model_refuses_to_start(files):
    bad = tamper(files["mixed"], files["folder"])
    with pytest.raises(ModelFileError, match="tampered-mixed.aedetect: checksum mismatch"):
        load_models([files["seq"], bad])
    result = CliRunner().invoke(cli_app, ["serve", str(bad)])
    assert result.exit_code == 1
    assert "tampered-mixed.aedetect: checksum mismatch" in result.output


def test_model_names_and_serve_options(files):
    with pytest.raises(ConfigError, match="two models are named 'mixed'"):
        load_models([files["mixed"], files["mixed"]])
    with pytest.raises(ConfigError, match="model name 'a b'"):
        load_models([f"a b={files['mixed']}"])
    result = CliRunner().invoke(cli_app, ["serve", str(files["mixed"]), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token-file" in result.output
    empty = files["folder"] / "token.txt"
    empty.write_text("\n")
    result = CliRunner().invoke(
        cli_app, ["serve", str(files["mixed"]), "--host", "0.0.0.0", "--token-file", str(empty)]
    )
    assert (
        result.exit_code == 1 and "token.txt: the token file must hold one token" in result.output
    )
    with pytest.raises(ConfigError, match="max_rows must be a positive integer"):
        Limits(max_rows=0)


def test_series_model_refused_at_start(files, monkeypatch):
    import uvicorn

    def never(*args, **kwargs):
        raise AssertionError("the service started")

    monkeypatch.setattr(uvicorn.Server, "run", never)
    wave = series_model(files["folder"])
    with pytest.raises(ConfigError, match="wave.aedetect: a time-series model cannot be served"):
        load_models([files["mixed"], wave])
    result = CliRunner().invoke(cli_app, ["serve", str(files["mixed"]), str(wave), "--port", "0"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert "wave.aedetect: a time-series model cannot be served" in result.output
    assert "aedetect score" in result.output


def test_port_in_use_is_one_line(files, monkeypatch):
    import socket

    import uvicorn

    started = []

    def run(self, sockets=None):  # uvicorn serves on the socket bound before it started
        started.extend(s.getsockname()[1] for s in sockets)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["serve", str(files["mixed"]), "--port", str(port)])
    assert result.exit_code == 1 and not started
    assert result.output == f"error: port {port} on 127.0.0.1 is already in use: " + (
        "stop what listens there or give another --port\n"
    )
    result = CliRunner().invoke(cli_app, ["serve", str(files["mixed"]), "--port", "0"])
    assert result.exit_code == 0, result.output
    [chosen] = started
    assert chosen != 0 and f"on http://127.0.0.1:{chosen} " in result.output


def test_only_the_app_imports_fastapi():
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "aedetect"
    web = {"fastapi", "starlette", "pydantic", "uvicorn"}
    users = set()
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n.split(".")[0] in web for n in names):
                users.add(path.relative_to(src).as_posix())
    assert users == {"serve/app.py", "serve/schema.py", "cli_serve.py"}
