"""An exported event as a line of NDJSON or a row of CSV: one format for `logplatform export` and GET /logs/export."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

CSV_COLUMNS = ("@timestamp", "service.name", "log.level", "message", "_id")
CSV_HEADER = ",".join(CSV_COLUMNS) + "\r\n"


def ndjson_line(doc_id: str, source: dict[str, Any]) -> str:
    """One exported event: its document with its id first (the CLI's and GET /logs/export's format)."""
    return json.dumps({"_id": doc_id, **source}, ensure_ascii=False) + "\n"


def csv_row(doc_id: str, source: dict[str, Any]) -> str:
    def leaf(dotted: str) -> Any:
        value: Any = source
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    buffer = io.StringIO()
    csv.writer(buffer).writerow([*(leaf(c) if c != "@timestamp" else source.get(c) for c in CSV_COLUMNS[:-1]), doc_id])
    return buffer.getvalue()
