"""GET /logs: recent logs with filters, for the CLI to tail and search without Kibana."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from backend.errors import ApiError, described
from backend.security import require_scope
from backend.state import AppState, get_state
from logplatform.api_keys import ApiKey

router = APIRouter(tags=["search"])

LEVELS = ("trace", "debug", "info", "warning", "error", "critical")


class LogHit(BaseModel):
    id: str
    timestamp: str | None
    service: str | None
    level: str | None
    message: str | None
    source: dict[str, Any]


class SearchResponse(BaseModel):
    total: int
    page: int
    size: int
    hits: list[LogHit]


def _utc(moment: datetime, name: str) -> str:
    """In UTC (Elasticsearch refuses offsets beyond ±18:00 that Python accepts); naive means UTC."""
    try:
        return (moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    except OverflowError:
        raise _invalid(name, "outside the years 1-9999 once in UTC") from None


def _invalid(param: str, msg: str) -> ApiError:
    """A 422 naming the query parameter, as FastAPI's own validation errors are answered (backend.errors)."""
    return ApiError(422, msg, param)


def build_query(
    service: list[str] | None, level: list[str] | None, q: str | None, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    filters: list[dict[str, Any]] = []
    if service:
        filters.append({"terms": {"service.name": service}})
    if level:
        filters.append({"terms": {"log.level": [lv.lower() for lv in level]}})
    if since or until:
        rng: dict[str, str] = {}
        if since:
            rng["gte"] = _utc(since, "since")
        if until:
            rng["lte"] = _utc(until, "until")
        filters.append({"range": {"@timestamp": rng}})
    must: list[dict[str, Any]] = []
    if q:
        must.append(
            {"simple_query_string": {"query": q, "fields": ["message", "error.message"], "default_operator": "and"}}
        )
    return {"bool": {"filter": filters, "must": must}}


# Elasticsearch's index.max_result_window: deeper pages need since/until, not a bigger page number
MAX_RESULT_WINDOW = 10_000


@router.get(
    "/logs",
    response_model=SearchResponse,
    summary="Recent logs, newest first",
    responses={
        401: described("Missing, unknown or revoked API key"),
        422: described("A query parameter is invalid: `field` names it"),
        502: described("Elasticsearch refused the search"),
        503: described("Elasticsearch is unreachable; see Retry-After"),
    },
)
async def search_logs(
    state: Annotated[AppState, Depends(get_state)],
    _key: Annotated[ApiKey | None, Depends(require_scope("read"))],
    service: Annotated[list[str] | None, Query(description="service.name (repeatable)")] = None,
    level: Annotated[list[str] | None, Query(description="log.level (repeatable): " + ", ".join(LEVELS))] = None,
    q: Annotated[str | None, Query(max_length=512, description="Words in message or error.message")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    page: Annotated[int, Query(ge=1, le=100)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SearchResponse:
    from elasticsearch import ApiError as EngineError
    from elasticsearch import TransportError

    if page * size > MAX_RESULT_WINDOW:
        raise _invalid(
            "page", f"page × size must be at most {MAX_RESULT_WINDOW:,}: narrow the search with since/until instead"
        )
    try:
        resp = await state.search_client.search(
            index=state.settings.data_stream,
            query=build_query(service, level, q, since, until),
            sort=[{"@timestamp": {"order": "desc"}}],
            from_=(page - 1) * size,
            size=size,
            track_total_hits=True,
            ignore_unavailable=True,
        )
    except EngineError as exc:
        if exc.meta.status == 404:
            return SearchResponse(total=0, page=page, size=size, hits=[])
        raise ApiError(502, f"Elasticsearch answered {exc.meta.status}") from exc
    except TransportError as exc:
        raise ApiError(503, "Elasticsearch is unreachable", headers={"Retry-After": "5"}) from exc
    hits = []
    for h in resp["hits"]["hits"]:
        src = h["_source"]
        hits.append(
            LogHit(
                id=h["_id"],
                timestamp=src.get("@timestamp"),
                service=(src.get("service") or {}).get("name"),
                level=(src.get("log") or {}).get("level"),
                message=src.get("message"),
                source=src,
            )
        )
    return SearchResponse(total=resp["hits"]["total"]["value"], page=page, size=size, hits=hits)
