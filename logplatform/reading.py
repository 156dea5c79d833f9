"""Reading logs from the backend for the terminal commands (`logplatform search`): `GET /logs` page after page by
cursor, and each event as a line a person reads (time, service, level coloured, message) or as JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
            answer = http.get(f"{url.rstrip('/')}/logs", params=query, headers={"X-API-Key": api_key})
            if answer.status_code != 200:
                try:
                    body = answer.json()
                    reason = f"{body.get('field') or 'request'}: {body.get('reason')}"
                except ValueError:
                    reason = answer.text[:200]
                raise ReadError(f"the backend answered {answer.status_code}: {reason}")
            page = answer.json()
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
