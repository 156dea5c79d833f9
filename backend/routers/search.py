"""GET /logs: recent logs with filters, for the CLI to tail and search without Kibana.

Pages go two ways: `page` numbers for the first 10,000 hits (the engine's result window), and `cursor`, which has
no such limit: each answer's `next_cursor` says where the next page starts (the last timestamp shown and the ids
already shown at it, so that events sharing a timestamp are neither skipped nor repeated).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from backend.errors import ApiError, described, engine_errors
from backend.security import key_errors, require_scope
from backend.state import AppState, get_state
from logplatform.api_keys import ApiKey
from logplatform.kql import parse as parse_kql
from logplatform.kql import to_dsl as kql_dsl

router = APIRouter(tags=["search"])

LEVELS = ("trace", "debug", "info", "warning", "error", "critical")


class LogHit(BaseModel):
    id: str
    timestamp: str | None
    ingested: str | None = None  # event.ingested: when the engine received it (what `tail -f` follows)
    service: str | None
    level: str | None
    message: str | None
    source: dict[str, Any]


class SearchResponse(BaseModel):
    total: int
    page: int
    size: int
    hits: list[LogHit]
    next_cursor: str | None = None  # give it as `cursor` for the next page; none when this page was the last


def _encode_cursor(moment: int, ids: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"t": moment, "ids": ids}).encode()).decode()


# the moments a cursor may hold: the years 1-9999 in Unix milliseconds (what the engine's dates can be)
_FIRST_MS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp() * 1000)
_LAST_MS = int(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC).timestamp() * 1000)


def _decode_cursor(cursor: str) -> tuple[int, list[str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment, ids = data["t"], data["ids"]
        if not isinstance(moment, int) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError
        if not _FIRST_MS <= moment <= _LAST_MS:
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise _invalid("cursor", "not a cursor this API gave: pass next_cursor from the previous answer") from None
    return moment, ids


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


@dataclass
class LogFilters:
    """The filters of every reading route (GET /logs, GET /logs/export), as query parameters (a dependency)."""

    service: Annotated[list[str] | None, Query(description="service.name (repeatable)")] = None
    level: Annotated[list[str] | None, Query(description="log.level (repeatable): " + ", ".join(LEVELS))] = None
    q: Annotated[str | None, Query(max_length=512, description="Words in message or error.message")] = None
    kql: Annotated[
        str | None,
        Query(max_length=2048, description='Kibana query language: `service.name : "api" and not log.level : info`'),
    ] = None
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None
    until: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None

    def query(self) -> dict[str, Any]:
        """The engine's query for these filters, KQL included (a 422 naming `kql` when it does not parse)."""
        query = build_query(self.service, self.level, self.q, self.since, self.until)
        if self.kql:
            try:
                query["bool"]["must"].append(kql_dsl(parse_kql(self.kql)))
            except ValueError as exc:
                raise _invalid("kql", str(exc)) from None
            except RecursionError:
                raise _invalid("kql", "nested too deeply: use fewer parentheses") from None
        return query

    def refused_field(self) -> str:
        """The parameter a query the engine refuses came from: the free text ones (the others are checked here)."""
        return "kql" if self.kql else "q" if self.q else "query"


# What a route reading the logs may answer besides its result (GET /logs, GET /logs/export)
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **key_errors("read"),
    400: described("Elasticsearch refused the query (`kql` or `q`): `field` names it, `reason` gives the engine's"),
    422: described("A query parameter is invalid: `field` names it"),
    502: described("Elasticsearch refused the search"),
    503: described("Elasticsearch is unreachable; see Retry-After"),
}


# Elasticsearch's index.max_result_window: deeper pages go by cursor, not by a bigger page number
MAX_RESULT_WINDOW = 10_000


@router.get(
    "/logs",
    response_model=SearchResponse,
    summary="Recent logs, newest first",
    responses=READ_ERRORS,
)
async def search_logs(
    state: Annotated[AppState, Depends(get_state)],
    _key: Annotated[ApiKey | None, Depends(require_scope("read"))],
    filters: Annotated[LogFilters, Depends()],
    page: Annotated[int, Query(ge=1, le=100)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=65536, description="next_cursor of the previous answer")] = None,
    ingested_since: Annotated[
        datetime | None,
        Query(description="Events received from this moment on, oldest first (event.ingested): what tail -f follows"),
    ] = None,
) -> SearchResponse:
    from elasticsearch import NotFoundError

    if page * size > MAX_RESULT_WINDOW:
        raise _invalid(
            "page", f"page × size must be at most {MAX_RESULT_WINDOW:,}: page with cursor (next_cursor) instead"
        )
    if cursor is not None and page != 1:
        raise _invalid("page", "give cursor or page, not both")
    query = filters.query()
    sort: list[dict[str, Any]] = [{"@timestamp": {"order": "desc"}}]
    if ingested_since is not None:
        if cursor is not None:
            raise _invalid("cursor", "give cursor or ingested_since, not both")
        query["bool"]["filter"].append({"range": {"event.ingested": {"gte": _utc(ingested_since, "ingested_since")}}})
        sort = [{"event.ingested": {"order": "asc"}}, {"@timestamp": {"order": "asc"}}]
    seen_at_last: list[str] = []
    if cursor is not None:
        last, seen_at_last = _decode_cursor(cursor)
        query["bool"]["filter"].append({"range": {"@timestamp": {"lte": last, "format": "epoch_millis"}}})
        if seen_at_last:
            query["bool"]["must_not"] = [{"ids": {"values": seen_at_last}}]
    with engine_errors(filters.refused_field()):
        try:
            resp = await state.search_client.search(
                index=state.settings.data_stream,
                query=query,
                sort=sort,
                from_=(page - 1) * size,
                size=size,
                track_total_hits=True,
                ignore_unavailable=True,
            )
        except NotFoundError:
            return SearchResponse(total=0, page=page, size=size, hits=[])
    hits = [_hit(h) for h in resp["hits"]["hits"]]
    raw_hits = resp["hits"]["hits"]
    next_cursor = None
    if len(raw_hits) == size and ingested_since is None:  # a full page: there may be more
        last_moment = int(raw_hits[-1]["sort"][0])
        at_last = [h["_id"] for h in raw_hits if int(h["sort"][0]) == last_moment]
        earlier = seen_at_last if cursor is not None and last_moment == _decode_cursor(cursor)[0] else []
        next_cursor = _encode_cursor(last_moment, earlier + at_last)
    return SearchResponse(
        total=resp["hits"]["total"]["value"], page=page, size=size, hits=hits, next_cursor=next_cursor
    )


class ContextResponse(BaseModel):
    order: Literal["file", "time"]  # file: the lines around it in its file; time: its service's events around it
    event: LogHit
    before: list[LogHit]  # oldest first, up to the event
    after: list[LogHit]


def _dig(source: dict[str, Any], *path: str) -> Any:
    """A nested field of a stored event, None where it is not (or where a client sent another shape)."""
    value: Any = source
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _one(value: Any) -> Any:
    """A stored field's single value: a list of one is its element; a list of several has none to order by."""
    if isinstance(value, list):
        return value[0] if len(value) == 1 else None
    return value


def _hit(h: dict[str, Any]) -> LogHit:
    src = h["_source"]
    return LogHit(
        id=h["_id"],
        timestamp=src.get("@timestamp"),
        ingested=(src.get("event") or {}).get("ingested"),
        service=(src.get("service") or {}).get("name"),
        level=(src.get("log") or {}).get("level"),
        message=src.get("message"),
        source=src,
    )


@router.get(
    "/logs/{event_id}/context",
    response_model=ContextResponse,
    summary="The lines before and after one event",
    responses={
        **key_errors("read"),
        404: described("No event with this id"),
        422: described("A parameter is invalid: `field` names it"),
        502: described("Elasticsearch refused the search"),
        503: described("Elasticsearch is unreachable; see Retry-After"),
    },
)
async def event_context(
    state: Annotated[AppState, Depends(get_state)],
    _key: Annotated[ApiKey | None, Depends(require_scope("read"))],
    event_id: Annotated[str, Path(max_length=256, description="The event's id (`id` in GET /logs)")],
    before: Annotated[int, Query(ge=0, le=500)] = 5,
    after: Annotated[int, Query(ge=0, le=500)] = 5,
) -> ContextResponse:
    """A line shipped from a file: the lines before and after it in that file (by file offset). Any other event:
    its service's events before and after it in time."""

    async def search(query: dict[str, Any], sort: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
        if size == 0:
            return []
        with engine_errors():
            resp = await state.search_client.search(
                index=state.settings.data_stream, query=query, sort=sort, size=size, ignore_unavailable=True
            )
        found: list[dict[str, Any]] = resp["hits"]["hits"]
        return found

    matched = await search({"ids": {"values": [event_id]}}, [], 1)
    if not matched:
        raise ApiError(404, f"no event with id {event_id!r}", "event_id")
    found = matched[0]
    src = found["_source"]
    log_file = _one(_dig(src, "log", "file", "path"))
    offset = _dig(src, "log", "offset")
    if isinstance(log_file, str) and log_file and isinstance(offset, int) and not isinstance(offset, bool):
        same: list[dict[str, Any]] = [{"term": {"log.file.path": log_file}}]
        if isinstance(host := _one(_dig(src, "host", "name")), str) and host:
            same.append({"term": {"host.name": host}})
        order, field, mark = "file", "log.offset", offset
    else:
        service = _one(_dig(src, "service", "name"))
        same = [{"term": {"service.name": service}}] if isinstance(service, str) and service else []
        order, field, mark = "time", "@timestamp", _one(src.get("@timestamp"))
    not_it = [{"ids": {"values": [event_id]}}]
    earlier = await search(
        {"bool": {"filter": [*same, {"range": {field: {"lte": mark}}}], "must_not": not_it}},
        [{field: {"order": "desc"}}],
        before,
    )
    later = await search(
        {"bool": {"filter": [*same, {"range": {field: {"gt": mark}}}], "must_not": not_it}},
        [{field: {"order": "asc"}}],
        after,
    )
    return ContextResponse(
        order=order,  # type: ignore[arg-type]
        event=_hit(found),
        before=[_hit(h) for h in reversed(earlier)],
        after=[_hit(h) for h in later],
    )
