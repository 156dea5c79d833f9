"""Ships lines from files to the engine the way Filebeat's filestream input does (one bulk `create` per
line: the raw line in `message`, `log.file.path`, `log.offset`, `input.type`, `host.name`).

Used where a test needs the file path but not Filebeat itself (pipeline parity, spool replay in the
backend's outage test). The real Filebeat runs in tests/filebeat/ (issue "The file path for real").
"""

from __future__ import annotations

import json
from pathlib import Path

from logplatform.cluster import Cluster


def filebeat_doc(line: str, path: Path, offset: int, host: str = "test-host") -> dict:
    return {"@timestamp": "2026-01-01T00:00:00.000Z", "message": line,
            "log": {"file": {"path": str(path)}, "offset": offset},
            "input": {"type": "filestream"}, "host": {"name": host}, "agent": {"type": "filebeat"}}


def ship_files(cluster: Cluster, files: list[Path], data_stream: str) -> dict[str, int]:
    """Bulk-creates every line; returns counts by outcome ("created", "duplicate", "failed")."""
    counts = {"created": 0, "duplicate": 0, "failed": 0}
    ops: list[str] = []
    for path in files:
        offset = 0
        for raw in path.read_bytes().split(b"\n"):
            if raw:
                ops.append(json.dumps({"create": {"_index": data_stream}}))
                ops.append(json.dumps(filebeat_doc(raw.decode("utf-8", "replace"), path, offset)))
            offset += len(raw) + 1
    for start in range(0, len(ops), 2000):
        status, body = cluster.request("POST", "/_bulk?refresh=true", "\n".join(ops[start:start + 2000]) + "\n")
        assert status == 200, body
        for item in body["items"]:
            s = item["create"]["status"]
            counts["created" if s == 201 else "duplicate" if s == 409 else "failed"] += 1
    return counts
