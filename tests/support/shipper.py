"""Ships lines from files to the engine the way Filebeat's filestream input does (one bulk `create` per
line: the raw line in `message`, `log.file.path`, `log.offset`, `input.type`, `host.name`).

Used where a test needs the file path but not Filebeat itself (pipeline parity, spool replay in the
backend's outage test). The real Filebeat runs in tests/filebeat/ (issue "The file path for real").
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from backend.delivery import item_status
from logplatform.cluster import Cluster

FILEBEAT = {"type": "filebeat"}


def filebeat_doc(
    line: str,
    path: Path | str,
    offset: int,
    host: str = "test-host",
    timestamp: str = "2026-01-01T00:00:00.000Z",
    agent: dict[str, str] | None = None,
    **file_identity: str,
) -> dict[str, Any]:
    """A line as Filebeat's filestream input sends it: the raw line in `message`, where it was read, by whom.
    `agent` None leaves Filebeat's own fields out; `file_identity` adds log.file.* (fingerprint, inode...)."""
    doc: dict[str, Any] = {
        "@timestamp": timestamp,
        "message": line,
        "log": {"file": {"path": str(path), **file_identity}, "offset": offset},
        "input": {"type": "filestream"},
        "host": {"name": host},
    }
    if agent is not None:
        doc["agent"] = agent
    return doc


def ship_files(cluster: Cluster, files: list[Path], data_stream: str, retry_for_s: float = 60.0) -> dict[str, int]:
    """Bulk-creates every line; returns counts by outcome ("created", "duplicate", "failed").

    Like Filebeat, items the engine refused for a reason a retry can fix (429, 5xx, and the moment after a
    restart when the ingest pipeline is not loaded yet) are sent again, for up to retry_for_s seconds.
    """
    counts = {"created": 0, "duplicate": 0, "failed": 0}
    pending: list[tuple[str, str]] = []
    for path in files:
        offset = 0
        for raw in path.read_bytes().split(b"\n"):
            if raw:
                pending.append(
                    (
                        json.dumps({"create": {"_index": data_stream}}),
                        json.dumps(filebeat_doc(raw.decode("utf-8", "replace"), path, offset, agent=FILEBEAT)),
                    )
                )
            offset += len(raw) + 1
    deadline = time.monotonic() + retry_for_s
    while pending:
        retry: list[tuple[str, str]] = []
        for start in range(0, len(pending), 1000):
            chunk = pending[start : start + 1000]
            ndjson = "".join(f"{action}\n{doc}\n" for action, doc in chunk)
            status, body = cluster.request("POST", "/_bulk?refresh=true", ndjson)
            if status != 200:
                retry += chunk
                continue
            for op, item in zip(chunk, body["items"], strict=True):
                outcome = item_status(item).kind  # the backend's rule for what a retry can fix
                if outcome in ("ok", "duplicate"):
                    counts["created" if outcome == "ok" else "duplicate"] += 1
                elif outcome == "retry":
                    retry.append(op)
                else:
                    counts["failed"] += 1
        if retry and time.monotonic() > deadline:
            counts["failed"] += len(retry)
            break
        if retry:
            time.sleep(1)
        pending = retry
    return counts
