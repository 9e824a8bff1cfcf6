"""What the service's endpoints return and take, for its OpenAPI document (``/docs``).

The response models document; the endpoints build plain dicts (no second
validation pass on the way out). The request body is read raw, so its schema
is written here by hand.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "SCORE_BODY",
    "ColumnFacts",
    "Explained",
    "Health",
    "ModelDescription",
    "ModelList",
    "ModelSummary",
    "Problem",
    "ScoreResponse",
]

_VALUE = {"type": ["number", "string", "boolean", "null"]}

#: OpenAPI ``requestBody`` of ``POST /models/{name}/score``.
SCORE_BODY: dict[str, Any] = {
    "required": True,
    "description": "Rows to score: a JSON array of records (one object per row, keyed by "
    "column), or of value lists in the model's column order; or a CSV text with a header.",
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "anyOf": [
                        {"type": "object", "additionalProperties": _VALUE},
                        {"type": "array", "items": _VALUE},
                    ]
                },
            },
            "example": [{"age": 42, "income": 52000, "city": "city_03"}],
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "age,income,city\n42,52000,city_03\n",
        },
    },
}


class Problem(BaseModel):
    """Why a request was refused: one line naming the field, row or column."""

    detail: str


class Health(BaseModel):
    """The service is up and these models are loaded."""

    status: str
    models: list[str]


class ModelSummary(BaseModel):
    """One served model, briefly."""

    name: str
    file: str
    model: str
    score: str
    n_columns: int
    threshold: float


class ModelList(BaseModel):
    """Every served model."""

    models: list[ModelSummary]


class ColumnFacts(BaseModel):
    """One input column: ``number``, ``category`` (with its known categories) or ``sequence``."""

    name: str
    type: str
    categories: list[str] | None = None
    n_categories: int | None = None
    length: int | None = None
    token_sep: str | None = None
    tokens: list[str] | None = None


class ModelDescription(ModelSummary):
    """A served model: parameters, threshold rule, expected columns and their types."""

    aedetect_version: str
    threshold_rule: str
    missing: str
    id_column: str | None
    label_column: str | None
    image_shape: list[int] | None
    columns: list[ColumnFacts]
    params: dict[str, Any]


class Explained(BaseModel):
    """One column of one row: the value seen, the value expected, its error and share."""

    column: str
    seen: Any
    expected: Any
    error: float | None
    share: float | None


class ScoreResponse(BaseModel):
    """Scores (higher = more anomalous) and 0/1 flags, one per row, in request order."""

    model: str
    rows: int
    threshold: float
    scores: list[float | None]
    is_anomaly: list[int]
    ids: list[Any] | None = None
    explanations: list[list[Explained]] | None = None
    warnings: list[str]
