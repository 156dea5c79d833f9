"""POST /logs and POST /logs/ndjson: events in, one answer per event."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from backend.body import NDJSON_TYPES, BadLine, BodyError, decode, media_type, read_limited
from backend.delivery import DUPLICATE, FAILED, INDEXED, QUEUED, REJECTED, Result
from backend.errors import described, error_response
from backend.events import SEED_EXAMPLE, Accepted, FieldError, Limits, Rejected, check_events
from backend.request_route import RequestOnlyRoute
from backend.security import key_errors, require_scope
from backend.state import AppState, state_of
from logplatform.api_keys import ApiKey

router = APIRouter(tags=["ingest"], route_class=RequestOnlyRoute)
log = logging.getLogger("backend.ingest")


class ItemError(BaseModel):
    field: str
    reason: str


class Item(BaseModel):
    index: int
    status: Literal["indexed", "queued", "duplicate", "rejected", "failed"]
    id: str | None = None
    errors: list[ItemError] | None = None


class IngestResponse(BaseModel):
    accepted: int
    indexed: int
    queued: int
    duplicate: int = 0
    rejected: int
    failed: int
    errors: bool
    items: list[Item]


_EXAMPLES = {
    "seed": {"summary": "The seed's example", "value": SEED_EXAMPLE},
    "ecs": {
        "summary": "An ECS-shaped event",
        "value": {
            "@timestamp": "2026-01-31T12:00:00.000Z",
            "service": {"name": "payment-service"},
            "log.level": "warning",
            "message": "Payment retry scheduled",
            "event": {"id": "0b0cbe8e-2f6c-4a8e-9a55-0b1e4f7f1a01"},
            "user": {"id": "u-42"},
            "http": {"request": {"method": "POST"}, "response": {"status_code": 502}},
        },
    },
    "array": {
        "summary": "Several events",
        "value": [SEED_EXAMPLE, {**SEED_EXAMPLE, "level": "INFO", "message": "Login succeeded"}],
    },
}

_NDJSON_EXAMPLE = '{"service":"a","message":"one"}\n{"service":"a","message":"two"}\n'

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Every accepted event is indexed (some may be rejected: see items)"},
    202: {"model": IngestResponse, "description": "Accepted; some events are queued in the spool for later indexing"},
    400: described("Body is not valid JSON / UTF-8 / gzip"),
    **key_errors("ingest"),
    408: described("The body did not arrive within the body timeout"),
    413: described("Body or event count over the limit"),
    415: described("Content-Type or Content-Encoding not supported"),
    422: {"model": IngestResponse, "description": "No event could be indexed as sent: each item says why"},
    429: described("Rate limit of this API key; see Retry-After"),
    503: {"model": IngestResponse, "description": "Events could not be made durable; retry after Retry-After"},
}


def _status(counts: dict[str, int]) -> tuple[int, dict[str, str]]:
    """One rule for every outcome. 503 + Retry-After only while an event is not durable and a retry can fix
    that (`failed`); events that can never be indexed as sent (`rejected`) never make a request retryable."""
    if counts[FAILED]:
        return 503, {"Retry-After": "5"}
    if counts[QUEUED]:
        return 202, {}
    if counts[INDEXED] or counts[DUPLICATE]:
        return 200, {}
    return 422, {}


def _error(status: int, reason: str, field: str = "body", headers: dict[str, str] | None = None) -> JSONResponse:
    return error_response(status, reason, field, headers)


async def _ingest(request: Request, key: ApiKey | None, force_ndjson: bool) -> Response:
    """Read the body, refuse what is wrong with the request as a whole, then judge and deliver each event."""
    state = state_of(request)
    events = await _read_events(request, state, force_ndjson)
    if isinstance(events, JSONResponse):
        return events
    refused = over_the_limits(events, state, key)
    if refused is not None:
        return refused
    checked = check_events(
        events, Limits(state.settings.max_depth, state.settings.max_keys), key.id if key is not None else None
    )
    # a BadLine is not an object, so it is rejected there; say why the line was not an event
    rejected = {
        r.index: Rejected(r.index, [FieldError("$", events[r.index].reason)])
        if isinstance(events[r.index], BadLine)
        else r
        for r in checked.rejected
    }
    accepted: list[Accepted] = checked.accepted
    state.metrics.events.labels("rejected").inc(len(rejected))
    state.metrics.events.labels("accepted").inc(len(accepted))
    results = await state.delivery.submit([a.line for a in accepted]) if accepted else []
    return _answer(state, rejected, accepted, results)


async def _read_events(request: Request, state: AppState, force_ndjson: bool) -> list[Any] | JSONResponse:
    """The events of the body (JSON, an array or NDJSON, gzip or not), or the answer refusing the body."""
    s = state.settings
    content_type = request.headers.get("content-type")
    if force_ndjson:
        if content_type is None:
            content_type = NDJSON_TYPES[0]
        elif media_type(content_type) not in NDJSON_TYPES:
            return _error(415, "this endpoint takes application/x-ndjson", "content-type")
    try:
        body = await read_limited(
            request.stream(), request.headers.get("content-encoding"), s.max_body_bytes, s.body_timeout_s
        )
        events: list[Any] = decode(body, content_type)
    except ClientDisconnect:
        # the client went away mid-body: nothing was accepted, nobody is there to answer; not our error
        state.metrics.client_disconnects.inc()
        log.debug("client disconnected while sending the body of %s", request.url.path)
        return _error(400, "client disconnected before the body was complete")
    except BodyError as exc:
        state.metrics.requests_rejected.labels(str(exc.status)).inc()
        return _error(exc.status, exc.reason, exc.field, {"Connection": "close"} if exc.status == 408 else None)
    if not events:
        return _error(400, "no events in the body")
    return events


def over_the_limits(events: list[Any], state: AppState, key: ApiKey | None) -> JSONResponse | None:
    """The answer refusing a request with too many events, or over its key's rate; None when within both."""
    s = state.settings
    if len(events) > s.max_events_per_request:
        state.metrics.requests_rejected.labels("413").inc()
        return _error(413, f"{len(events)} events in one request; at most {s.max_events_per_request}")
    if key is not None:
        wait = state.limiter.take(key, len(events))
        if wait:
            state.metrics.requests_rejected.labels("429").inc()
            return _error(
                429,
                f"rate limit of this API key ({key.rate_limit_per_s:g} events/s)",
                "api_key",
                {"Retry-After": str(int(wait))},
            )
    return None


def _answer(
    state: AppState, rejected: dict[int, Rejected], accepted: list[Accepted], results: list[Result]
) -> Response:
    """Each event's outcome, in the order sent, and the one status for the request (_status)."""
    # plain dicts (the IngestResponse model documents the shape): this is the hot path of every request
    items: list[dict[str, Any]] = [
        {"index": r.index, "status": "rejected", "errors": [{"field": e.field, "reason": e.reason} for e in r.errors]}
        for r in rejected.values()
    ]
    counts = {INDEXED: 0, QUEUED: 0, DUPLICATE: 0, FAILED: 0, REJECTED: len(rejected)}
    for a, result in zip(accepted, results, strict=True):
        counts[result.status] += 1
        # a refused event is "rejected" like an invalid one: its status, field and reason, never retried
        item: dict[str, Any] = {"index": a.index, "status": result.status, "id": a.event_id}
        if result.reason:
            item["errors"] = [{"field": result.field, "reason": result.reason}]
        items.append(item)
    if rejected:  # the invalid events were listed first; the engine's answers come in submission order
        items.sort(key=lambda i: i["index"])
    status, headers = _status(counts)
    response = {
        "accepted": counts[INDEXED] + counts[QUEUED] + counts[DUPLICATE] + counts[FAILED],
        "indexed": counts[INDEXED],
        "queued": counts[QUEUED],
        "duplicate": counts[DUPLICATE],
        "rejected": counts[REJECTED],
        "failed": counts[FAILED],
        "errors": bool(counts[REJECTED] or counts[FAILED]),
        "items": items,
    }
    if status >= 400:
        state.metrics.requests_rejected.labels(str(status)).inc()
    return Response(orjson.dumps(response), status_code=status, headers=headers, media_type="application/json")


@router.post(
    "/logs",
    response_model=IngestResponse,
    responses=_RESPONSES,
    summary="Send one event or an array",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/EventModel"},
                            {"type": "array", "items": {"$ref": "#/components/schemas/EventModel"}},
                        ]
                    },
                    "examples": _EXAMPLES,
                },
                "application/x-ndjson": {"schema": {"type": "string"}, "example": _NDJSON_EXAMPLE},
            },
        }
    },
)
async def post_logs(
    request: Request,
    key: Annotated[ApiKey | None, Depends(require_scope("ingest"))],
) -> Response:
    """Events as JSON (one object or an array) or NDJSON (`Content-Type: application/x-ndjson`).

    Each event needs `service` and `message`; everything else is free (see docs/event-schema.md).
    The answer has one item per event: `indexed`, `queued` (in the spool, indexed later), `duplicate` (this key sent
    an event with this `event.id` before: it is stored once, success for a retry),
    `rejected` (with field and reason) or `failed` (not durable: send it again).
    """
    return await _ingest(request, key, force_ndjson=False)


@router.post(
    "/logs/ndjson",
    response_model=IngestResponse,
    responses=_RESPONSES,
    summary="Send an NDJSON batch",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}, "example": _NDJSON_EXAMPLE}},
        }
    },
)
async def post_ndjson(
    request: Request,
    key: Annotated[ApiKey | None, Depends(require_scope("ingest"))],
) -> Response:
    """One event per line, the way log shippers batch. A line that is not JSON is rejected alone."""
    return await _ingest(request, key, force_ndjson=True)
