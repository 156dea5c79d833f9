"""One error body for every request the API refuses: `{"status", "field", "reason"}`.

`field` names what was wrong (a query parameter, a header, `body`, `api_key`) or is empty when nothing in the
request was. FastAPI's own validation errors and Starlette's 404/405 are answered in the same shape. An ingest
request whose events were each judged gets the per-event answer instead (`IngestResponse`), whatever its status.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException


class ErrorResponse(BaseModel):
    status: int
    field: str
    reason: str


class ApiError(Exception):
    """Raised by a route or a dependency; answered with the error body."""

    def __init__(self, status: int, reason: str, field: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.field, self.headers = status, reason, field, headers


def error_response(status: int, reason: str, field: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": status, "field": field, "reason": reason}, status_code=status, headers=headers)


@contextmanager
def engine_errors() -> Iterator[None]:
    """Elasticsearch's failures as a reading route answers them: unreachable is 503 with Retry-After (a retry can
    fix it), a refusal 502. A caller that expects a status (a 404: no data stream yet) catches it inside."""
    from elasticsearch import ApiError as EngineError
    from elasticsearch import TransportError

    try:
        yield
    except TransportError as exc:
        raise ApiError(503, "Elasticsearch is unreachable", headers={"Retry-After": "5"}) from exc
    except EngineError as exc:
        raise ApiError(502, f"Elasticsearch answered {exc.meta.status}") from exc


def described(description: str) -> dict[str, Any]:
    """An OpenAPI response entry that answers with the error body."""
    return {"model": ErrorResponse, "description": description}


def _field(loc: Sequence[int | str]) -> str:
    """("query", "page") -> "page"; ("body", "events", 0) -> "events.0"."""
    parts = [str(p) for p in loc]
    return ".".join(parts[1:] if len(parts) > 1 and parts[0] in {"query", "header", "path", "body"} else parts)


def install(app: FastAPI) -> None:
    """Registers the handlers that give every refusal the error body."""

    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.reason, exc.field, exc.headers)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, str(exc.detail), "", dict(exc.headers or {}))

    async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        return error_response(422, str(first["msg"]), _field(first["loc"]))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
