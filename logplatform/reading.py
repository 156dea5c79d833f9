"""Reading logs from the backend for the terminal commands (`logplatform search`, `logplatform tail`): `GET /logs`
page after page by cursor, following what arrives by ingest time, and each event as a line a person reads (time,
service, level coloured, message) or as JSON."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from rich.text import Text

LEVEL_STYLES = {
    "trace": "dim",
    "debug": "dim",
    "info": "green",
    "warning": "yellow",
    "error": "bold red",
    "critical": "bold white on red",
}
_SPAN = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ReadError(Exception):
    """The backend refused the search: its status and reason, said as they are."""


def since(span: str, now: datetime | None = None) -> str:
    """`15m`, `2h`, `7d` before now, as the ISO 8601 moment GET /logs takes."""
    match = _SPAN.match(span.strip())
    if not match:
        raise ValueError(f"--since {span!r}: a number and s, m, h or d (15m, 2h, 7d)")
    moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return moment.isoformat()


def hits(
    url: str, api_key: str, params: dict[str, Any], limit: int, client: httpx.Client | None = None
) -> Iterator[dict[str, Any]]:
    """Up to `limit` hits of GET /logs, newest first, following next_cursor from page to page."""
    http = client or httpx.Client(timeout=60)
    try:
        shown = 0
        query = {**params, "size": min(limit, 500)}
        while shown < limit:
            page = get(http, url, api_key, query)
            for hit in page["hits"][: limit - shown]:
                yield hit
                shown += 1
            if not page.get("next_cursor"):
                return
            query = {**params, "size": min(limit - shown, 500), "cursor": page["next_cursor"]}
    finally:
        if client is None:
            http.close()


def as_json(hit: dict[str, Any]) -> str:
    return json.dumps({"_id": hit["id"], **hit["source"]}, ensure_ascii=False)


def as_text(hit: dict[str, Any]) -> Text:
    level = (hit.get("level") or "").lower()
    line = Text()
    line.append(f"{hit.get('timestamp') or '-'} ", style="dim")
    line.append(f"{hit.get('service') or '-'} ", style="cyan")
    line.append(f"{(level or '-').upper():8} ", style=LEVEL_STYLES.get(level, ""))
    line.append(hit.get("message") or "")
    return line


def _ingested(hit: dict[str, Any]) -> datetime:
    stamp = hit.get("ingested") or hit.get("timestamp")
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else datetime.now(UTC)


def follow(
    url: str,
    api_key: str,
    params: dict[str, Any],
    backlog: int,
    emit: Callable[[dict[str, Any]], None],
    stop: Callable[[], bool] = lambda: False,
    client: httpx.Client | None = None,
    poll_s: float = 1.0,
    overlap: timedelta = timedelta(seconds=10),
) -> None:
    """The last `backlog` events (oldest first), then every event received after them, once, in the order the
    engine received them, until stop() says so. An event is searchable only after the next refresh, so each poll
    reads back `overlap` before the newest ingest time seen and skips the ids already shown."""
    http = client or httpx.Client(timeout=60)
    try:
        recent = list(hits(url, api_key, params, backlog, http)) if backlog else []
        for hit in reversed(recent):
            emit(hit)
        shown = {hit["id"]: _ingested(hit) for hit in recent}
        # what was received before now is the backlog's, shown or not: only what arrives from now on follows it
        mark = _poll(http, url, api_key, params, datetime.now(UTC) - overlap, shown, None, stop)
        while not stop():
            mark = _poll(http, url, api_key, params, mark - overlap, shown, emit, stop)
            shown = {i: at for i, at in shown.items() if at >= mark - overlap}
            time.sleep(poll_s)
    finally:
        if client is None:
            http.close()


def _poll(
    http: httpx.Client,
    url: str,
    api_key: str,
    params: dict[str, Any],
    lower: datetime,
    shown: dict[str, datetime],
    emit: Callable[[dict[str, Any]], None] | None,
    stop: Callable[[], bool],
) -> datetime:
    """Every event received from `lower` on, oldest first, page after page: those not shown yet are emitted (or,
    without emit, only remembered). Returns the newest ingest time seen."""
    newest = lower
    while not stop():
        page = get(http, url, api_key, {**params, "ingested_since": lower.isoformat(), "size": 500})["hits"]
        for hit in page:
            if hit["id"] not in shown:
                if emit is not None:
                    emit(hit)
                shown[hit["id"]] = _ingested(hit)
        if page:
            newest = max(newest, _ingested(page[-1]))
            lower = max(lower, _ingested(page[-1]))
        if len(page) < 500:
            break
    return newest


def context(url: str, api_key: str, event_id: str, before: int, after: int) -> dict[str, Any]:
    """GET /logs/{id}/context: the event and the lines around it (order: file or time)."""
    with httpx.Client(timeout=60) as http:
        return get(http, url, api_key, {"before": before, "after": after}, f"/logs/{event_id}/context")


def get(http: httpx.Client, url: str, api_key: str, query: dict[str, Any], path: str = "/logs") -> dict[str, Any]:
    """One answer of GET /logs (or another read route), or ReadError with the backend's status, field and reason."""
    answer = http.get(f"{url.rstrip('/')}{quote(path)}", params=query, headers={"X-API-Key": api_key})
    if answer.status_code != 200:
        try:
            body = answer.json()
            reason = f"{body.get('field') or 'request'}: {body.get('reason')}"
        except ValueError:
            reason = answer.text[:200]
        raise ReadError(f"the backend answered {answer.status_code}: {reason}")
    page: dict[str, Any] = answer.json()
    return page
