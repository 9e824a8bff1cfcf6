"""The FastAPI application: health, the models, and scoring with limits.

Built by :func:`create_app` from loaded models, so tests drive it with
FastAPI's ``TestClient`` and ``aedetect serve`` runs it under uvicorn.

Concurrency: scoring runs in worker threads; the library's computation holds
:func:`aedetect.runtime.compute`'s process-wide lock with its thread and
subnormal settings, so concurrent requests get the same numbers as one at a
time (parsing runs in parallel).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from aedetect._version import __version__
from aedetect.exceptions import AedetectError, ConfigError, DataError
from aedetect.serve import schema
from aedetect.serve.limits import Limits
from aedetect.serve.registry import ServedModel
from aedetect.serve.requests import BadBodyError, TooLargeError, parse_csv, parse_json
from aedetect.serve.scoring import score_rows

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": schema.Problem, "description": text}
    for code, text in (
        (400, "The body is not valid JSON or CSV."),
        (401, "A bearer token is needed and was missing or wrong."),
        (404, "No model of that name."),
        (413, "The body or the number of rows is over the limits."),
        (415, "The body is neither JSON nor CSV."),
        (422, "A row, column or parameter is not what the model takes."),
        (503, "Scoring took longer than the timeout."),
    )
}


def _status(exc: AedetectError) -> int:
    if isinstance(exc, TooLargeError):
        return 413
    if isinstance(exc, BadBodyError):
        return 400
    if isinstance(exc, (DataError, ConfigError)):
        return 422
    return 500


def _one_line(exc: RequestValidationError) -> str:
    err = exc.errors()[0] if exc.errors() else {}
    where = " ".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid request')}".replace("\n", " ")


def _media(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("", "application/json") or kind.endswith("+json"):
        return "json"
    if kind in ("text/csv", "application/csv"):
        return "csv"
    raise HTTPException(415, f"content-type must be application/json or text/csv, got {kind!r}")


async def _body(request: Request, limit: int) -> bytes:
    """Read the body, refusing one over ``limit`` bytes before reading it all."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadBodyError(f"content-length: not a number of bytes: {length[:30]!r}")
        if int(length) > limit:
            raise TooLargeError(f"body: {length} bytes, more than max_body_bytes={limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"body: more than max_body_bytes={limit}")
        chunks.append(chunk)
    return b"".join(chunks)


def _authorizer(token: str | None) -> Any:
    expected = f"Bearer {token}".encode() if token else None

    async def authorize(request: Request) -> None:
        if expected is None:
            return
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )

    return authorize


def create_app(
    models: dict[str, ServedModel], limits: Limits | None = None, token: str | None = None
) -> FastAPI:
    """Build the scoring service over loaded models (:func:`~aedetect.serve.load_models`).

    Parameters
    ----------
    models : dict of str to ServedModel
        The models, by the name their URLs use.
    limits : Limits, optional
        Body size, rows per request, timeout; :class:`Limits` defaults when omitted.
    token : str, optional
        When given, every ``/models`` endpoint needs ``Authorization: Bearer <token>``
        (``/health`` and the docs stay open).

    Returns
    -------
    FastAPI
        Endpoints ``GET /health``, ``GET /models``, ``GET /models/{name}``,
        ``POST /models/{name}/score``; OpenAPI docs at ``/docs``.
    """
    limits = limits or Limits()
    pool = _Pool()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        yield
        pool.close()

    app = FastAPI(
        title="aedetect",
        version=__version__,
        summary="Anomaly scores from saved aedetect models.",
        lifespan=lifespan,
    )
    _handlers(app)
    guarded = [Depends(_authorizer(token))]
    _model_routes(app, models, guarded)
    _score_route(app, models, limits, pool, guarded)
    return app


def _name_param(models: dict[str, ServedModel]) -> Any:
    return Path(description="A served model.", json_schema_extra={"enum": sorted(models)})


class _Pool:
    """The worker threads that parse and score; made again after a shutdown."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def get(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aedetect-score")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _lookup(models: dict[str, ServedModel], name: str) -> ServedModel:
    if name not in models:
        served = ", ".join(sorted(models)[:20])
        raise HTTPException(404, f"model {name[:100]!r} not found; served: {served}")
    return models[name]


def _model_routes(app: FastAPI, models: dict[str, ServedModel], guarded: list[Any]) -> None:
    @app.get("/health", response_model=schema.Health)
    async def health() -> dict[str, Any]:
        """Say the service is up, with the names of its models."""
        return {"status": "ok", "models": sorted(models)}

    @app.get("/models", response_model=schema.ModelList, dependencies=guarded, responses=_PROBLEMS)
    async def list_models() -> dict[str, Any]:
        """List the served models: name, file, network, score, threshold."""
        return {"models": [models[n].summary() for n in sorted(models)]}

    @app.get(
        "/models/{name}",
        response_model=schema.ModelDescription,
        dependencies=guarded,
        responses=_PROBLEMS,
    )
    async def describe_model(name: str = _name_param(models)) -> JSONResponse:
        """Describe one model: parameters, threshold rule, expected columns and types."""
        return JSONResponse(_lookup(models, name).description())


def _score_route(
    app: FastAPI,
    models: dict[str, ServedModel],
    limits: Limits,
    pool: _Pool,
    guarded: list[Any],
) -> None:
    @app.post(
        "/models/{name}/score",
        dependencies=guarded,
        responses={200: {"model": schema.ScoreResponse}, **_PROBLEMS},
        openapi_extra={"requestBody": schema.SCORE_BODY},
    )
    async def score(
        request: Request,
        name: str = _name_param(models),
        explain: bool = Query(False, description="Add the columns that explain each row."),
        reasons: int | None = Query(
            None, ge=1, le=limits.max_reasons, description="Columns per row to explain (5)."
        ),
        top: int | None = Query(
            None, ge=1, le=limits.max_reasons, deprecated=True, description="Old name of reasons."
        ),
    ) -> JSONResponse:
        """Score rows (JSON records or CSV): scores, 0/1 flags and, with explain, columns."""
        served = _lookup(models, name)
        media = _media(request)

        async def handle() -> dict[str, Any]:
            body = await _body(request, limits.max_body_bytes)
            parse = parse_json if media == "json" else parse_csv

            def work() -> dict[str, Any]:
                rows = parse(body, served, limits.max_rows)
                return score_rows(served, rows, explain, reasons or top or 5)

            return await asyncio.get_running_loop().run_in_executor(pool.get(), work)

        try:
            result = await asyncio.wait_for(handle(), limits.timeout_s)
        except TimeoutError:
            raise HTTPException(
                503,
                f"the request took longer than timeout_s={limits.timeout_s:g}; send fewer rows",
                headers={"Retry-After": "1"},
            ) from None
        return JSONResponse(result)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(AedetectError)
    async def library_error(request: Request, exc: AedetectError) -> JSONResponse:
        status = _status(exc)
        if status == 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": str(exc).splitlines()[0][:500]}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)
