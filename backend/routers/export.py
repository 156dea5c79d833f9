"""GET /logs/export: every event the filters match, streamed as NDJSON or CSV, with no cap and in constant memory.

Underneath: a point in time on the data stream (one consistent view of it, events indexed meanwhile left out)
paged with search_after on (@timestamp, _shard_doc), newest first, 1,000 events a page. The answer's
`X-Logplatform-Total` header says how many events the export holds; the stream is cut short (its chunked
encoding left unfinished, which every HTTP client reports) if the engine fails midway, so an incomplete export
never looks complete. `logplatform export` pages GET /logs by cursor instead, which can resume after hours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from backend.point_in_time import PointInTime
from backend.routers.search import READ_ERRORS, LogFilters
from backend.security import require_scope
from backend.state import AppState, get_state
from logplatform.api_keys import ApiKey
from logplatform.event_rows import CSV_HEADER, csv_row, ndjson_line

router = APIRouter(tags=["search"])

PAGE = 1_000
CLOSE_TIMEOUT_S = 5.0  # closing the point in time after the stream: the engine frees it after its keep-alive anyway
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


class _ExportResponse(StreamingResponse):
    """The stream, and its point in time closed on the engine however it ends: read to the end, cut short by the
    engine, or abandoned by the client (the stream is then cancelled, and an await inside the stream's own
    `finally` would be cancelled too: the close is shielded, and bounded in time)."""

    def __init__(self, pit: PointInTime, content: AsyncIterator[str], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.pit = pit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.move_on_after(CLOSE_TIMEOUT_S, shield=True):
                await self.pit.close()


@router.get(
    "/logs/export",
    summary="Every matching event, streamed (NDJSON or CSV), newest first",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The events; `X-Logplatform-Total` says how many",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        },
        **READ_ERRORS,
    },
)
async def export_logs(
    state: Annotated[AppState, Depends(get_state)],
    _key: Annotated[ApiKey | None, Depends(require_scope("read"))],
    filters: Annotated[LogFilters, Depends()],
    format: Annotated[Literal["ndjson", "csv"], Query(description="ndjson (one document a line) or csv")] = "ndjson",  # noqa: A002 - the parameter's public name
) -> StreamingResponse:
    query = filters.query()
    row = csv_row if format == "csv" else ndjson_line
    pit = PointInTime(state.search_client, state.settings.data_stream, filters.refused_field())
    # the first page before the answer starts: an engine that is down or refuses gets its status code
    first = await pit.first_page(query, PAGE)

    async def body() -> AsyncIterator[str]:
        if format == "csv":
            yield CSV_HEADER
        page: list[dict[str, Any]] = first.hits
        while page:
            yield "".join(row(h["_id"], h["_source"]) for h in page)
            if len(page) < PAGE:
                break
            page = await pit.next_page(query, PAGE, page[-1]["sort"])

    return _ExportResponse(
        pit,
        body(),
        media_type=MEDIA_TYPES[format],
        headers={
            "X-Logplatform-Total": str(first.total),
            "Content-Disposition": f'attachment; filename="logs.{format}"',
        },
    )
