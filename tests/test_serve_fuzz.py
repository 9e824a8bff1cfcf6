"""Schemathesis fuzzing of the service's OpenAPI schema: no request gets a 500."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")

import json  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from aedetect.serve import Limits, create_app, load_models  # noqa: E402
from serve_models import impute_model, mixed_model, sequence_model  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    paths = [mixed_model(folder, 100)[0], sequence_model(folder)[0], impute_model(folder)[0]]
    return create_app(load_models(paths), Limits(max_rows=200, max_body_bytes=50_000))


@pytest.fixture(scope="module")
def api(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def client(app):
    from fastapi.testclient import TestClient

    return TestClient(app)


# schemathesis' pytest plugin does not run under pytest 9 yet: its strategies, driven
# by Hypothesis here, test the same thing.
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def check(case) -> None:
    response = case.call()
    where = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]}"
    assert response.status_code < 500, f"{where}: {response.text}"
    if response.status_code >= 400 and response.status_code != 405:
        assert isinstance(response.json()["detail"], str), where


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_request_gets_a_server_error(api, mode):
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 4
    if mode == "negative":  # only operations with parameters can be sent invalid ones
        operations = [op for op in operations if "{name}" in op.path]
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))
        SETTINGS(given(case=strategy)(check))()


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["city_03", "north", "plus", "ABCD1QWO", "12", " 1e3", "nan", ""]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)
COLUMNS = ["age", "income", "spend", "city", "region", "plan"]


@st.composite
def rows(draw):
    n = draw(st.integers(min_value=1, max_value=4))
    out = []
    for _ in range(n):
        row = {c: draw(VALUES) for c in COLUMNS if draw(st.integers(0, 20)) > 0}
        if draw(st.integers(0, 10)) == 0:
            row[draw(st.text(max_size=5))] = draw(VALUES)
        out.append(row)
    return out


@SETTINGS
@given(body=rows(), explain=st.booleans())
def test_fuzzed_values_get_scores_or_a_4xx(client, body, explain):
    text = json.dumps(body)  # NaN and Infinity as their literals
    url = f"/models/mixed/score?explain={str(explain).lower()}"
    response = client.post(url, content=text, headers={"content-type": "application/json"})
    assert response.status_code in (200, 422), f"{text}: {response.text}"
    if response.status_code == 200:
        assert len(response.json()["scores"]) == len(body)
