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
def engine_errors(refused_field: str | None = None) -> Iterator[None]:
    """Elasticsearch's failures as a reading route answers them: unreachable is 503 with Retry-After (a retry can
    fix it). A query it refuses (400: a type mismatch, a runaway wildcard, a value out of range) is the client's to
    fix when `refused_field` names the parameter it came from: 400 with the engine's reason; otherwise 502. A caller
    that expects a status (a 404: no data stream yet) catches it inside."""
    from elasticsearch import ApiError as EngineError
    from elasticsearch import TransportError

    try:
        yield
    except TransportError as exc:
        raise ApiError(503, "Elasticsearch is unreachable", headers={"Retry-After": "5"}) from exc
    except EngineError as exc:
        status = exc.meta.status
        # 400 is the engine refusing the query itself; its other statuses (credentials, a lost point in time,
        # overload) are not the client's to fix
        if refused_field is not None and status == 400:
            raise ApiError(400, f"Elasticsearch refused the query: {engine_reason(exc)}", refused_field) from exc
        raise ApiError(502, f"Elasticsearch answered {status}") from exc


def engine_reason(exc: Exception) -> str:
    """The engine's own words for a refusal (its root cause), short."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        causes = error.get("root_cause")
        first = causes[0] if isinstance(causes, list) and causes and isinstance(causes[0], dict) else error
        reason = first.get("reason") or error.get("reason") or error.get("type")
        if reason:
            return str(reason)[:300]
    return str(getattr(exc, "message", "") or exc)[:300]


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
