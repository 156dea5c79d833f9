"""`logplatform export`: every event a query matches into a file (NDJSON or CSV), with no cap, in constant memory,
and resumable.

It pages `GET /logs` by cursor (newest first), 500 events a request. After each page is on disk it writes, beside
the file, `<file>.cursor`: where the next page starts and how many bytes the file had then. `--resume` cuts the
file back to that size (a page half-written when the export was stopped goes) and goes on from that cursor, so
every event is in the file once however often the export is stopped. The state file goes when the export ends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from logplatform.event_rows import CSV_HEADER, csv_row, ndjson_line
from logplatform.files import draft_of, replace_whole
from logplatform.reading import get

PAGE = 500


def state_file(output: Path) -> Path:
    return output.with_name(output.name + ".cursor")


def export(
    url: str,
    api_key: str,
    params: dict[str, Any],
    output: Path,
    fmt: str,
    resume: bool = False,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    client: httpx.Client | None = None,
) -> int:
    """Writes every matching event; returns how many this run wrote. progress(written so far, total)."""
    state = state_file(output)
    cursor: str | None = None
    if resume:
        if not state.exists():
            raise FileNotFoundError(f"nothing to resume: {state} is not there (the export ended, or never began)")
        saved = json.loads(state.read_text())
        cursor = saved["cursor"]
        with output.open("r+b") as f:
            f.truncate(saved["bytes"])
    http = client or httpx.Client(timeout=120)
    written = 0
    try:
        with output.open("a" if resume else "w", encoding="utf-8", newline="") as f:
            if not resume and fmt == "csv":
                f.write(CSV_HEADER)
            while True:
                query = {**params, "size": PAGE, **({"cursor": cursor} if cursor else {})}
                page = get(http, url, api_key, query)
                for hit in page["hits"]:
                    row = csv_row if fmt == "csv" else ndjson_line
                    f.write(row(hit["id"], hit["source"]))
                written += len(page["hits"])
                f.flush()
                os.fsync(f.fileno())
                cursor = page.get("next_cursor")
                if not cursor:
                    break
                # whole or not at all: a kill while it is written leaves the previous one
                replace_whole(state, json.dumps({"cursor": cursor, "bytes": f.tell()}), durable=True)
                progress(written, written + page["total"] - len(page["hits"]))
        state.unlink(missing_ok=True)
        draft_of(state).unlink(missing_ok=True)  # left by a kill while a state was written
    finally:
        if client is None:
            http.close()
    return written
